"""The Lab facade in this process: start/stop/replace, live definitions, direct calls, the event log."""

from __future__ import annotations

import base64
import socket
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed

from codette_lab import Lab
from codette_lab.engine import Engine
from codette_lab.errors import PortInUseError, RequestError, UserCodeError
from codette_lab.lab import RecentAudio
from codette_lab.protocol import AnalyzeRequest, AudioData, TrackData
from codette_lab.resources import demo_folder
from codette_lab.server import ServerEvent
from codette_lab.server.events import EventLog


@pytest.fixture
def lab():
    lab = Lab(port=0, request_timeout=10.0).start()
    yield lab
    lab.stop()


def test_start_serves_and_stop_frees_the_port(ws_client) -> None:
    lab = Lab(port=0)
    assert lab.start() is lab and lab.running
    port = lab.port
    assert port > 0 and lab.url == f"ws://127.0.0.1:{port}/ws"
    client = ws_client(lab.url)
    assert client.ask({"type": "status"})["active_connections"] == 1
    lab.stop()
    assert not lab.running
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def test_a_new_lab_while_one_runs_is_that_lab_with_everything_kept(ws_client) -> None:
    first = Lab(port=0).start()
    try:
        first.perspective("only_in_first", lambda context: "first")
        first.rules["vocal.highpass_hz"] = 120
        daw = ws_client(first.url)
        second = Lab(port=0)
        assert second is first and second.start() is first and first.running
        assert second.rules["vocal.highpass_hz"] == 120
        reply = daw.ask({"type": "chat", "message": "hi", "perspective": "only_in_first"})  # same connection
        assert reply["response"] == "first"
        assert first.active_connections == 1
    finally:
        first.stop()


def test_changed_arguments_apply_to_the_running_lab_and_a_restart_says_1012(ws_client, tmp_path: Path) -> None:
    first = Lab(port=0, host="localhost", warm_up=False).start()
    try:
        first.perspective("kept", lambda context: "still here")
        daw = ws_client(first.url)
        same = Lab(port=0, host="localhost", warm_up=False, audio_roots=[tmp_path])
        assert same is first and same.audio_roots.roots == (tmp_path.resolve(),)
        assert daw.ask({"type": "ping"})["type"] == "pong"  # roots are swapped without a restart

        moved = Lab(port=0, warm_up=False, audio_roots=[tmp_path])  # another host: a restart
        assert moved is first and moved.url == f"ws://127.0.0.1:{moved.port}/ws"
        with pytest.raises(ConnectionClosed) as closed:
            daw.socket.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1012, "service restart")
        reply = ws_client(moved.url).ask({"type": "chat", "message": "hi", "perspective": "kept"})
        assert reply["response"] == "still here"
    finally:
        first.stop()


def test_reset_goes_back_to_the_builtins_and_stop_ends_the_lab(ws_client) -> None:
    lab = Lab(port=0, warm_up=False).start()
    daw = ws_client(lab.url)
    lab.perspective("mix_engineering", lambda context: "class rules")
    lab.analysis_type("extra", lambda request: {"insights": "x"})
    lab.rules["vocal.highpass_hz"] = 150
    lab.reset()
    assert "extra" not in lab.analysis_types() and lab.rules.changed() == {}
    assert daw.ask({"type": "chat", "message": "How do I compress a vocal?"})["response"] != "class rules"
    lab.perspective("gone_after_stop", lambda context: "x")
    lab.stop()
    fresh = Lab(port=0, warm_up=False)
    assert fresh is not lab and "gone_after_stop" not in fresh.perspectives()


def test_a_port_held_elsewhere_gives_one_short_message() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortInUseError, match=rf"Port {port} .* Lab\(port={port + 1}\)") as raised:
            Lab(port=port).start()
    assert raised.value.__cause__ is None and raised.value.__suppress_context__  # no chained traceback
    assert raised.value._render_traceback_() == [f"PortInUseError: {raised.value}"]  # what IPython shows


def test_perspective_forms_and_live_replacement(lab: Lab, ws_client) -> None:
    client = ws_client(lab.url)

    @lab.perspective("coach")
    def coach(context):
        return f"v1 {context.message}"

    def ask() -> dict:
        return client.ask({"type": "chat", "message": "kick?", "perspective": "coach"})

    assert ask()["response"] == "v1 kick?"
    lab.perspective("coach", lambda context: {"response": "v2", "confidence": 0.3})
    assert (ask()["response"], ask()["confidence"]) == ("v2", 0.3)

    @lab.perspective
    def bare_name(context):
        return "named after the function"

    assert "bare_name" in lab.perspectives()
    assert coach(SimpleNamespace(message="m")) == "v1 m"  # the decorator hands the function back unchanged


def test_removing_a_perspective_restores_the_builtin_it_replaced(lab: Lab) -> None:
    builtin_answer = lab.chat("How do I compress a vocal?").response
    lab.perspective("mix_engineering", lambda context: "class rules")
    assert lab.chat("How do I compress a vocal?").response == "class rules"
    lab.remove_perspective("mix_engineering")
    assert lab.chat("How do I compress a vocal?").response == builtin_answer

    lab.perspective("temporary", lambda context: "soon gone")
    lab.remove_perspective("temporary")
    assert "temporary" not in lab.perspectives()
    with pytest.raises(RequestError, match="built in"):
        lab.remove_perspective("audio_theory")


def test_analysis_type_defined_in_python_answers_direct_calls(lab: Lab) -> None:
    @lab.analysis_type("loudest")
    def loudest(request):
        peak = float(np.max(np.abs(request.samples)))
        return {"insights": f"peak {peak:.2f}", "metrics": {"peak_linear": peak}, "quality_score": 0.7}

    sr = 22050
    y = 0.5 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    result = lab.analyze(y, sr, kind="loudest")
    assert result.insights == "peak 0.50"
    assert result.quality_score == 0.7
    lab.remove_analysis_type("loudest")
    with pytest.raises(RequestError, match="Unknown analysis type"):
        lab.analyze(y, sr, kind="loudest")


def test_removing_an_analysis_type_restores_the_builtin_it_replaced(lab: Lab) -> None:
    sr = 22050
    y = 0.5 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    builtin = lab.analyze(y, sr, kind="spectrum")
    lab.analysis_type("spectrum", lambda request: {"insights": "the class's own spectrum"})
    assert lab.analyze(y, sr, kind="spectrum").insights == "the class's own spectrum"
    lab.remove_analysis_type("spectrum")
    restored = lab.analyze(y, sr, kind="eq")
    assert (restored.insights, restored.metrics) == (builtin.insights, builtin.metrics)
    assert lab.resolve_analysis_type("frequency") == "spectrum"  # its aliases came back too
    with pytest.raises(RequestError, match="built in"):
        lab.remove_analysis_type("spectrum")


def test_analyze_file_reads_under_the_audio_roots_only(lab: Lab, tmp_path: Path) -> None:
    result = lab.analyze_file(demo_folder() / "stems" / "vocal.flac", kind="spectrum", track_type="vocal")
    assert result.metrics["spectral_centroid_hz"] > 0
    outside = tmp_path / "elsewhere.wav"
    outside.write_bytes(b"RIFF")
    with pytest.raises(RequestError):
        lab.analyze_file(outside)


def test_a_broken_perspective_is_logged_with_its_traceback(lab: Lab, ws_client) -> None:
    @lab.perspective("broken")
    def broken(context):
        return 1 / 0

    with pytest.raises(UserCodeError, match="broken"):
        lab.chat("anything", perspective="broken")
    reply = ws_client(lab.url).ask({"type": "chat", "message": "x", "perspective": "broken"})
    assert reply["type"] == "error" and "ZeroDivisionError" in reply["message"]
    error = lab.events.last_error()
    assert error.kind == "user_error" and "return 1 / 0" in error.traceback


def test_simulated_daws_belong_to_the_lab_and_close_with_it() -> None:
    lab = Lab(port=0).start()
    daw = lab.simulate_daw(name="test DAW")
    assert daw.connected and lab.active_connections == 1
    assert daw.chat("How do I EQ bass?")["type"] == "chat_response"
    lab.stop()
    assert not daw.connected


def test_event_log_is_bounded_and_safe_across_threads() -> None:
    log = EventLog(limit=50)
    seen: list[str] = []
    log.subscribe(lambda event: seen.append(event.kind))

    def write(kind: str) -> None:
        for _ in range(200):
            log.append(ServerEvent(kind))

    threads = [threading.Thread(target=write, args=(kind,)) for kind in ("message", "reply", "error")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log) == 50 and log.total == 600 and len(seen) == 600
    assert all(event.kind == "error" for event in log.errors())
    log.clear()
    assert len(log) == 0 and log.last_error() is None


def _daw_sends(engine: Engine, name: str, *, samples: int = 0, file_path: str | None = None) -> dict:
    """An analyze request as a DAW's connection hands it to the engine: ``samples`` float32 values, or a file."""
    wave = np.sin(np.arange(samples, dtype=np.float32) / 5.0).astype("<f4")
    audio = (
        AudioData(file_path=file_path)
        if file_path
        else AudioData(samples=base64.b64encode(wave.tobytes()).decode("ascii"), sample_rate=8000.0, channels=1)
    )
    request = AnalyzeRequest(track=TrackData(track_id=name, track_name=name), audio=audio, analysis_type="peek")
    return engine.answer(request, session="student-1")


def test_recent_daw_audio_is_bounded_by_count_and_by_total_bytes() -> None:
    one_request = len(base64.b64encode(bytes(4 * 1000)))  # 1000 float32 samples as base64 text
    engine = Engine()
    recent = RecentAudio(limit=3, max_bytes=2 * one_request + 100)
    engine.add_request_hook(recent)
    engine.analysis_types.register("peek", lambda request: {"metrics": {"has_samples": request.samples is not None}})

    def kept() -> list[str]:
        return [item.request.track.track_name for item in recent.items()]

    for name in ("a", "b", "c"):
        assert _daw_sends(engine, name, samples=1000)["type"] == "analysis_response"
    assert kept() == ["c", "b"]  # a third one would pass the byte bound: the oldest went
    assert [item.sample_bytes for item in recent.items()] == [one_request, one_request]

    huge = _daw_sends(engine, "huge", samples=3000)
    assert huge["type"] == "analysis_response"  # answered as usual, only not kept
    assert kept() == ["c", "b"]

    vocal = str(demo_folder() / "stems" / "vocal.flac")
    for name in ("file 1", "file 2"):
        _daw_sends(engine, name, file_path=vocal)
    assert kept() == ["file 2", "file 1", "c"]  # files cost no bytes; the count bound still applies
    assert sum(item.sample_bytes for item in recent.items()) <= recent.max_bytes


def test_repr_says_where_it_serves(lab: Lab) -> None:
    assert lab.url in repr(lab)
    lab.stop()
    assert "stopped" in repr(lab)


def test_a_simulated_class_stays_connected_and_is_named() -> None:
    lab = Lab(port=0, warm_up=False).start()
    try:
        results = lab.simulate_class(students=3, questions=1, analyses=0, seed=4)
        assert all(result.ok for result in results)
        assert lab.active_connections == 3
        assert sorted(client.name.split(" (")[0] for client in lab.clients.all()) == [
            "student_1",
            "student_2",
            "student_3",
        ]
    finally:
        lab.stop()
    assert all(not result.daw.connected for result in results if result.daw is not None)


def test_events_say_what_was_asked_and_answered_and_keep_errors_apart(lab: Lab, ws_client) -> None:
    client = ws_client(lab.url + "?name=Room%207")
    client.ask({"type": "chat", "message": "Why is my mix\nmuddy?" + "x" * 400})
    client.ask(
        {
            "type": "analyze",
            "track_data": {"track_id": "t1", "track_name": "Bass", "track_type": "bass"},
            "audio_data": {"peak_level": -3.0, "rms_level": -15.0, "duration": 10.0, "sample_rate": 48000},
            "analysis_type": "dynamics",
        }
    )
    client.ask({"type": "chat", "message": "x", "perspective": "nobody"})
    connect, *_ = lab.events.of_kind("connect")
    assert connect.summary == "Room 7"
    chat, analyze, _ = (event.summary for event in lab.events.of_kind("message"))
    assert chat.startswith("\u201cWhy is my mix\\nmuddy?xxx") and chat.endswith("\u2026") and len(chat) <= 160
    assert analyze == "dynamics of Bass (bass, levels)"
    reply = lab.events.of_kind("reply")[1].summary
    assert reply.startswith("dynamics: quality ") and "suggestion(s)" in reply
    for _ in range(lab.events.limit):  # routine traffic cannot push the error out
        lab.events.append(ServerEvent("message", message_type="ping"))
    assert [event.detail for event in lab.events.errors()][-1].startswith("Unknown perspective")
