"""Analyze from levels alone (the protocol's peak/RMS/duration/sample rate): specific answers per type and track."""

from __future__ import annotations

import json
import math
import re

import pytest

from codette_lab.analysis_types import (
    NOT_RATED_SCORE,
    AnalysisResult,
    answer_analyze,
    builtin_analysis_types,
)
from codette_lab.errors import RequestError, UserCodeError
from codette_lab.protocol import parse_request
from codette_lab.rules import RuleSet

BUILTIN_LEVEL_TYPES = ("spectrum", "dynamics", "loudness", "stereo", "quality")


def analyze(
    analysis_type: str = "quality",
    *,
    track_type: str | None = "vocal",
    peak: float | None = -10.0,
    rms: float | None = -22.0,
    registry=None,
    rules: RuleSet | None = None,
    **track_fields,
) -> dict:
    """The wire ``analysis`` object for a levels-only request, parsed like a DAW's frame."""
    track = {"track_id": "t1", "track_name": "Lead", "track_type": track_type, **track_fields}
    audio = {key: value for key, value in (("peak_level", peak), ("rms_level", rms)) if value is not None}
    message = {"type": "analyze", "track_data": track, "audio_data": {**audio, "duration": 120.5, "sample_rate": 44100}}
    message["analysis_type"] = analysis_type
    request = parse_request(json.dumps(message))
    analysis = answer_analyze(
        request,
        analysis_types=registry or builtin_analysis_types(),
        rules=rules or RuleSet.default(),
        audio_roots=None,  # levels only: no audio is ever opened
    )
    return analysis.to_wire()


def rule_ids(wire: dict) -> set[str]:
    return {problem["rule"] for problem in wire["problems_detected"]}


# (analysis type, track fields, peak, rms, rules that must fire, rules that must not)
TABLE = [
    (
        "quality",
        {"track_type": "vocal"},
        -10.0,
        -22.0,
        set(),
        {"headroom", "clipping_risk", "level_too_low", "over_compressed"},
    ),
    ("quality", {"track_type": "vocal"}, -3.0, -16.0, {"headroom"}, {"clipping_risk"}),
    ("quality", {"track_type": "vocal"}, -0.5, -14.0, {"clipping_risk"}, {"headroom"}),
    ("dynamics", {"track_type": "guitar"}, -4.0, -16.0, {"headroom"}, set()),
    ("stereo", {"track_type": "vocal"}, -3.0, -16.0, set(), {"headroom"}),
    ("stereo", {"track_type": "vocal"}, -0.5, -14.0, {"clipping_risk"}, set()),
    ("loudness", {"track_type": "keys"}, -35.0, -50.0, {"level_too_low"}, set()),
    ("dynamics", {"track_type": "vocal"}, -8.0, -11.0, {"over_compressed"}, {"very_dynamic"}),
    ("dynamics", {"track_type": "drums"}, -8.0, -34.0, {"very_dynamic"}, {"over_compressed"}),
    ("dynamics", {"track_type": "vocal"}, -8.0, -20.0, set(), {"very_dynamic", "over_compressed"}),
    ("quality", {"track_type": "vocal", "muted": True}, -10.0, -22.0, {"muted"}, {"soloed"}),
    ("quality", {"track_type": "vocal", "soloed": True}, -10.0, -22.0, {"soloed"}, {"muted"}),
    (
        "loudness",
        {"track_type": "master"},
        -0.3,
        -8.0,
        {"master_peak_over_ceiling", "too_loud"},
        {"headroom", "too_quiet"},
    ),
    ("loudness", {"track_type": "master"}, -1.5, -14.0, set(), {"too_loud", "too_quiet", "master_peak_over_ceiling"}),
    ("loudness", {"track_type": "master", "loudness_target": "broadcast"}, -3.0, -14.0, {"too_loud"}, {"too_quiet"}),
    ("loudness", {"track_type": "master", "loudness_target": "broadcast"}, -10.0, -30.0, {"too_quiet"}, {"too_loud"}),
    ("loudness", {"track_type": "master", "loudness_target": "podcast"}, -3.0, -16.0, set(), {"too_loud", "too_quiet"}),
    ("loudness", {"track_type": "master", "loudness_target": -20}, -3.0, -14.0, {"too_loud"}, set()),
    ("quality", {"track_type": "master"}, -6.0, -13.0, {"over_compressed"} - {"over_compressed"}, {"over_compressed"}),
    ("dynamics", {"track_type": "master"}, -1.2, -6.0, {"master_squashed"}, {"over_compressed"}),
    ("quality", {"track_type": "bus"}, -2.0, -14.0, {"bus_headroom"}, {"headroom", "clipping_risk"}),
    ("quality", {"track_type": "Vocals"}, -3.0, -16.0, {"headroom"}, set()),
    ("frequency", {"track_type": "vox"}, -3.0, -16.0, {"headroom"}, set()),
]


@pytest.mark.parametrize(("analysis_type", "fields", "peak", "rms", "fires", "quiet"), TABLE)
def test_each_condition_fires_only_when_it_holds(analysis_type, fields, peak, rms, *, fires, quiet):
    wire = analyze(analysis_type, peak=peak, rms=rms, **fields)
    found = rule_ids(wire)
    assert fires <= found, wire["codette_insights"]
    assert not (quiet & found), wire["codette_insights"]
    for problem in wire["problems_detected"]:
        assert problem["text"] in wire["codette_insights"]
    assert 0.0 <= wire["quality_score"] <= 1.0
    # levels cannot judge a stereo image: its score stays at NOT_RATED_SCORE or below
    best = NOT_RATED_SCORE if analysis_type == "stereo" else 1.0
    assert (wire["quality_score"] == best) == (
        not wire["problems_detected"] or all(p["rule"] == "soloed" for p in wire["problems_detected"])
    )


def test_findings_carry_measured_value_threshold_and_concrete_moves():
    wire = analyze("dynamics", peak=-3.0, rms=-16.0, track_type="vocal")
    problem = next(p for p in wire["problems_detected"] if p["rule"] == "headroom")
    assert (problem["metric"], problem["value"], problem["threshold"], problem["severity"]) == (
        "peak_dbfs",
        -3.0,
        -6.0,
        "warning",
    )
    assert "-3.0 dBFS" in problem["text"]
    assert "by about 3.0 dB" in wire["mixing_suggestions"][0]
    assert any("4:1" in text and "10 ms" in text for text in wire["mixing_suggestions"])


def test_the_wire_object_starts_with_the_documents_four_fields_and_is_strict_json():
    wire = analyze("spectrum")
    assert list(wire)[:4] == ["analysis_type", "codette_insights", "mixing_suggestions", "quality_score"]
    assert {"metrics", "problems_detected", "suggestion_details", "track_type"} <= set(wire)
    assert all(isinstance(text, str) for text in wire["mixing_suggestions"])
    json.dumps(wire, allow_nan=False)
    assert len(wire["suggestion_details"]) == len(wire["mixing_suggestions"])
    assert [d["text"] for d in wire["suggestion_details"]] == wire["mixing_suggestions"]


def test_the_analysis_types_answer_differently_from_the_same_levels():
    answers = {kind: analyze(kind, peak=-3.0, rms=-16.0) for kind in BUILTIN_LEVEL_TYPES}
    suggestions = {kind: tuple(wire["mixing_suggestions"]) for kind, wire in answers.items()}
    insights = {kind: wire["codette_insights"] for kind, wire in answers.items()}
    assert len(set(suggestions.values())) == len(BUILTIN_LEVEL_TYPES)
    assert len(set(insights.values())) == len(BUILTIN_LEVEL_TYPES)
    assert any("High-pass at 80 Hz" in text for text in suggestions["spectrum"])
    assert any("4:1" in text for text in suggestions["dynamics"])
    assert any("centred" in text for text in suggestions["stereo"])
    assert "-14 LUFS" in insights["loudness"]
    assert set(suggestions["quality"]) >= set(suggestions["spectrum"]) | set(suggestions["stereo"])


def test_track_types_get_their_own_advice_and_aliases_the_same_as_their_type():
    kinds = ("vocal", "bass", "drums", "guitar", "keys", "synth", "master", "bus", "audio")
    by_type = {kind: analyze("spectrum", track_type=kind)["mixing_suggestions"] for kind in kinds}
    assert len({tuple(texts) for texts in by_type.values()}) == len(by_type)
    assert analyze("spectrum", track_type="Lead Vocals")["mixing_suggestions"] == by_type["vocal"]
    assert analyze("spectrum", track_type="808")["mixing_suggestions"] == by_type["bass"]
    assert analyze("spectrum", track_type="Kick")["track_type"] == "drums"


def test_an_unknown_track_type_gets_generic_advice_and_is_told_so():
    wire = analyze("spectrum", track_type="didgeridoo")
    assert wire["track_type"] == "audio"
    assert "Track type 'didgeridoo' is not one I know" in wire["codette_insights"]
    assert wire["mixing_suggestions"] == analyze("spectrum", track_type="audio")["mixing_suggestions"]


def test_quality_score_follows_from_what_fired():
    healthy = analyze(peak=-10.0, rms=-22.0)["quality_score"]
    hot = analyze(peak=-3.0, rms=-16.0)["quality_score"]
    clipping = analyze(peak=-0.5, rms=-14.0)["quality_score"]
    broken = analyze(peak=-0.1, rms=-2.0, muted=True)["quality_score"]
    assert healthy > hot > clipping > broken
    assert healthy == 1.0


def test_levels_only_stereo_says_it_could_not_check_and_claims_no_perfect_score():
    healthy = analyze("stereo", peak=-10.0, rms=-22.0)
    insights = healthy["codette_insights"]
    checks = "phase problem, over widened, too wide"
    assert f"None of the stereo checks ({checks}) could be made without the audio" in insights
    assert "audio_data.samples or audio_data.file_path" in insights
    assert "found a problem" not in insights  # no claim about checks that were never made
    assert healthy["problems_detected"] == [] and healthy["quality_score"] == NOT_RATED_SCORE
    clipping = analyze("stereo", peak=-0.5, rms=-14.0)  # the checks every type runs still count
    assert rule_ids(clipping) == {"clipping_risk"}
    # clipping_risk's penalty 0.25, scaled by the peak's distance past -1 dBFS (0.5 dB: x1.5)
    assert clipping["quality_score"] == pytest.approx(NOT_RATED_SCORE * (1 - 0.25 * 1.5), abs=1e-3)
    assert "1 of 3 checks found something" in clipping["codette_insights"]  # clipping risk, muted, soloed


def test_levels_only_counts_only_the_checks_it_could_make_and_names_the_others():
    spectrum = analyze("spectrum", peak=-10.0, rms=-22.0)
    # headroom, clipping risk, level too low, muted, soloed: not the band checks, which need the audio
    assert "None of the 5 checks for this analysis found a problem." in spectrum["codette_insights"]
    not_checked = (
        "Not checked without the audio: rumble, dull, dull for type, low mid buildup, low mid buildup for type, "
        "harshness, harshness for type, sibilance."
    )
    assert not_checked in spectrum["codette_insights"]
    assert spectrum["quality_score"] == 1.0
    drums = analyze("transients", track_type="drums", peak=-10.0, rms=-22.0)
    assert "Not checked without the audio: squashed transients, soft attack." in drums["codette_insights"]
    assert "masking" not in analyze("quality")["codette_insights"]  # needs another track, not just audio


def test_missing_levels_give_general_advice_and_no_crash():
    wire = analyze("dynamics", peak=None, rms=None)
    assert wire["problems_detected"] == []
    assert "no levels or audio" in wire["codette_insights"]
    assert "None of the dynamics checks" in wire["codette_insights"] and wire["quality_score"] == NOT_RATED_SCORE
    assert wire["mixing_suggestions"]
    only_peak = analyze("dynamics", peak=-2.0, rms=None)
    assert rule_ids(only_peak) == {"headroom"}
    assert only_peak["metrics"]["crest_factor_db"] is None


def test_unknown_analysis_type_and_bad_target_are_request_errors():
    available = r"\(available: dynamics, loudness, masking, quality, spectrum, stereo, transients\)"
    with pytest.raises(RequestError, match=r"Unknown analysis type: 'timbre' " + available):
        analyze("timbre")
    with pytest.raises(
        RequestError, match=r"Invalid field 'track_data.loudness_target' in analyze: Unknown loudness target 'cinema'"
    ):
        analyze("loudness", track_type="master", loudness_target="cinema")
    with pytest.raises(RequestError, match="needs audio for two tracks"):
        analyze("masking")


def test_a_rules_change_reaches_the_next_levels_only_answer():
    rules = RuleSet.default()
    assert "headroom" in rule_ids(analyze("dynamics", peak=-5.0, rms=-17.0, rules=rules))
    rules["general.headroom_peak_dbfs"] = -3
    assert "headroom" not in rule_ids(analyze("dynamics", peak=-5.0, rms=-17.0, rules=rules))
    rules["vocal.comp_ratio"] = 6
    assert any("6:1" in text for text in analyze("dynamics", rules=rules)["mixing_suggestions"])


# -- analysis functions from a notebook ------------------------------------------------------------------


def registry_with(function, name: str = "custom"):
    registry = builtin_analysis_types()
    registry.register(name, function)
    return registry


def test_a_user_function_receives_a_track_request_and_may_return_a_dict():
    received = {}

    def brightness(request):
        received.update(
            track_type=request.track_type,
            name=request.track_name,
            peak=request.levels.peak_dbfs,
            samples=request.samples,
            kind=request.analysis_type,
            hp=request.rules["vocal.highpass_hz"],
            target=request.target.lufs,
            metrics=request.measure(),
        )
        return {"insights": "Bright enough.", "suggestions": ["Add air at 12 kHz"], "metrics": {"brightness": 0.7}}

    wire = analyze("custom", track_type="Vox", peak=-0.5, rms=-13.5, registry=registry_with(brightness))
    assert received["track_type"] == "vocal" and received["name"] == "Lead" and received["peak"] == -0.5
    assert received["samples"] is None and received["kind"] == "custom" and received["hp"] == 80.0
    assert received["target"] == -14.0 and received["metrics"]["crest_factor_db"] == 13.0
    assert wire["analysis_type"] == "custom"
    assert wire["codette_insights"] == "Bright enough."
    assert wire["mixing_suggestions"] == ["Add air at 12 kHz"]
    # only what the function returned: no built-in findings (the -0.5 dBFS peak would fire clipping risk)
    assert wire["metrics"] == {"brightness": 0.7}
    assert wire["problems_detected"] == []
    assert [detail["text"] for detail in wire["suggestion_details"]] == ["Add air at 12 kHz"]
    assert wire["quality_score"] == NOT_RATED_SCORE  # no score given, no evidence to rate on
    bare = analyze("custom", registry=registry_with(lambda request: {"metrics": {"x": 1}}))
    assert (bare["codette_insights"], bare["mixing_suggestions"], bare["suggestion_details"]) == ("", [], [])


def test_a_user_function_may_return_an_analysis_with_nan_metrics():
    def steady(request):
        return AnalysisResult(
            insights="Steady.", suggestions=["Keep it"], quality_score=0.75, metrics={"odd": math.nan}
        )

    wire = analyze("custom", registry=registry_with(steady))
    assert (wire["analysis_type"], wire["track_type"], wire["quality_score"]) == ("custom", "vocal", 0.75)
    assert wire["metrics"] == {"odd": None}
    json.dumps(wire, allow_nan=False)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (
            "fine",
            "returned str (expected an AnalysisResult or a dict with any of "
            "insights, suggestions, quality_score, metrics)",
        ),
        ({}, "returned an empty dict"),
        ({"insight": "typo"}, "returned unknown keys 'insight'"),
        ({"quality_score": 1.5}, "returned 'quality_score' 1.5 (expected a number from 0 to 1)"),
        ({"quality_score": "high"}, "returned 'quality_score' as str"),
        ({"suggestions": "one string"}, "returned 'suggestions' as str (expected a list of strings)"),
        ({"insights": 3}, "returned 'insights' as int (expected a string)"),
        ({"metrics": [1, 2]}, "returned 'metrics' as list"),
    ],
)
def test_malformed_user_results_name_the_function(result, message):
    def shaky(request):
        return result

    with pytest.raises(UserCodeError) as caught:
        analyze("custom", registry=registry_with(shaky))
    function = "test_malformed_user_results_name_the_function.<locals>.shaky"
    assert str(caught.value).startswith(f"analysis type 'custom' (function {function}) ")
    assert message in str(caught.value)


def test_a_raising_user_function_becomes_a_user_code_error_with_traceback():
    def broken(request):
        raise ValueError("no spectrum today")

    with pytest.raises(UserCodeError) as caught:
        analyze("custom", registry=registry_with(broken))
    function = "test_a_raising_user_function_becomes_a_user_code_error_with_traceback.<locals>.broken"
    assert str(caught.value) == f"analysis type 'custom' (function {function}) raised ValueError: no spectrum today"
    assert "no spectrum today" in caught.value.traceback


def test_an_analysis_with_foreign_problems_is_malformed():
    def odd(request):
        return AnalysisResult(insights="Odd.", problems=["not a finding"])

    with pytest.raises(
        UserCodeError, match=r"returned an AnalysisResult whose problems hold str \(expected Finding objects\)"
    ):
        analyze("custom", registry=registry_with(odd))


def test_advice_a_finding_contradicts_or_repeats_is_left_out():
    squashed = analyze("dynamics", peak=-8.0, rms=-11.0)  # over-compressed: back off, do not compress more
    assert "over_compressed" in rule_ids(squashed)
    assert not any(text.startswith("Compress at") for text in squashed["mixing_suggestions"])
    assert any(text.startswith("Compress at 4:1") for text in analyze("dynamics")["mixing_suggestions"])


@pytest.mark.parametrize("analysis_type", BUILTIN_LEVEL_TYPES)
@pytest.mark.parametrize("rms", [-120.0, None])
def test_a_track_the_daw_reports_silent_is_a_routing_problem_never_a_gain_move(analysis_type, rms):
    """What a DAW's meter reads on an empty track, or with the transport stopped (the Ardour bridge sends -120
    dBFS): no programme, one finding, and neither 'raise the gain by 100 dB' nor 'over-compressed' (a crest
    factor of 0 dB between two silences)."""
    floor = RuleSet.default().snapshot().lookup_for("vocal")("general.silence_peak_dbfs")
    wire = analyze(analysis_type, peak=-120.0, rms=rms)
    assert rule_ids(wire) == {"no_programme"}
    (finding,) = wire["problems_detected"]
    assert f"no signal (its peak is at -120 dBFS, under {floor:.0f} dBFS)" in finding["text"]
    assert "routing" in " ".join(wire["mixing_suggestions"])
    assert not any(re.search(r"\braise|\bcompress|\bgain-stage", tip, re.I) for tip in wire["mixing_suggestions"])
    # just over the floor it is a (very quiet) track again, judged as one
    assert "no_programme" not in rule_ids(analyze(analysis_type, peak=floor + 1.0, rms=None))


@pytest.mark.parametrize("analysis_type", BUILTIN_LEVEL_TYPES)
def test_a_daw_that_sends_only_a_silent_rms_is_told_of_routing_not_gain(analysis_type):
    """A DAW may meter an RMS alone: -120 dBFS with no peak is an empty track too, never 'raise by 100 dB'."""
    floor = RuleSet.default().snapshot().lookup_for("vocal")("general.silence_peak_dbfs")
    wire = analyze(analysis_type, peak=None, rms=-120.0)
    assert rule_ids(wire) == {"no_programme"}
    (finding,) = wire["problems_detected"]
    assert f"no signal (its RMS is at -120 dBFS, under {floor:.0f} dBFS, and no peak was sent)" in finding["text"]
    assert not any(re.search(r"\braise|\bgain-stage", tip, re.I) for tip in wire["mixing_suggestions"])
    # a quiet RMS over the floor is a quiet track, told to come up
    assert "no_programme" not in rule_ids(analyze(analysis_type, peak=None, rms=floor + 1.0))


def test_the_silence_floor_is_a_parameter_a_cell_may_move():
    rules = RuleSet.default()
    assert "no_programme" not in rule_ids(analyze("quality", peak=-90.0, rms=-100.0, rules=rules))
    rules["general.silence_peak_dbfs"] = -80
    assert rule_ids(analyze("quality", peak=-90.0, rms=-100.0, rules=rules)) == {"no_programme"}
