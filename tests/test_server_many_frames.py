"""Many large frames at once: each gets its own answer while another connection's pings go on.

On a real server, twelve connections send 6 s stereo clips as base64 samples
at the same moment (frames websockets reads in many pieces, parsed in the
server's parsing children), while another connection pings; and a parsing
child gives back the request and the very samples that were sent.
"""

from __future__ import annotations

import base64
import json
import threading
import time

import numpy as np
from websockets.sync.client import connect

from codette_lab.engine import Engine
from codette_lab.server import BackgroundServer


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
    assert all(len(frame) > 2**20 for frame in frames)  # read in many pieces
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
