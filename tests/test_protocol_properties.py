"""Property-based: whatever a client sends, the protocol layer and the live server answer validly.

Frames are drawn from JSON-ish values (fields of the right names with values of
any kind, lone surrogates, NaN, deep nesting), arbitrary text and arbitrary
bytes. The protocol layer must return a request or raise ProtocolError (never
anything else); the engine must answer each with an encodable reply; the live
server must answer each with a valid reply or close with a documented code.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from codette_lab.engine import Engine
from codette_lab.errors import ProtocolError
from codette_lab.protocol import REQUEST_TYPES, encode, parse_request
from codette_lab.server import BackgroundServer

REPLY_TYPES = {"pong", "status_response", "chat_response", "analysis_response", "error"}
#: Close codes the server may use for a frame it cannot take (see the README's Security section).
DOCUMENTED_CLOSE_CODES = {1002, 1007, 1008, 1009, 1011}
FIELD_NAMES = [
    "type", "message", "perspective", "daw_context", "track_data", "audio_data", "analysis_type",
    "other_track", "track_id", "track_name", "track_type", "peak_level", "rms_level", "duration",
    "sample_rate", "samples", "channels", "file_path", "muted", "soloed", "tracks", "selected_track",
]  # fmt: skip

texts = st.text(max_size=40) | st.sampled_from(["\ud800", "a\udfffb", "x\n\x1b[31m", "../../etc/passwd", ""])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | texts
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(FIELD_NAMES) | texts, children, max_size=5)
    ),
    max_leaves=25,
)
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(REQUEST_TYPES) | texts},
    optional={name: values for name in FIELD_NAMES[1:]},
)


def _frame(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)  # \\ud800-style escapes for lone surrogates, NaN as NaN


#: A module-scoped server (or engine) serves every example: that is what the fixture check warns about.
FIXTURE_CHECKS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
frames = messages.map(_frame) | values.map(_frame) | st.text(max_size=200) | st.binary(max_size=200)


@given(frames)
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_protocol_layer_returns_a_request_or_a_protocol_error(frame: str | bytes) -> None:
    try:
        request = parse_request(frame)
    except ProtocolError as error:
        text = str(error)
        text.encode("utf-8")  # sendable: no lone surrogate echoed back
        assert "\n" not in text and "\x1b" not in text
    else:
        assert request.TYPE in REQUEST_TYPES


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(audio_roots=[])


@given(frame=frames)
@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE_CHECKS)
def test_the_engine_answers_every_frame_with_an_encodable_reply(engine: Engine, frame: str | bytes) -> None:
    reply = engine.respond(frame)
    assert reply["type"] in REPLY_TYPES
    assert json.loads(encode(reply))["type"] == reply["type"]
    if reply["type"] == "error":
        assert "\n" not in reply["message"] and len(reply["message"]) < 3000


class _Client:
    """One connection kept across examples, opened again after a documented close."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.socket: ClientConnection | None = None

    def ask(self, frame: str | bytes) -> dict[str, Any] | int:
        """The reply to ``frame``, or the close code when the server closed the connection."""
        if self.socket is None:
            self.socket = connect(self.url, open_timeout=10, max_size=None).__enter__()
            assert json.loads(self.socket.recv(timeout=10))["type"] == "connection"
        try:
            self.socket.send(frame)
            return json.loads(self.socket.recv(timeout=20))
        except ConnectionClosed:
            code = self.socket.close_code
            self.socket = None
            return code if code is not None else -1

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()


@pytest.fixture(scope="module")
def live():
    with BackgroundServer(Engine(audio_roots=[]), port=0) as server:
        client = _Client(server.url)
        yield client
        client.close()


@given(frame=frames)
@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE_CHECKS)
def test_the_live_server_answers_validly_or_closes_with_a_documented_code(live: _Client, frame: str | bytes) -> None:
    answer = live.ask(frame)
    if isinstance(answer, int):
        assert answer in DOCUMENTED_CLOSE_CODES
    else:
        assert answer["type"] in REPLY_TYPES and "timestamp" in answer
    pong = live.ask('{"type": "ping"}')  # and the connection (or the next one) carries on
    assert isinstance(pong, dict) and pong["type"] == "pong"


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ('{"type": "chat", "message": "a\\ud800b"}', "message"),
        ('{"type": "chat", "message": "x", "perspective": "\\udfff"}', "perspective"),
        (
            '{"type": "chat", "message": "x", "daw_context": {"tracks": [{"name": "\\ud83d"}]}}',
            "daw_context.tracks[0].name",
        ),
        ('{"type": "analyze", "track_data": {"track_name": "\\udc00"}}', "track_data.track_name"),
        ('{"type": "analyze", "track_data": {}, "audio_data": {"file_path": "a\\udc80.wav"}}', "audio_data.file_path"),
        ('{"type": "\\ud800"}', "type"),
    ],
)
def test_a_lone_surrogate_in_any_string_gets_an_error_naming_its_field(frame: str, field: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_request(frame)
    assert str(caught.value) == (
        f"Invalid value at '{field}': expected Unicode text, got a string holding a lone surrogate"
    )
    assert parse_request('{"type": "chat", "message": "ok \\ud83d\\ude00"}').message == "ok \U0001f600"  # a valid pair
