"""docs/protocol.md says what the server does: its error catalogue, fixed texts and lists match a real server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codette_lab.protocol import replies, texts
from codette_lab.protocol.requests import REQUEST_TYPES
from codette_lab.protocol.timestamps import utc_timestamp

DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
TEXT = DOC.read_text(encoding="utf-8")


def catalogue() -> list[tuple[str, str]]:
    """The (frame, message) rows between the error-catalogue markers."""
    section = TEXT.split("<!-- error-catalogue: begin -->", 1)[1].split("<!-- error-catalogue: end -->", 1)[0]
    rows = re.findall(r"^\| `(.+)` \| `(.+)` \|$", section, flags=re.MULTILINE)
    assert len(rows) >= 30, "the catalogue table was not found or lost rows"
    return rows


@pytest.mark.parametrize(("frame", "message"), catalogue(), ids=lambda text: text[:60])
def test_each_catalogued_frame_gets_exactly_the_documented_error(ws_client, frame: str, message: str) -> None:
    reply = ws_client().ask(frame)
    assert reply["type"] == "error", reply
    assert reply["message"] == message


def test_the_fixed_texts_and_request_types_are_the_documented_ones() -> None:
    for fixed in (texts.INVALID_JSON, texts.unknown_message_type("<type>"), replies.WELCOME_TEXT, replies.SERVICE_NAME):
        assert fixed in TEXT, fixed
    for request_type in REQUEST_TYPES:
        assert f"### `{request_type}`" in TEXT, request_type
    for reply_type in ("connection", "pong", "status_response", "chat_response", "analysis_response", "error"):
        assert f"### `{reply_type}`" in TEXT, reply_type


def test_the_documented_timestamp_shape_is_the_one_sent(ws_client) -> None:
    shown = re.search(r"```\n(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\n```", TEXT)
    assert shown, "the timestamp example is gone"
    sent = ws_client().ask({"type": "ping"})["timestamp"]
    for stamp in (shown.group(1), sent, utc_timestamp()):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp), stamp


def test_the_documented_analysis_types_and_perspectives_are_the_built_in_ones(engine) -> None:
    for name in engine.analysis_types.names():
        assert f"| `{name}` |" in TEXT, name
    for name in engine.perspectives.names():
        assert f"`{name}`" in TEXT, name


def test_a_failing_notebook_function_gets_the_documented_error(engine, ws_client) -> None:
    def broken_mix(request):
        raise ValueError("no idea")

    engine.perspectives.register("broken", broken_mix)
    reply = ws_client().ask({"type": "chat", "message": "hi", "perspective": "broken"})
    assert reply == {
        "type": "error",
        "message": "perspective 'broken' (function test_a_failing_notebook_function_gets_the_documented_error"
        ".<locals>.broken_mix) raised ValueError: no idea",
        "timestamp": reply["timestamp"],
    }
    assert "`<owner> (function <function>) raised <Exception>: <text>`" in TEXT
    assert "`perspective '<name>'` or `analysis type '<name>'`" in TEXT
