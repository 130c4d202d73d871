"""Received data read fairly: websockets' buffer kept in pieces, bulk reads held for a later pass.

The buffer is checked against the ``bytearray`` websockets uses, on any
sequence of appends and reads (hypothesis). The holding of bulk reads is
checked on a real server: many connections sending large frames at once (so
that passes of the event loop run out of budget and reads are held) still
get every reply, each for its own frame, while another connection's pings
are answered all along.
"""

from __future__ import annotations

import base64
import json
import threading
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from codette_lab.engine import Engine
from codette_lab.server import BackgroundServer
from codette_lab.server.reading import BULK_READ_BYTES, ChunkedBuffer

steps = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.binary(max_size=64)),
        st.tuples(st.just("take"), st.integers(min_value=0, max_value=80)),
        st.tuples(st.just("find"), st.integers(min_value=0, max_value=10)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_the_buffer_in_pieces_reads_as_the_bytearray_websockets_keeps(operations) -> None:
    pieces, whole = ChunkedBuffer(), bytearray()
    for operation, value in operations:
        if operation == "append":
            pieces += value
            whole += value
        elif operation == "take":
            count = min(value, len(whole))
            assert bytes(pieces[:count]) == bytes(whole[:count])
            del pieces[:count]
            del whole[:count]
        else:
            assert pieces.find(b"\n", value) == whole.find(b"\n", value)
        assert len(pieces) == len(whole)
    assert bytes(pieces[:]) == bytes(whole)


def test_the_buffer_refuses_reads_that_do_not_start_at_its_start() -> None:
    pieces = ChunkedBuffer()
    pieces += b"abcdef"
    for key in (slice(1, 3), slice(0, 4, 2)):
        try:
            pieces[key]
        except ValueError as exc:
            assert "only read from its start" in str(exc)
        else:
            raise AssertionError(f"{key} was accepted")


def _clip_frame(index: int, seconds: float = 6.0) -> str:
    """A stereo clip whose level depends on ``index``, so each reply can be matched to its frame."""
    rate = 44100
    t = np.arange(int(seconds * rate)) / rate
    level = 0.02 * (index + 1)
    x = np.stack([level * np.sin(2 * np.pi * 220 * t)] * 2, axis=1).astype("<f4")
    return json.dumps(
        {
            "type": "analyze",
            "analysis_type": "loudness",
            "track_data": {"track_id": f"daw{index}", "track_type": "master"},
            "audio_data": {"samples": base64.b64encode(x.tobytes()).decode(), "sample_rate": rate, "channels": 2},
        }
    )


def test_many_large_frames_at_once_each_get_their_own_answer_while_pings_go_on() -> None:
    frames = [_clip_frame(index) for index in range(12)]
    assert all(len(frame) > 40 * BULK_READ_BYTES for frame in frames)  # read in many bulk pieces
    answers: dict[int, dict] = {}
    with BackgroundServer(Engine(), port=0) as server:

        def daw(index: int) -> None:
            with connect(server.url, max_size=None, open_timeout=10) as client:
                client.recv()
                client.send(frames[index])
                answers[index] = json.loads(client.recv(timeout=120))

        pongs = []
        with connect(server.url, open_timeout=10) as pinger:
            pinger.recv()
            threads = [threading.Thread(target=daw, args=(index,)) for index in range(len(frames))]
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                pinger.send('{"type": "ping"}')
                pongs.append(json.loads(pinger.recv(timeout=30))["type"])
                time.sleep(0.01)
            for thread in threads:
                thread.join()
    assert set(pongs) == {"pong"} and len(pongs) > 5
    assert sorted(answers) == list(range(len(frames)))
    levels = []
    for index, answer in sorted(answers.items()):
        assert answer["type"] == "analysis_response", answer
        assert answer["trackId"] == f"daw{index}"
        levels.append(answer["analysis"]["metrics"]["integrated_lufs"])
    assert levels == sorted(levels)  # louder clip, higher level: each answer is its own frame's


def test_a_parsing_process_gives_back_the_request_and_the_samples_sent() -> None:
    """The decoded samples come back through the child's pipe, whole, as arrays the server may write to."""
    import asyncio

    from codette_lab.server.parsing import ParserProcesses

    rate, index = 44100, 3
    frame = _clip_frame(index).encode()

    async def parse():
        parsers = ParserProcesses(size=1)
        try:
            return await parsers.parse(frame)
        finally:
            await parsers.stop()

    request, decoded = asyncio.run(parse())
    samples, sample_rate = decoded["audio_data"]
    assert request.track.track_id == "daw3" and sample_rate == rate and samples.shape == (2, 6 * rate)
    t = np.arange(6 * rate) / rate
    sent = (0.02 * (index + 1) * np.sin(2 * np.pi * 220 * t)).astype("<f4")
    np.testing.assert_array_equal(samples[0], sent)
    np.testing.assert_array_equal(samples[1], sent)
    samples[0, 0] = 0.5  # the arrays are the server's own to use
