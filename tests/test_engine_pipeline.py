"""One frame-to-reply pipeline: receive, answer, failure mapping; request hooks; the wire name of each request."""

from __future__ import annotations

import base64
import json
import logging
import threading

import numpy as np
import pytest

from codette_lab.engine import Engine, Job, failure_of
from codette_lab.errors import ProtocolError, RequestTimeoutError, UserCodeError
from codette_lab.protocol import AnalyzeRequest, ChatRequest, PingRequest, StatusRequest
from codette_lab.server import BackgroundServer


def samples_frame(track_id: str = "t1") -> str:
    """An analyze frame carrying one second of a quiet stereo sine as base64 float32 samples."""
    t = np.arange(44100) / 44100
    audio = np.stack([0.1 * np.sin(2 * np.pi * 220 * t)] * 2).T.astype("<f4")
    return json.dumps(
        {
            "type": "analyze",
            "analysis_type": "loudness",
            "track_data": {"track_id": track_id, "track_type": "vocal"},
            "audio_data": {
                "samples": base64.b64encode(audio.tobytes()).decode("ascii"),
                "channels": 2,
                "sample_rate": 44100,
            },
        }
    )


def test_each_request_class_answers_to_its_wire_type():
    engine = Engine()
    frames = ['{"type": "ping"}', '{"type": "status"}', '{"type": "chat", "message": "hi"}', samples_frame()]
    jobs = [engine.receive(frame) for frame in frames]

    assert [job.message_type for job in jobs] == ["ping", "status", "chat", "analyze"]
    assert [type(job.request) for job in jobs] == [PingRequest, StatusRequest, ChatRequest, AnalyzeRequest]
    assert [engine.answer(job)["type"] for job in jobs] == [
        "pong",
        "status_response",
        "chat_response",
        "analysis_response",
    ]


def test_receive_raises_what_respond_replies():
    engine = Engine()
    with pytest.raises(ProtocolError, match=r"^Invalid JSON format$"):
        engine.receive("{not json")
    assert engine.respond("{not json")["message"] == "Invalid JSON format"


def test_failures_map_to_one_reply_text_each():
    user = failure_of(UserCodeError("perspective 'x' (function f) raised ValueError: no", function="f", traceback="tb"))
    timeout = failure_of(RequestTimeoutError("perspective 'x' did not answer within 1 s", stack="where"))
    try:
        {}["missing"]
    except KeyError as exc:
        bug = failure_of(exc)

    assert (user.text, user.by_user_code, user.traceback, user.bug) == (
        "perspective 'x' (function f) raised ValueError: no",
        True,
        "tb",
        False,
    )
    assert (timeout.by_user_code, timeout.traceback, timeout.bug) == (False, "where", False)
    assert bug.text == "Processing error: KeyError: 'missing'" and bug.bug and '{}["missing"]' in bug.traceback
    assert bug.reply()["type"] == "error" and bug.reply()["message"] == bug.text


def test_a_bug_in_a_builtin_is_the_same_processing_error_from_python_as_on_the_wire(ws_client):
    engine = Engine()
    engine.perspectives.register("broken_builtin", lambda context: {}["missing"], builtin=True)
    frame = {"type": "chat", "message": "Hi", "perspective": "broken_builtin"}

    from_python = engine.respond(json.dumps(frame))
    with BackgroundServer(engine, port=0) as server:
        from_wire = ws_client(server.url).ask(frame)

    assert from_python["message"] == from_wire["message"] == "Processing error: KeyError: 'missing'"


def test_hooks_see_every_request_before_it_is_answered_on_the_answering_thread(ws_client):
    engine = Engine()
    seen: list[tuple[str, str, str]] = []
    memory_at_hook: list[int] = []

    def hook(job: Job, session: str) -> None:
        seen.append((job.message_type, session, threading.current_thread().name))
        if job.message_type == "chat":
            memory_at_hook.append(len(engine.memory))

    engine.add_request_hook(hook)
    with BackgroundServer(engine, port=0) as server:
        client = ws_client(server.url)
        assert client.ask({"type": "chat", "message": "How do I EQ vocals?"})["type"] == "chat_response"
        assert client.ask(json.loads(samples_frame()))["type"] == "analysis_response"
        assert client.ask({"type": "status"})["engine_type"] == "codette_lab.engine.Engine"
        assert client.ask("garbage")["message"] == "Invalid JSON format"  # never a job: no hook call
        session = f"ws-{server.connections()[0].id}"

    assert [(kind, who) for kind, who, _ in seen] == [("chat", session), ("analyze", session), ("status", session)]
    assert memory_at_hook == [0]  # called before the chat turn was answered and remembered
    threads = [thread for _, _, thread in seen]
    assert threads[0].startswith("codette-server-") and threads[1].startswith("codette-worker")


def test_a_raising_hook_is_logged_and_the_request_answered(caplog):
    engine = Engine()
    calls: list[str] = []

    def clumsy(job: Job, session: str) -> None:
        raise RuntimeError("hook bug")

    engine.add_request_hook(clumsy)
    engine.add_request_hook(lambda job, session: calls.append(session))
    with caplog.at_level(logging.ERROR, logger="codette_lab.engine"):
        reply = engine.respond('{"type": "ping"}', session="daw-1")

    assert reply["type"] == "pong" and calls == ["daw-1"]
    assert "Request hook" in caplog.text and "hook bug" in caplog.text

    engine.remove_request_hook(clumsy)
    engine.remove_request_hook(clumsy)  # removing twice is no error
    with caplog.at_level(logging.ERROR, logger="codette_lab.engine"):
        caplog.clear()
        engine.respond('{"type": "ping"}')
    assert caplog.text == "" and calls == ["daw-1", "notebook"]


def test_a_hook_must_be_callable():
    with pytest.raises(TypeError, match="a request hook must be callable, got str"):
        Engine().add_request_hook("not a function")  # type: ignore[arg-type]
