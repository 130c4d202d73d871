"""Parsing client frames into requests, and every way a frame can be refused (no sockets)."""

from __future__ import annotations

import json

import pytest

from codette_lab.errors import ProtocolError
from codette_lab.protocol import (
    AnalyzeRequest,
    ChatRequest,
    PingRequest,
    StatusRequest,
    parse_request,
)
from codette_lab.protocol.requests import MAX_NESTING


def refusal(frame: str | bytes) -> str:
    with pytest.raises(ProtocolError) as caught:
        parse_request(frame)
    return str(caught.value)


def test_ping_and_status_parse_to_their_requests():
    assert parse_request('{"type": "ping"}') == PingRequest()
    assert parse_request('{"type": "status", "extra": 1}') == StatusRequest()


def test_chat_keeps_message_perspective_and_context():
    frame = {
        "type": "chat",
        "message": "How should I mix vocals?",
        "perspective": "mix_engineering",
        "daw_context": {"tracks": [{"name": "Vox"}], "selected_track": {"name": "Vox", "type": "vocal"}},
    }
    request = parse_request(json.dumps(frame))
    assert request == ChatRequest(
        message="How should I mix vocals?", perspective="mix_engineering", daw_context=frame["daw_context"]
    )


@pytest.mark.parametrize("perspective", [None, "", "   "])
def test_chat_without_perspective_leaves_the_choice_to_the_engine(perspective):
    frame = {"type": "chat", "message": "Hello!"}
    if perspective is not None:
        frame["perspective"] = perspective
    request = parse_request(json.dumps(frame))
    assert request.perspective is None and request.daw_context == {}


def test_analyze_from_the_document_example():
    frame = {
        "type": "analyze",
        "track_data": {
            "track_id": "track_001",
            "track_name": "Lead Vocal",
            "track_type": "vocal",
            "muted": False,
            "soloed": True,
        },
        "audio_data": {"peak_level": -6.0, "rms_level": -18, "duration": 120.5, "sample_rate": 44100},
        "analysis_type": "spectrum",
    }
    request = parse_request(json.dumps(frame))
    assert isinstance(request, AnalyzeRequest)
    assert request.track.track_id == "track_001" and request.track.track_type == "vocal"
    assert request.track.soloed is True and request.track.muted is False
    assert request.audio.rms_level == -18.0 and request.audio.sample_rate == 44100.0
    assert not request.audio.has_audio and request.other_track is None


def test_analyze_defaults_to_spectrum_and_reads_the_masking_partner():
    frame = {
        "type": "analyze",
        "track_data": {"track_id": 7},
        "other_track": {"track_data": {"track_id": "bass"}, "audio_data": {"file_path": "bass.flac"}},
    }
    request = parse_request(json.dumps(frame))
    assert request.analysis_type == "spectrum" and request.track.track_id == 7
    assert request.other_track.track.track_id == "bass" and request.other_track.audio.has_audio


def test_binary_frames_are_read_as_utf8_text():
    assert parse_request('{"type": "chat", "message": "Gain für Gesang?"}'.encode()).message == "Gain für Gesang?"


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "{",
        "",
        '{"type": "ping",}',
        "{'type': 'ping'}",
        b"\xff\xfe\x00",
        '{"type": "ping"}'.encode("utf-16"),
    ],
)
def test_invalid_json_gets_the_documents_text(frame):
    assert refusal(frame) == "Invalid JSON format"


def _nested(depth: int) -> str:
    """A chat frame whose daw_context holds arrays nesting the whole frame ``depth`` levels deep."""
    return '{"type": "chat", "message": "m", "daw_context": {"x": ' + "[" * (depth - 2) + "]" * (depth - 2) + "}}"


@pytest.mark.parametrize("frame", ["[" * 100_000, "[" * 100_000 + "]" * 100_000, _nested(100_000), _nested(101)])
def test_frames_nested_too_deeply_are_refused_naming_the_limit(frame):
    assert refusal(frame) == f"Invalid message: arrays and objects nested deeper than {MAX_NESTING} levels"
    assert refusal(frame.encode()) == refusal(frame)


def test_a_frame_nested_up_to_the_limit_is_read():
    request = parse_request(_nested(MAX_NESTING))
    assert isinstance(request, ChatRequest)
    depth, value = 3, request.daw_context["x"]  # the frame is level 1, daw_context 2
    while value:
        depth, value = depth + 1, value[0]
    assert depth == MAX_NESTING


@pytest.mark.parametrize(
    ("frame", "kind"), [("[]", "array"), ("1", "number"), ('"ping"', "string"), ("null", "null"), ("true", "boolean")]
)
def test_json_that_is_not_an_object_is_named(frame, kind):
    assert refusal(frame) == f"Invalid message: expected a JSON object with a 'type' field, got {kind}"


@pytest.mark.parametrize(
    ("frame", "where", "shown"),
    [
        ('{"type": "ping", "x": NaN}', "x", "NaN"),
        (
            '{"type": "analyze", "track_data": {}, "audio_data": {"peak_level": Infinity}}',
            "audio_data.peak_level",
            "Infinity",
        ),
        (
            '{"type": "chat", "message": "m", "daw_context": {"tracks": [{"v": [0, -Infinity]}]}}',
            "daw_context.tracks[0].v[1]",
            "-Infinity",
        ),
    ],
)
def test_nan_and_infinity_are_refused_where_they_sit(frame, where, shown):
    assert refusal(frame) == f"Invalid value at '{where}': expected a finite number, got {shown}"


def test_missing_or_unknown_type():
    assert refusal("{}") == "Invalid message: missing field 'type' (expected a string such as 'chat')"
    assert refusal('{"type": null}') == "Invalid message: missing field 'type' (expected a string such as 'chat')"
    assert refusal('{"type": 3}') == "Invalid field 'type': expected a string, got number"
    assert refusal('{"type": "xyz"}') == "Unknown message type: xyz"
    assert refusal('{"type": "Ping"}') == "Unknown message type: Ping"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"type": "chat"}, "Missing field 'message' in chat: expected a non-empty string"),
        ({"type": "chat", "message": 42}, "Invalid field 'message' in chat: expected a non-empty string, got number"),
        (
            {"type": "chat", "message": "  "},
            "Invalid field 'message' in chat: expected a non-empty string, got empty string",
        ),
        (
            {"type": "chat", "message": "m", "perspective": ["a"]},
            "Invalid field 'perspective' in chat: expected a string, got array",
        ),
        (
            {"type": "chat", "message": "m", "daw_context": "x"},
            "Invalid field 'daw_context' in chat: expected an object, got string",
        ),
        (
            {"type": "chat", "message": "m", "daw_context": {"tracks": {}}},
            "Invalid field 'daw_context.tracks' in chat: expected an array of track objects, got object",
        ),
        (
            {"type": "chat", "message": "m", "daw_context": {"selected_track": 3}},
            "Invalid field 'daw_context.selected_track' in chat: expected an object, got number",
        ),
        ({"type": "analyze"}, "Missing field 'track_data' in analyze: expected an object"),
        ({"type": "analyze", "track_data": []}, "Invalid field 'track_data' in analyze: expected an object, got array"),
        (
            {"type": "analyze", "track_data": {"track_id": True}},
            "Invalid field 'track_data.track_id' in analyze: expected a string or a whole number, got boolean",
        ),
        (
            {"type": "analyze", "track_data": {"track_type": 1}},
            "Invalid field 'track_data.track_type' in analyze: expected a string, got number",
        ),
        (
            {"type": "analyze", "track_data": {"muted": "yes"}},
            "Invalid field 'track_data.muted' in analyze: expected true or false, got string",
        ),
        (
            {"type": "analyze", "track_data": {}, "audio_data": {"peak_level": "-6"}},
            "Invalid field 'audio_data.peak_level' in analyze: expected a number, got string",
        ),
        (
            {"type": "analyze", "track_data": {}, "audio_data": {"sample_rate": 0}},
            "Invalid field 'audio_data.sample_rate' in analyze: expected a number > 0, got 0",
        ),
        (
            {"type": "analyze", "track_data": {}, "audio_data": {"duration": -1}},
            "Invalid field 'audio_data.duration' in analyze: expected a number >= 0, got -1",
        ),
        (
            {"type": "analyze", "track_data": {}, "audio_data": {"channels": 1.5}},
            "Invalid field 'audio_data.channels' in analyze: expected a whole number, got number",
        ),
        (
            {"type": "analyze", "track_data": {}, "audio_data": {"samples": "AAAA"}},
            "Missing field 'audio_data.sample_rate' in analyze: expected a number > 0 when 'samples' is sent",
        ),
        (
            {
                "type": "analyze",
                "track_data": {},
                "audio_data": {"samples": "AAAA", "file_path": "a.wav", "sample_rate": 44100},
            },
            "Invalid field 'audio_data.samples' in analyze: give either 'audio_data.samples' or "
            "'audio_data.file_path', not both",
        ),
        (
            {"type": "analyze", "track_data": {}, "analysis_type": 5},
            "Invalid field 'analysis_type' in analyze: expected a non-empty string, got number",
        ),
        (
            {"type": "analyze", "track_data": {}, "other_track": {"audio_data": {"rms_level": False}}},
            "Invalid field 'other_track.audio_data.rms_level' in analyze: expected a number, got boolean",
        ),
    ],
)
def test_malformed_fields_are_named_with_what_was_expected(message, expected):
    assert refusal(json.dumps(message)) == expected


RMS_OVER_PEAK = (
    "expected at most 3.01 dB over the peak level (-20 dBFS), got -6: a signal's RMS never exceeds its peak "
    "(an AES-17 meter reads a square wave 3 dB over it)"
)


@pytest.mark.parametrize(
    ("track", "audio", "expected"),
    [
        (
            {},
            {"peak_level": 1e308},
            "Invalid field 'audio_data.peak_level' in analyze: expected a number <= 200, got 1e+308",
        ),
        (
            {"peak_level": 250},
            None,
            "Invalid field 'track_data.peak_level' in analyze: expected a number <= 200, got 250",
        ),
        ({}, {"rms_level": 201}, "Invalid field 'audio_data.rms_level' in analyze: expected a number <= 200, got 201"),
        ({}, {"peak_level": -20, "rms_level": -6}, f"Invalid field 'audio_data.rms_level' in analyze: {RMS_OVER_PEAK}"),
        (
            {"peak_level": -20, "rms_level": -6},
            None,
            f"Invalid field 'track_data.rms_level' in analyze: {RMS_OVER_PEAK}",
        ),
        ({"rms_level": -6}, {"peak_level": -20}, f"Invalid field 'track_data.rms_level' in analyze: {RMS_OVER_PEAK}"),
        ({"peak_level": -20}, {"rms_level": -6}, f"Invalid field 'audio_data.rms_level' in analyze: {RMS_OVER_PEAK}"),
    ],
)
def test_levels_no_meter_shows_are_refused_naming_the_field(track, audio, expected):
    """A level over 200 dBFS, or an RMS over the peak (from either object), would only make nonsense advice ("turn
    it down by 506 dB", "over-compressed at a crest factor of -14 dB")."""
    message = {"type": "analyze", "track_data": track} | ({"audio_data": audio} if audio is not None else {})
    assert refusal(json.dumps(message)) == expected


@pytest.mark.parametrize(
    ("peak", "rms", "read"),
    [
        (-6.0, -3.0, (-6.0, -3.0)),
        (200.0, -10.0, (200.0, -10.0)),
        (-120.0, None, (-120.0, None)),
        (-1000.0, -1000.0, (-1000.0, -1000.0)),
        (-1e9, -1e300, (-1000.0, -1000.0)),
    ],
)
def test_levels_any_meter_can_show_are_read(peak, rms, read):
    """An AES-17 RMS meter reads a square wave up to 3 dB over its peak; silence comes however a DAW spells it
    (-150, -1000, -1e9 dBFS) and is read as -1000 dBFS, never refused."""
    audio = {"peak_level": peak} | ({"rms_level": rms} if rms is not None else {})
    request = parse_request(json.dumps({"type": "analyze", "track_data": {}, "audio_data": audio}))
    assert (request.audio.peak_level, request.audio.rms_level) == read
