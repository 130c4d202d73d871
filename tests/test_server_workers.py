"""Long work off the event loop: stuck notebook code, long analyses, several DAWs analyzing at once."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile as sf

from codette_lab.engine import Engine
from codette_lab.server import BackgroundServer

LEVELS_ONLY = {
    "type": "analyze",
    "track_data": {"track_id": "t1", "track_name": "Bass", "track_type": "bass"},
    "audio_data": {"peak_level": -3.0, "rms_level": -15.0, "duration": 60.0, "sample_rate": 44100},
    "analysis_type": "dynamics",
}


def test_stuck_notebook_functions_never_starve_the_built_in_analyses(engine, ws_client, release):
    calls = []

    def stuck(context):
        calls.append(context.message)
        release.wait(30)
        return "too late"

    engine.perspectives.register("stuck", stuck)
    engine.perspectives.register("quick", lambda context: "Right away.")
    with BackgroundServer(engine, port=0, workers=1, request_timeout=0.3) as server:
        client = ws_client(server.url)
        for attempt in ("first", "second"):  # more stuck calls than workers
            reply = client.ask({"type": "chat", "message": attempt, "perspective": "stuck"})
            assert reply["type"] == "error" and "did not answer within 0.3 s" in reply["message"]
        assert calls == ["first", "second"]
        assert client.ask(LEVELS_ONLY)["type"] == "analysis_response"
        assert client.ask({"type": "chat", "message": "Now?", "perspective": "quick"})["response"] == "Right away."


@pytest.fixture(scope="module")
def long_track(tmp_path_factory):
    """Two minutes of stereo programme-like noise, in an audio root of its own."""
    root = tmp_path_factory.mktemp("audio_root")
    rng = np.random.default_rng(7)
    seconds, rate = 120, 44100
    noise = rng.standard_normal((seconds * rate, 2)).astype(np.float32) * 0.1
    envelope = 0.5 + 0.5 * np.sin(np.linspace(0, 40 * np.pi, seconds * rate, dtype=np.float32)) ** 2
    sf.write(root / "long.wav", noise * envelope[:, None], rate, subtype="PCM_16")
    return root


def analyze_file(name: str) -> dict:
    return {
        "type": "analyze",
        "track_data": {"track_id": name, "track_name": name, "track_type": "master"},
        "audio_data": {"file_path": "long.wav"},
        "analysis_type": "quality",
    }


def test_pings_are_answered_while_another_connection_analyses_a_long_track(long_track, ws_client):
    engine = Engine(audio_roots=[long_track])
    with BackgroundServer(engine, port=0) as server:
        analyzing, pinging = ws_client(server.url), ws_client(server.url)
        analyzing.timeout = 120  # a cold process also pays librosa's first-call set-up
        received: list[str] = []
        analyzing.send(analyze_file("A"))
        reader = threading.Thread(target=lambda: received.append(analyzing.recv()["type"]))
        reader.start()
        pongs = [pinging.ask({"type": "ping"})["type"] for _ in range(5)]
        answered_before_pongs = list(received)
        reader.join(timeout=120)

    assert pongs == ["pong"] * 5
    assert answered_before_pongs == []  # all five pongs came while the analysis was still running
    assert received == ["analysis_response"]


def test_several_daws_analyse_at_once_and_get_the_same_measures(long_track, ws_client):
    engine = Engine(audio_roots=[long_track])
    with BackgroundServer(engine, port=0, workers=2) as server:
        daws = [ws_client(server.url) for _ in range(2)]
        for daw in daws:
            daw.timeout = 120
        for index, daw in enumerate(daws):
            daw.send(analyze_file(f"daw{index}"))
        replies = [daw.recv() for daw in daws]

    assert [reply["trackId"] for reply in replies] == ["daw0", "daw1"]
    assert all(reply["type"] == "analysis_response" for reply in replies)
    first, second = (reply["analysis"]["metrics"] for reply in replies)
    assert first == second and first["integrated_lufs"] is not None


def test_large_frames_are_parsed_off_the_loop_with_the_same_answers(server, ws_client):
    from codette_lab.server.limits import INLINE_PARSE_LIMIT

    client = ws_client()
    padding = "x" * (INLINE_PARSE_LIMIT + 10)
    assert client.ask({"type": "ping", "padding": padding})["type"] == "pong"
    assert client.ask('{"type": "ping", "padding": "' + padding)["message"] == "Invalid JSON format"
    reply = client.ask({"type": "chat", "message": "How do I EQ vocals?", "daw_context": {"notes": padding}})
    assert reply["type"] == "chat_response"
    assert client.ask({"type": "nope", "padding": padding})["message"] == "Unknown message type: nope"
