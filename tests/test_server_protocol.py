"""The protocol over a real socket: every message type, every error path, ordering, connection counts."""

from __future__ import annotations

import json
import random
import re

import pytest

from codette_lab.engine import Engine
from codette_lab.rules import RuleSet

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

ANALYZE = {
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


def without_timestamp(message: dict) -> dict:
    return {key: value for key, value in message.items() if key != "timestamp"}


def test_welcome_is_the_documents_connection_message(ws_client):
    welcome = ws_client().welcome
    assert without_timestamp(welcome) == {
        "type": "connection",
        "status": "connected",
        "message": "Connected to Codette AI Unified Server",
        "codette_available": True,
    }
    assert TIMESTAMP.match(welcome["timestamp"])


def test_ping_and_status(ws_client):
    client = ws_client()
    pong = client.ask({"type": "ping"})
    assert pong["type"] == "pong" and TIMESTAMP.match(pong["timestamp"])
    status = client.ask({"type": "status"})
    assert without_timestamp(status) == {
        "type": "status_response",
        "status": "ok",
        "codette_available": True,
        "engine_type": "codette_lab.engine.Engine",
        "memory_size": status["memory_size"],
        "active_connections": 1,
        "rules": {"source": "the built-in default_rules.json", "identity": RuleSet.default().snapshot().identity},
        "perspectives": status["perspectives"],  # their contents: tests/test_binary_frames.py
        "analysis_types": status["analysis_types"],
    }
    assert isinstance(status["memory_size"], int) and status["memory_size"] >= 0


def test_chat_and_analyze_answer_what_the_engine_answers(ws_client):
    client = ws_client()
    chat = {"type": "chat", "message": "How should I mix vocals?", "perspective": "mix_engineering"}
    reference = Engine()
    for frame in (chat, ANALYZE, {"type": "chat", "message": "How do I tame harsh cymbals?"}):
        reply = client.ask(frame)
        assert TIMESTAMP.match(reply["timestamp"])
        assert without_timestamp(reply) == without_timestamp(reference.respond(json.dumps(frame)))


def test_chat_reply_has_the_documents_fields(ws_client):
    reply = ws_client().ask({"type": "chat", "message": "How should I compress a snare?"})
    assert reply["type"] == "chat_response" and reply["perspective"] == "mix_engineering"
    assert isinstance(reply["response"], str) and reply["response"].strip()
    assert 0.0 <= reply["confidence"] <= 1.0


def test_analyze_reply_has_the_documents_fields(ws_client):
    reply = ws_client().ask(ANALYZE)
    assert reply["type"] == "analysis_response" and reply["status"] == "success"
    assert reply["trackId"] == "track_001"
    analysis = reply["analysis"]
    assert analysis["analysis_type"] == "spectrum"
    assert isinstance(analysis["codette_insights"], str) and analysis["codette_insights"]
    assert analysis["mixing_suggestions"] and all(isinstance(s, str) for s in analysis["mixing_suggestions"])
    assert 0.0 <= analysis["quality_score"] <= 1.0


ERROR_FRAMES = [
    ("not json", "Invalid JSON format"),
    (b"\xff\xfe\xfd", "Invalid JSON format"),
    ("[1, 2]", "Invalid message: expected a JSON object with a 'type' field, got array"),
    ('{"type": "ping", "n": NaN}', "Invalid value at 'n': expected a finite number, got NaN"),
    ('{"message": "hi"}', "Invalid message: missing field 'type' (expected a string such as 'chat')"),
    ('{"type": "xyz"}', "Unknown message type: xyz"),
    ('{"type": "chat"}', "Missing field 'message' in chat: expected a non-empty string"),
    ('{"type": "chat", "message": 1}', "Invalid field 'message' in chat: expected a non-empty string, got number"),
    (
        '{"type": "analyze", "track_data": {}, "audio_data": {"peak_level": "loud"}}',
        "Invalid field 'audio_data.peak_level' in analyze: expected a number, got string",
    ),
    *(
        (
            '{"type": "chat", "message": "m", "daw_context": {"x": ' + "[" * depth + "]" * depth + "}}",
            "Invalid message: arrays and objects nested deeper than 100 levels",
        )
        for depth in (100_000, 99)
    ),
]


@pytest.mark.parametrize(("frame", "expected"), ERROR_FRAMES)
def test_each_error_path_answers_and_keeps_the_connection_usable(ws_client, frame, expected):
    client = ws_client()
    reply = client.ask(frame)
    assert reply["type"] == "error" and reply["message"] == expected and TIMESTAMP.match(reply["timestamp"])
    assert client.ask({"type": "ping"})["type"] == "pong"


def test_unknown_perspective_and_analysis_type_list_the_available_ones(ws_client, engine):
    client = ws_client()
    reply = client.ask({"type": "chat", "message": "Hi", "perspective": "astrology"})
    assert reply["type"] == "error" and "'astrology'" in reply["message"]
    for name in engine.perspectives.names():
        assert name in reply["message"]
    reply = client.ask({**ANALYZE, "analysis_type": "vibes"})
    assert reply["type"] == "error" and "'vibes'" in reply["message"]
    for name in ("spectrum", "dynamics", "loudness", "stereo", "quality"):
        assert name in reply["message"]
    assert client.ask({"type": "status"})["type"] == "status_response"


def _pipelined_frames(count: int) -> list[tuple[str, dict | str]]:
    chooser = random.Random(2)
    frames = []
    for index in range(count):
        kind = chooser.choice(["ping", "status", "chat", "analyze", "invalid"])
        if kind == "chat":
            frame = {"type": "chat", "message": f"How loud should the kick be? ({index})"}
        elif kind == "analyze":
            frame = {**ANALYZE, "track_data": {**ANALYZE["track_data"], "track_id": index}}
        elif kind == "invalid":
            frame = {"type": f"bogus{index}"}
        else:
            frame = {"type": kind}
        frames.append((kind, frame))
    return frames


EXPECTED_REPLY = {
    "ping": "pong",
    "status": "status_response",
    "chat": "chat_response",
    "analyze": "analysis_response",
    "invalid": "error",
}


def test_200_pipelined_mixed_requests_come_back_complete_and_in_order(ws_client):
    """Every request is answered; pongs may come early (answered at once), every other reply in order."""
    client = ws_client()
    frames = _pipelined_frames(200)
    for _, frame in frames:
        client.send(frame)
    received = [client.recv() for _ in frames]
    assert sum(reply["type"] == "pong" for reply in received) == sum(kind == "ping" for kind, _ in frames)
    replies = [reply for reply in received if reply["type"] != "pong"]
    others = [(index, (kind, frame)) for index, (kind, frame) in enumerate(frames) if kind != "ping"]
    assert [reply["type"] for reply in replies] == [EXPECTED_REPLY[kind] for _, (kind, _) in others]
    for (index, (kind, _)), reply in zip(others, replies, strict=True):
        if kind == "analyze":
            assert reply["trackId"] == index
        elif kind == "invalid":
            assert reply["message"] == f"Unknown message type: bogus{index}"
    assert client.ask({"type": "ping"})["type"] == "pong"


def test_active_connections_follows_opens_and_closes(ws_client, server):
    first = ws_client()
    assert first.ask({"type": "status"})["active_connections"] == 1
    second, third = ws_client(), ws_client()
    assert third.ask({"type": "status"})["active_connections"] == 3
    assert server.active_connections == 3
    second.close()
    assert first.ask({"type": "status"})["active_connections"] == 2
    third.close()
    assert first.ask({"type": "status"})["active_connections"] == 1
    fourth = ws_client()
    assert fourth.ask({"type": "status"})["active_connections"] == 2
    assert server.active_connections == 2


def test_connections_lists_who_is_connected(ws_client, server):
    local = ws_client(origin="http://localhost:5173")
    local.ask({"type": "ping"})
    native = ws_client()
    infos = {info.id: info for info in server.connections()}
    assert len(infos) == 2
    by_origin = {info.origin: info for info in infos.values()}
    assert by_origin["http://localhost:5173"].messages == 1 and by_origin[None].messages == 0
    assert all(info.remote_address.startswith("127.0.0.1:") for info in infos.values())
    native.close()
    assert [info.origin for info in server.connections()] == ["http://localhost:5173"]


def test_each_connection_is_its_own_chat_session(ws_client, engine):
    first, second = ws_client(), ws_client()
    first.ask({"type": "chat", "message": "How should I EQ the bass?"})
    second.ask({"type": "chat", "message": "How should I EQ the bass?"})
    second.ask({"type": "chat", "message": "And the kick?"})
    sessions = engine.memory.sessions()
    assert len(sessions) == 2 and all(session.startswith("ws-") for session in sessions)
    assert sorted(len(engine.memory.recent(session)) for session in sessions) == [1, 2]
    assert second.ask({"type": "status"})["memory_size"] == len(engine.memory) == 3


def test_a_repeated_ping_and_frames_after_it_are_each_answered_for_what_they_are(ws_client) -> None:
    """The last ping's bytes are remembered to skip parsing: any other frame after it is parsed anew."""
    client = ws_client()
    frames = ['{"type": "ping"}', '{"type": "ping"}', '{"type":"ping"}', '{"type": "pang"}', '{"type": "ping"}']
    for frame in frames:
        reply = client.ask(frame)
        assert reply["type"] == ("error" if "pang" in frame else "pong"), (frame, reply)
        assert TIMESTAMP.match(reply["timestamp"])
