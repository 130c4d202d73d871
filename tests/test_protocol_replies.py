"""Reply builders, their timestamps and their encoding (no sockets)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import numpy
import pytest

from codette_lab.protocol import encode, replies, utc_timestamp

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

BUILDERS = {
    "connection": lambda: replies.welcome(codette_available=True),
    "pong": replies.pong,
    "error": lambda: replies.error("Invalid JSON format"),
    "chat_response": lambda: replies.chat_response(
        response="Cut 300 Hz.", perspective="mix_engineering", confidence=0.7, topics=["eq"]
    ),
    "status_response": lambda: replies.status_response(
        codette_available=True, engine_type="codette_lab.engine.Engine", memory_size=4, active_connections=2
    ),
    "analysis_response": lambda: replies.analysis_response(track_id="t1", analysis={"analysis_type": "spectrum"}),
}


@pytest.mark.parametrize("kind", BUILDERS)
def test_every_reply_has_its_type_and_a_millisecond_utc_timestamp(kind):
    message = json.loads(encode(BUILDERS[kind]()))
    assert message["type"] == kind
    assert TIMESTAMP.match(message["timestamp"]), message["timestamp"]
    assert list(message)[-1] == "timestamp"


def test_health_body_has_the_original_servers_fields():
    body = replies.health(codette_available=True)
    assert set(body) == {"status", "service", "codette_available", "timestamp"}
    assert body["status"] == "healthy" and TIMESTAMP.match(body["timestamp"])


def test_document_field_order_is_kept_and_extra_fields_follow():
    assert list(BUILDERS["chat_response"]()) == ["type", "response", "perspective", "confidence", "topics", "timestamp"]
    assert list(BUILDERS["status_response"]()) == [
        "type",
        "status",
        "codette_available",
        "engine_type",
        "memory_size",
        "active_connections",
        "timestamp",
    ]
    assert list(BUILDERS["analysis_response"]()) == ["type", "status", "trackId", "analysis", "timestamp"]


def test_timestamps_are_converted_to_utc_and_truncated_to_milliseconds():
    moment = datetime(2025, 12, 3, 22, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=1)))
    assert utc_timestamp(moment) == "2025-12-03T21:00:00.999Z"
    assert utc_timestamp(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2025-01-02T03:04:05.000Z"


def test_encode_never_emits_nan_or_infinity():
    message = replies.analysis_response(
        track_id=1,
        analysis={
            "metrics": {
                "peak_dbfs": float("-inf"),
                "flatness": float("nan"),
                "bands": numpy.array([1.0, numpy.nan]),
                "count": numpy.int64(3),
            }
        },
    )
    text = encode(message)
    assert "NaN" not in text and "Infinity" not in text
    metrics = json.loads(text)["analysis"]["metrics"]
    assert metrics == {"peak_dbfs": None, "flatness": None, "bands": [1.0, None], "count": 3}


def test_finite_makes_nested_data_json_ready_and_is_what_encode_uses():
    data = {
        "levels": (numpy.float32(0.5), float("inf")),
        1: {"deep": [numpy.nan, numpy.int16(-2), "text", None, True]},
        "array": numpy.array([[1.5, numpy.inf]]),
    }
    cleaned = replies.finite(data)
    assert cleaned == {"levels": [0.5, None], "1": {"deep": [None, -2, "text", None, True]}, "array": [[1.5, None]]}
    assert type(cleaned["levels"][0]) is float and type(cleaned["1"]["deep"][1]) is int
    json.dumps(cleaned, allow_nan=False)
    assert json.loads(encode({"type": "x", "data": data}))["data"] == cleaned


def test_timestamps_of_now_follow_the_clock_across_a_second_boundary():
    from datetime import datetime, timedelta

    seconds_seen = set()
    deadline = datetime.now(UTC) + timedelta(seconds=1.2)
    while datetime.now(UTC) < deadline:
        before = datetime.now(UTC)
        stamp = utc_timestamp()
        after = datetime.now(UTC)
        parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert before - timedelta(milliseconds=1) <= parsed <= after, (before, stamp, after)
        seconds_seen.add(parsed.second)
    assert len(seconds_seen) >= 2


def test_the_pong_frame_written_out_is_the_encoded_pong():
    pong = replies.pong()
    assert replies.pong_frame(pong) == encode(pong)
