"""Analyze through the engine and the servers: levels-only replies, notebook analysis types, exported rules served."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from conftest import ServeProcess

from codette_lab.engine import Engine
from codette_lab.rules import RuleSet

LEVELS_REQUEST = {
    "type": "analyze",
    "track_data": {
        "track_id": "track_001",
        "track_name": "Lead Vocal",
        "track_type": "vocal",
        "muted": False,
        "soloed": False,
    },
    "audio_data": {"peak_level": -6.0, "rms_level": -18.0, "duration": 120.5, "sample_rate": 44100},
    "analysis_type": "spectrum",
}


def ask(engine: Engine, message: dict) -> dict:
    return engine.respond(json.dumps(message))


def with_changes(message: dict, **changes) -> dict:
    changed = json.loads(json.dumps(message))
    for dotted, value in changes.items():
        section, _, field = dotted.partition("__")
        if field:
            changed[section][field] = value
        else:
            changed[section] = value
    return changed


def test_the_documents_example_request_gets_a_specific_answer():
    reply = ask(Engine(), LEVELS_REQUEST)
    assert reply["type"] == "analysis_response" and reply["status"] == "success" and reply["trackId"] == "track_001"
    analysis = reply["analysis"]
    assert list(analysis)[:4] == ["analysis_type", "codette_insights", "mixing_suggestions", "quality_score"]
    assert analysis["analysis_type"] == "spectrum"
    assert "Lead Vocal" in analysis["codette_insights"] and "peak -6.0 dBFS" in analysis["codette_insights"]
    assert "High-pass at 80 Hz to clear rumble and plosives." in analysis["mixing_suggestions"]
    assert analysis["quality_score"] == 1.0  # -6 dBFS peak is right at the headroom mark, not above it


def test_levels_only_answers_change_with_levels_state_and_type():
    engine = Engine()
    base = ask(engine, LEVELS_REQUEST)["analysis"]
    hot = ask(engine, with_changes(LEVELS_REQUEST, audio_data__peak_level=-0.5))["analysis"]
    muted = ask(engine, with_changes(LEVELS_REQUEST, track_data__muted=True))["analysis"]
    bass = ask(engine, with_changes(LEVELS_REQUEST, track_data__track_type="bass guitar"))["analysis"]
    dynamics = ask(engine, with_changes(LEVELS_REQUEST, analysis_type="dynamic"))["analysis"]
    assert base["quality_score"] > hot["quality_score"] and base["quality_score"] > muted["quality_score"]
    assert "muted" in muted["codette_insights"]
    assert bass["track_type"] == "bass" and bass["mixing_suggestions"] != base["mixing_suggestions"]
    assert dynamics["analysis_type"] == "dynamics" and dynamics["mixing_suggestions"] != base["mixing_suggestions"]


def test_request_errors_come_back_as_error_replies():
    engine = Engine()
    reply = ask(engine, with_changes(LEVELS_REQUEST, analysis_type="timbre"))
    assert reply["type"] == "error" and reply["message"].startswith("Unknown analysis type: 'timbre' (available: ")
    reply = ask(engine, with_changes(LEVELS_REQUEST, track_data__loudness_target=7))
    assert reply["type"] == "error"
    assert reply["message"].startswith(
        "Invalid field 'track_data.loudness_target' in analyze: Unknown loudness target 7"
    )


def test_a_notebook_analysis_type_answers_and_its_failures_are_named():
    engine = Engine()

    def loudness_war(request):
        """Scores how loud the track is pushed."""
        peak = request.levels.peak_dbfs
        return {"insights": f"Peak {peak:.1f} dBFS.", "quality_score": 0.5 if peak > -1 else 0.9}

    engine.analysis_types.register("loudness_war", loudness_war)
    analysis = ask(engine, with_changes(LEVELS_REQUEST, analysis_type="loudness_war"))["analysis"]
    assert analysis["codette_insights"] == "Peak -6.0 dBFS." and analysis["quality_score"] == 0.9
    assert analysis["analysis_type"] == "loudness_war"

    def broken(request):
        return {"quality_score": float("nan")}

    engine.analysis_types.register("loudness_war", broken)
    reply = ask(engine, with_changes(LEVELS_REQUEST, analysis_type="loudness_war"))
    assert reply["type"] == "error"
    assert reply["message"] == (
        "analysis type 'loudness_war' (function test_a_notebook_analysis_type_answers_and_its_failures_are_named"
        ".<locals>.broken) returned 'quality_score' nan (expected a number from 0 to 1)"
    )
    assert ask(engine, LEVELS_REQUEST)["type"] == "analysis_response"  # the built-ins carry on


def test_a_notebook_dict_result_carries_only_what_the_function_returned():
    engine = Engine()
    engine.analysis_types.register(
        "air",
        lambda request: {"insights": "Needs air.", "suggestions": ["Shelf +2 dB at 12 kHz"], "quality_score": 0.8},
    )
    hot = with_changes(LEVELS_REQUEST, analysis_type="air", audio_data__peak_level=-0.2, track_data__muted=True)
    analysis = ask(engine, hot)["analysis"]
    assert analysis["analysis_type"] == "air"
    assert analysis["codette_insights"] == "Needs air."
    assert analysis["mixing_suggestions"] == ["Shelf +2 dB at 12 kHz"]
    assert analysis["quality_score"] == 0.8
    # the built-in rules (clipping risk, muted would fire on these levels) add nothing of their own
    assert analysis["problems_detected"] == []
    assert [detail["text"] for detail in analysis["suggestion_details"]] == analysis["mixing_suggestions"]
    assert all(detail["rule"] is None for detail in analysis["suggestion_details"])
    assert analysis["metrics"] == {}
    assert ask(engine, with_changes(hot, analysis_type="spectrum"))["analysis"]["problems_detected"]  # built-ins do


def test_a_notebook_analysis_type_gets_the_samples():
    engine = Engine()
    seen = {}

    def channels(request):
        seen["shape"], seen["sr"] = request.samples.shape, request.sample_rate
        return {"metrics": request.measure("levels")}

    engine.analysis_types.register("channels", channels)
    y = np.zeros((2, 4410), dtype="<f4")
    y[0, ::2] = 0.5
    message = with_changes(
        LEVELS_REQUEST,
        analysis_type="channels",
        audio_data={"samples": base64.b64encode(y.T.tobytes()).decode(), "channels": 2, "sample_rate": 44100},
    )
    analysis = ask(engine, message)["analysis"]
    assert seen == {"shape": (2, 4410), "sr": 44100}
    assert abs(analysis["metrics"]["peak_dbfs"] - 20 * np.log10(0.5)) < 1e-3


# -- exported rules, served by the standalone server -------------------------------------------------------


@pytest.fixture
def tuned_rules() -> RuleSet:
    rules = RuleSet.default()
    rules.set(**{"general.headroom_peak_dbfs": -9, "vocal.highpass_hz": 110, "vocal.comp_ratio": 3})
    return rules


def test_the_standalone_server_answers_like_the_notebook_with_exported_rules(tmp_path, ws_client, tuned_rules):
    path = tuned_rules.export(tmp_path / "tuned_rules.json")
    standalone = ServeProcess("--rules", str(path))
    try:
        client = ws_client(f"ws://127.0.0.1:{standalone.wait_for_port()}/ws")
        notebook = Engine(rules=tuned_rules)
        requests = [
            LEVELS_REQUEST,
            with_changes(LEVELS_REQUEST, analysis_type="quality"),
            with_changes(LEVELS_REQUEST, analysis_type="dynamics", audio_data__peak_level=-7.5),
            with_changes(
                LEVELS_REQUEST, analysis_type="loudness", track_data__track_type="master", audio_data__rms_level=-9.0
            ),
        ]
        for message in requests:
            served = client.ask(message)
            assert served["type"] == "analysis_response", served
            assert served["analysis"] == ask(notebook, message)["analysis"]
        served = client.ask(with_changes(LEVELS_REQUEST, analysis_type="dynamics", audio_data__peak_level=-7.5))
        default = ask(Engine(), with_changes(LEVELS_REQUEST, analysis_type="dynamics", audio_data__peak_level=-7.5))
        assert served["analysis"] != default["analysis"]
        assert any("3:1" in text for text in served["analysis"]["mixing_suggestions"])
    finally:
        standalone.stop()
