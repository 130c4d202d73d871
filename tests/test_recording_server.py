"""Recording a real server's traffic: every frame and reply on disk as it happens, parts rotated, audio hashed."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from codette_lab.engine import Engine
from codette_lab.errors import RecordingError
from codette_lab.recording import Recorder, read_recording, replay
from codette_lab.server import BackgroundServer
from codette_lab.server.limits import INLINE_PARSE_LIMIT

LEVELS = {
    "type": "analyze",
    "analysis_type": "dynamics",
    "track_data": {"track_id": "t1", "track_name": "Vox", "track_type": "vocal"},
    "audio_data": {"peak_level": -0.5, "rms_level": -8.0, "duration": 3.0, "sample_rate": 44100},
}


def samples_message(seconds: float = 1.0, channels: int = 2) -> dict:
    """An analyze request with a quiet sine as base64 float32 samples (over the inline-parse limit at 1 s)."""
    t = np.arange(round(44100 * seconds)) / 44100
    audio = np.stack([0.1 * np.sin(2 * np.pi * 220 * t)] * channels).T.astype("<f4")
    return {
        "type": "analyze",
        "analysis_type": "loudness",
        "track_data": {"track_id": "t2", "track_name": "Sine", "track_type": "vocal"},
        "audio_data": {
            "samples": base64.b64encode(audio.tobytes()).decode("ascii"),
            "channels": channels,
            "sample_rate": 44100,
        },
    }


def lines(recorder: Recorder) -> list[dict]:
    """Every line of every part, read from disk now (while the server may still run)."""
    return [json.loads(line) for path in recorder.files for line in path.read_text().splitlines()]


@pytest.fixture
def recorded(tmp_path: Path):
    """An engine served with a recorder into tmp_path/rec."""
    engine = Engine()
    recorder = Recorder(tmp_path / "rec", rules=engine.rules)
    server = BackgroundServer(engine, host="127.0.0.1", port=0, recorder=recorder).start()
    yield engine, recorder, server
    server.stop()
    recorder.close()


def test_each_request_and_reply_is_on_disk_before_the_next_request(recorded, ws_client):
    engine, recorder, server = recorded
    client = ws_client(f"{server.url}?name=Studio%20A")
    pong = client.ask({"type": "ping"})
    written = lines(recorder)  # the connection is still open: nothing has been closed or flushed at exit
    assert [line["kind"] for line in written] == ["recording", "connect", "request", "reply"]
    header, connect, request, reply = written
    assert header["format"] == "codette-lab-recording" and header["part"] == 1
    assert header["rules"] == engine.rules.snapshot().identity
    assert header["rules_source"] == "the built-in default_rules.json"
    assert connect["remote_address"].startswith("127.0.0.1:")
    assert request["message"] == {"type": "ping"} and request["connection"] == connect["connection"]
    assert request["session"] == f"ws-{connect['connection']}"
    assert reply["message"] == pong
    assert {line["rules"] for line in written} == {engine.rules.snapshot().identity}
    assert [line["name"] for line in written[1:]] == ["Studio A"] * 3

    error = client.ask("{not json")
    request, reply = lines(recorder)[-2:]
    assert request["frame"] == "{not json" and "message" not in request
    assert reply["message"] == error and error["type"] == "error"


def test_each_line_names_the_rules_in_force_when_it_was_written(recorded, ws_client):
    engine, recorder, server = recorded
    client = ws_client(server.url)
    before = engine.rules.snapshot().identity
    client.ask(LEVELS)
    engine.rules["general.headroom_peak_dbfs"] = -12
    after = engine.rules.snapshot().identity
    client.ask(LEVELS)
    assert before != after
    requests = [line for line in lines(recorder) if line["kind"] == "request"]
    assert [line["rules"] for line in requests] == [before, after]


@pytest.mark.parametrize("seconds", [0.1, 1.0], ids=["parsed-frame", "long-frame-cut-unparsed"])
def test_audio_samples_are_kept_as_a_hash_and_duration(recorded, ws_client, seconds):
    _, recorder, server = recorded
    message = samples_message(seconds=seconds)
    reply = ws_client(server.url).ask(message)
    assert reply["type"] == "analysis_response"
    request = next(line for line in lines(recorder) if line["kind"] == "request")
    audio = request["message"]["audio_data"]
    assert "samples" not in audio
    sent = message["audio_data"]["samples"]
    assert audio["samples_omitted"] == {
        "sha256": hashlib.sha256(sent.encode("ascii")).hexdigest(),
        "bytes": round(44100 * seconds) * 2 * 4,
        "channels": 2,
        "duration_s": seconds,
    }
    assert audio["sample_rate"] == 44100 and audio["channels"] == 2
    assert sum(path.stat().st_size for path in recorder.files) < len(sent) / 10
    assert read_recording(recorder.directory)[0].samples_omitted


def test_samples_are_kept_when_asked(tmp_path, ws_client):
    engine = Engine()
    recorder = Recorder(tmp_path, rules=engine.rules, keep_samples=True)
    message = samples_message(seconds=0.5)
    with BackgroundServer(engine, host="127.0.0.1", port=0, recorder=recorder) as server:
        ws_client(server.url).ask(message)
    [exchange] = read_recording(tmp_path)
    assert exchange.request == message and not exchange.samples_omitted
    assert exchange.reply is not None and exchange.reply["type"] == "analysis_response"


def test_parts_rotate_by_size_and_read_back_as_one_recording(tmp_path, ws_client):
    engine = Engine()
    recorder = Recorder(tmp_path, rules=engine.rules, max_bytes=4000)
    with BackgroundServer(engine, host="127.0.0.1", port=0, recorder=recorder) as server:
        first, second = ws_client(server.url), ws_client(server.url)
        for index in range(12):
            (first if index % 2 else second).ask({**LEVELS, "track_data": {**LEVELS["track_data"], "track_id": index}})
    recorder.close()
    assert len(recorder.files) >= 3
    assert [path.name for path in sorted(tmp_path.glob("*.jsonl"))] == [path.name for path in recorder.files]
    for number, path in enumerate(recorder.files, start=1):
        header = json.loads(path.read_text().splitlines()[0])
        assert header["kind"] == "recording" and header["part"] == number
        assert path.stat().st_size < 4000 + 3000  # a part ends with the line that took it past the limit
    exchanges = read_recording(tmp_path)
    assert [exchange.request["track_data"]["track_id"] for exchange in exchanges] == list(range(12))
    assert all(exchange.reply["trackId"] == exchange.request["track_data"]["track_id"] for exchange in exchanges)


def test_a_recording_cut_short_by_a_crash_reads_back_and_a_damaged_one_is_refused(tmp_path):
    recording = tmp_path / "cut.jsonl"
    request = {"time": "t", "kind": "request", "connection": 1, "session": "ws-1", "rules": "r", "message": LEVELS}
    recording.write_text(json.dumps(request) + "\n" + '{"time": "t", "kind": "rep')
    [exchange] = read_recording(recording)
    assert exchange.request == LEVELS and exchange.reply is None

    recording.write_text('{"kind": "rep\n' + json.dumps(request) + "\n")
    with pytest.raises(RecordingError, match=r"cut\.jsonl, line 1: expected a JSON object"):
        read_recording(recording)
    with pytest.raises(RecordingError, match=r"no such file or folder"):
        read_recording(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("keep_samples", [False, True], ids=["hashed", "kept"])
def test_recording_a_minute_of_stereo_keeps_other_connections_pings_prompt(tmp_path, ws_client, keep_samples):
    engine = Engine()
    recorder = Recorder(tmp_path, rules=engine.rules, keep_samples=keep_samples)
    message = samples_message(seconds=60)  # about 28 MB as JSON: never parsed whole by the recorder
    frame = json.dumps(message)
    assert len(frame) > 28 * 10**6
    pongs: list[int] = []
    done = threading.Event()
    with BackgroundServer(engine, host="127.0.0.1", port=0, recorder=recorder) as server:
        sending, pinging = ws_client(server.url), ws_client(server.url)
        sending.timeout = 120
        pinging.ask({"type": "ping"})  # connected and warm before the frame goes

        def ping_until_done() -> None:
            while not done.is_set():
                assert pinging.ask({"type": "ping"})["type"] == "pong"
                pongs.append(1)
                done.wait(0.005)  # pacing: a ping every few milliseconds, as a DAW's meter would

        pinger = threading.Thread(target=ping_until_done)
        pinger.start()
        try:
            reply = sending.ask(frame)
        finally:
            done.set()
            pinger.join(30)
    recorder.close()
    assert reply["type"] == "analysis_response"
    # Order, not speed (the round trips while large frames arrive are in docs/benchmarks.md): the other
    # connection's pings kept being answered while the frame was received, recorded and analyzed.
    assert len(pongs) > 10, f"{len(pongs)} pongs while the frame was in flight"
    [exchange] = [exchange for exchange in read_recording(tmp_path) if exchange.message_type == "analyze"]
    if keep_samples:
        assert exchange.request == message and exchange.reply == reply
    else:
        sent = message["audio_data"]["samples"]
        assert exchange.request["audio_data"]["samples_omitted"] == {
            "sha256": hashlib.sha256(sent.encode("ascii")).hexdigest(),
            "bytes": 44100 * 60 * 2 * 4,
            "channels": 2,
            "duration_s": 60.0,
        }


def test_large_frames_that_cannot_be_cut_are_hashed_or_kept_as_text(tmp_path, ws_client):
    notes = "x" * (INLINE_PARSE_LIMIT + 10)
    chat = json.dumps({"type": "chat", "message": "How do I EQ vocals?", "daw_context": {"notes": notes}})
    escaped = json.dumps(samples_message(seconds=1.0)).replace("/", "\\/")  # valid JSON, as some encoders send it
    spread = json.dumps(samples_message(seconds=1.0), indent=1).replace("\n", "\r\n")  # CR LF between tokens
    assert "\\/" in escaped and len(spread) > INLINE_PARSE_LIMIT
    for keep_samples in (False, True):
        folder = tmp_path / ("kept" if keep_samples else "hashed")
        engine = Engine()
        recorder = Recorder(folder, rules=engine.rules, keep_samples=keep_samples)
        with BackgroundServer(engine, host="127.0.0.1", port=0, recorder=recorder) as server:
            client = ws_client(server.url)
            assert [client.ask(frame)["type"] for frame in (chat, escaped, spread)] == [
                "chat_response",
                "analysis_response",
                "analysis_response",
            ]
        recorder.close()
        exchanges = read_recording(folder)
        assert [exchange.reply is not None for exchange in exchanges] == [True] * 3
        if keep_samples:  # each frame can be sent again as it came
            assert [exchange.frame_text() for exchange in exchanges[:2]] == [chat, escaped]
            assert exchanges[2].request == json.loads(spread)
            assert replay(folder).counts() == {"same": 3, "changed": 0, "not replayed": 0}
        else:
            assert [exchange.frame_omitted for exchange in exchanges[:2]] == [
                {"sha256": hashlib.sha256(frame.encode()).hexdigest(), "bytes": len(frame)} for frame in (chat, escaped)
            ]
            assert exchanges[2].samples_omitted and exchanges[2].request["audio_data"]["channels"] == 2
            outcomes = replay(folder).outcomes
            assert [outcome.status for outcome in outcomes] == ["not replayed"] * 3
            assert "recorded as a hash only" in outcomes[0].reason
