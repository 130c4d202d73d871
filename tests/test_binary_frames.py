"""Audio sent as its own encoded bytes in a binary frame ("CDA1"), and the lists a status reply offers.

Real files encoded by libsndfile in the test (WAV, FLAC, OGG, MP3, AIFF),
decoded by the engine and by a real server on 127.0.0.1 (whose parsing
processes decode them); hostile frames get their error texts and the server
keeps serving.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import WsClient
from websockets.exceptions import ConnectionClosed

from codette_lab.engine import Engine
from codette_lab.protocol.attachments import MAGIC, build_frame
from codette_lab.server import BackgroundServer

RATE = 44100
#: Seconds a reply may take: a server's first analysis imports and compiles, on a machine shared with others.
REPLY_TIMEOUT = 120


def encoded(seconds: float = 1.0, *, fmt: str = "FLAC", subtype: str = "PCM_16", rate: int = RATE) -> bytes:
    """A stereo noise clip at -20 dBFS RMS, encoded as a file in memory."""
    noise = np.random.default_rng(7).standard_normal((int(seconds * rate), 2)) * 0.1
    buffer = io.BytesIO()
    soundfile.write(buffer, noise.astype("float32"), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def analyze_header(*sizes: int, analysis_type: str = "loudness", name: str = "mix.flac", **extra) -> bytes:
    request = {
        "type": "analyze",
        "analysis_type": analysis_type,
        "track_data": {"track_id": "t1", "track_name": "Mix", "track_type": "master"},
        "audio_data": {"attachment": {"bytes": sizes[0], "name": name}},
        **extra,
    }
    if len(sizes) > 1:
        request["other_track"] = {
            "track_data": {"track_name": "Vocal", "track_type": "vocal"},
            "audio_data": {"attachment": {"bytes": sizes[1], "name": "vocal.wav"}},
        }
    return json.dumps(request).encode()


def attachment_frame(*files: bytes, **options) -> bytes:
    return build_frame(analyze_header(*(len(data) for data in files), **options), *files)


@pytest.fixture(scope="module")
def hours_of_silence() -> bytes:
    """Three hours of mono silence as FLAC: a few hundred kilobytes that would decode to 350 MB."""
    buffer = io.BytesIO()
    with soundfile.SoundFile(buffer, "w", 8000, 1, format="FLAC", subtype="PCM_16") as sink:
        block = np.zeros(8000 * 600, dtype="int16")
        for _ in range(18):
            sink.write(block)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "subtype"),
    [("WAV", "FLOAT"), ("FLAC", "PCM_24"), ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III"), ("AIFF", "PCM_16")],
)
def test_each_container_is_sniffed_and_measured(fmt, subtype):
    reply = Engine().respond(attachment_frame(encoded(fmt=fmt, subtype=subtype)))
    assert reply["type"] == "analysis_response", reply
    analysis = reply["analysis"]
    assert analysis["measured_from"] == "audio"
    # the noise is at -20 dBFS RMS (0.1 standard deviation), whatever the container's coding
    assert analysis["metrics"]["rms_dbfs"] == pytest.approx(-20, abs=1.0)


def test_masking_takes_two_attachments_in_order():
    mix, vocal = encoded(1.0), encoded(1.0, fmt="WAV", subtype="PCM_16")
    reply = Engine().respond(attachment_frame(mix, vocal, analysis_type="masking"))
    assert reply["type"] == "analysis_response", reply
    assert reply["analysis"]["measured_from"] == "audio"


def test_bytes_that_are_not_audio_get_an_error_naming_the_field():
    reply = Engine().respond(attachment_frame(b"this is a text file, not a song" * 40, name="notes.txt"))
    assert reply["type"] == "error"
    assert reply["message"].startswith(
        "Invalid field 'audio_data.attachment' in analyze: the attached bytes are not audio the server can decode"
    )
    assert "'notes.txt'" in reply["message"]


def test_a_tiny_file_of_hours_is_refused_from_its_header(hours_of_silence):
    assert len(hours_of_silence) < 2**20
    reply = Engine().respond(attachment_frame(hours_of_silence, name="silence.flac"))
    assert reply == {**reply, "type": "error"}
    assert reply["message"] == (
        "Invalid field 'audio_data.attachment' in analyze: 'silence.flac' lasts 10800 s by its header; "
        "the server decodes audio of at most 600 s (max_audio_seconds)"
    )


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (MAGIC + b"\x00\x00", "needs 8 bytes before its header"),
        (MAGIC + b"\x00\x00\x01\x00{}", "the header length says 256 bytes but only 2 bytes follow it"),
        (build_frame(b"not json"), "Invalid JSON format"),
        (build_frame(b'{"type": "ping"}', b"xx"), "must hold an analyze request, not ping"),
        (
            build_frame(analyze_header(10), b"12345"),
            "Invalid field 'audio_data.attachment' in analyze: the attachments declare 10 bytes but 5 bytes follow",
        ),
        (
            build_frame(analyze_header(0), b""),
            "Invalid field 'audio_data.attachment.bytes' in analyze: expected a whole number >= 1",
        ),
    ],
)
def test_malformed_frames_are_named(frame, expected):
    reply = Engine().respond(frame)
    assert reply["type"] == "error" and expected in reply["message"], reply


def test_a_text_frame_cannot_refer_to_attached_bytes():
    reply = Engine().respond(analyze_header(100).decode())
    assert reply["type"] == "error"
    assert reply["message"].startswith(
        "Invalid field 'audio_data.attachment' in analyze: attached audio comes only in a binary frame"
    )


def test_samples_and_an_attachment_together_are_refused():
    header = json.loads(analyze_header(4))
    header["audio_data"].update(samples="AAAAAA==", sample_rate=RATE)
    reply = Engine().respond(build_frame(json.dumps(header).encode(), b"abcd"))
    assert reply["type"] == "error"
    assert "give either 'audio_data.attachment' or 'audio_data.samples'" in reply["message"]


def test_the_server_decodes_attachments_off_its_loop_and_keeps_serving(server, hours_of_silence):
    client = WsClient(server.url, timeout=REPLY_TIMEOUT)
    reply = client.ask(attachment_frame(encoded(5.0), analysis_type="quality"))
    assert reply["type"] == "analysis_response" and reply["analysis"]["measured_from"] == "audio", reply
    small = client.ask(attachment_frame(encoded(0.2, fmt="OGG", subtype="VORBIS"), name="tiny.ogg"))
    assert small["type"] == "analysis_response", small  # small attachment frames are decoded off the loop too
    refused = client.ask(attachment_frame(hours_of_silence, name="silence.flac"))
    assert refused["type"] == "error" and "(max_audio_seconds)" in refused["message"]
    garbage = client.ask(attachment_frame(b"\x00" * 300_000, name="zeros.bin"))
    assert garbage["type"] == "error" and "not audio the server can decode" in garbage["message"]
    assert client.ask({"type": "ping"})["type"] == "pong"
    client.close()


def test_the_servers_audio_length_limit_applies_to_attachments():
    with (
        BackgroundServer(Engine(max_audio_seconds=2), port=0) as server,
        WsClient(server.url, timeout=REPLY_TIMEOUT) as client,
    ):
        reply = client.ask(attachment_frame(encoded(3.0), name="three.flac"))
        assert reply["type"] == "error" and "at most 2 s (max_audio_seconds)" in reply["message"]
        assert client.ask(attachment_frame(encoded(1.0)))["type"] == "analysis_response"


def test_decoded_audio_counts_against_the_shared_audio_budget():
    """A FLAC frame of 1 MB decodes to 10 MB of float32: the budget sees the decoded size."""
    with (
        BackgroundServer(Engine(), port=0, max_audio_bytes=6 * 2**20) as server,
        WsClient(server.url, timeout=REPLY_TIMEOUT) as client,
    ):
        frame = attachment_frame(encoded(30.0, subtype="PCM_16"))
        assert len(frame) < 6 * 2**20
        reply = client.ask(frame)
        assert reply["type"] == "error" and reply["message"].startswith("Server busy: "), reply
        assert client.ask(attachment_frame(encoded(5.0)))["type"] == "analysis_response"


def test_attachment_frames_may_exceed_the_text_frame_limit_and_text_frames_may_not():
    with BackgroundServer(Engine(), port=0, max_message_bytes=2**20) as server:
        with WsClient(server.url, timeout=REPLY_TIMEOUT) as client:
            frame = attachment_frame(encoded(10.0, fmt="WAV", subtype="PCM_16"))
            assert len(frame) > 2**20
            assert client.ask(frame)["type"] == "analysis_response"
        with WsClient(server.url) as client:
            client.send(json.dumps({"type": "chat", "message": "x" * 2**20}))
            with pytest.raises(ConnectionClosed):
                client.recv()
            assert client.close_code == 1009


def test_status_lists_what_is_offered_now_notebook_definitions_included(server, ws_client):
    engine = server.engine
    status = ws_client().ask({"type": "status"})
    perspectives = {entry["name"]: entry["description"] for entry in status["perspectives"]}
    kinds = {entry["name"]: entry["description"] for entry in status["analysis_types"]}
    assert {"mix_engineering", "teaching"} <= perspectives.keys() and all(perspectives.values())
    assert {"spectrum", "masking", "quality"} <= kinds.keys() and all(kinds.values())
    assert all(set(entry) == {"name", "description"} for entry in status["perspectives"] + status["analysis_types"])

    def mastering_coach(request):
        """Checks before mastering, <b>bold</b> stays text."""
        return "Check the loudest section."

    engine.perspectives.register("mastering_coach", mastering_coach)
    engine.analysis_types.register("headroom", lambda request: {"insights": "ok"}, description="Room to 0 dBFS.")
    status = ws_client().ask({"type": "status"})
    assert {"name": "mastering_coach", "description": "Checks before mastering, <b>bold</b> stays text."} in status[
        "perspectives"
    ]
    assert {"name": "headroom", "description": "Room to 0 dBFS."} in status["analysis_types"]
    for key in ("codette_available", "engine_type", "memory_size", "active_connections", "timestamp"):
        assert key in status  # the document's fields are all still there


@pytest.mark.parametrize("keep", [False, True])
def test_recordings_keep_attached_files_as_a_hash_or_their_bytes_and_replay_them(tmp_path, keep):
    from codette_lab.recording import Recorder, read_recording, replay

    engine = Engine()
    recorder = Recorder(tmp_path, rules=engine.rules, keep_samples=keep)
    flac = encoded(2.0)
    with (
        BackgroundServer(engine, port=0, recorder=recorder) as server,
        WsClient(server.url, timeout=REPLY_TIMEOUT) as client,
    ):
        assert client.ask(attachment_frame(flac, name="mix.flac"))["type"] == "analysis_response"
    recorder.close()
    [exchange] = read_recording(tmp_path)
    audio = exchange.request["audio_data"]
    assert audio["attachment"]["bytes"] == len(flac) and audio["attachment"]["name"] == "mix.flac"
    size = sum(path.stat().st_size for path in recorder.files)
    outcome = replay(tmp_path, engine.rules).outcomes[0]
    if keep:
        assert not exchange.samples_omitted and size > len(flac)
        assert outcome.status == "same", outcome
    else:
        assert exchange.samples_omitted and size < len(flac) / 10
        assert audio["samples_omitted"] == {
            "sha256": hashlib.sha256(flac).hexdigest(),
            "bytes": len(flac),
            "channels": 2,
            "duration_s": 2.0,
            "format": "FLAC",
        }
        assert outcome.status == "not replayed" and "hash only" in outcome.reason


def test_the_audio_cap_follows_the_machines_memory():
    from codette_lab.cli import build_parser
    from codette_lab.server import serve
    from codette_lab.server.limits import (
        AUDIO_MEMORY_FRACTION,
        DEFAULT_MAX_AUDIO_BYTES,
        DEFAULT_MAX_MESSAGE_BYTES,
        MIB,
        MIN_MAX_AUDIO_BYTES,
        default_max_audio_bytes,
        machine_memory_bytes,
    )

    memory = machine_memory_bytes()
    assert memory is not None and memory > 0
    expected = max(MIN_MAX_AUDIO_BYTES, int(memory * AUDIO_MEMORY_FRACTION) // MIB * MIB)
    assert default_max_audio_bytes() == DEFAULT_MAX_AUDIO_BYTES == expected
    assert serve().limits.max_audio_bytes == expected
    if memory >= 16 * 2**30:  # twenty 60 s stereo clips sent as samples at once fit (the classroom case)
        assert expected >= 20 * DEFAULT_MAX_MESSAGE_BYTES
    assert build_parser().parse_args(["serve", "--max-audio-mb", "100"]).max_audio_mb == 100


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_parsing_process_gives_a_files_memory_back_once_it_answered():
    """The decoded audio (here 42 MB) leaves the parsing process with its answer, not at the next frame."""
    import asyncio

    from codette_lab.server.parsing import ParserProcesses

    big = attachment_frame(encoded(120.0), name="two-minutes.flac")

    async def measure() -> tuple[float, float]:
        parsers = ParserProcesses(size=1)
        try:
            await parsers.parse(attachment_frame(encoded(0.5)))
            child = parsers._children[0].process.pid
            idle = _rss_mb(child)
            _, decoded = await parsers.parse(big)
            assert decoded["audio_data"][0].nbytes > 40 * 2**20
            deadline = time.monotonic() + 10
            while _rss_mb(child) > idle + 20 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return idle, _rss_mb(child)
        finally:
            await parsers.stop()

    idle, after = asyncio.run(measure())
    assert after < idle + 20, (idle, after)


def test_a_parsing_process_that_dies_mid_frame_gets_a_server_error_and_the_next_frame_a_new_one():
    import asyncio

    from codette_lab.errors import ServerError
    from codette_lab.server.parsing import ParserProcesses

    frame = attachment_frame(encoded(5.0), name="five-seconds.flac")

    async def run() -> tuple[int, int, object]:
        parsers = ParserProcesses(size=1)
        try:
            parsing = asyncio.ensure_future(parsers.parse(frame))
            await asyncio.sleep(0)  # the child is started and the frame on its way to it
            first = parsers._children[0].process
            first.kill()
            with pytest.raises(ServerError, match="A frame-parsing process of the server ended"):
                await parsing
            _, decoded = await parsers.parse(frame)
            return first.pid, parsers._children[0].process.pid, decoded["audio_data"][0].shape
        finally:
            await parsers.stop()

    first, second, shape = asyncio.run(run())
    assert second != first and shape == (2, 5 * RATE)
