"""Benchmark: the fast paths the server dropped, and what it does now without them.

The server uses its libraries' documented API only (``tests/test_documented_api.py``).
Each fast path that reached into internals was measured on and off and dropped
for not helping measurably; this section keeps the record. Measured live:
DAWS connections each send a CLIP_SECONDS stereo clip as base64 ``samples`` at
the same moment (a class pressing "analyze" together) while a connection in a
process of its own pings back to back (what fair reading was meant to protect),
over ROUNDS rounds on ``codette-lab serve``; and the JSON module against its C
encoder and scanner called directly. Fair reading's own figures are quoted from
its last run, since its code is gone.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import time

from bench_server import Server, ours
from serving import REPLY_TIMEOUT_S, _Pinger, percentile

DAWS = 12
CLIP_SECONDS = 30
SR = 44100
ROUNDS = 3


def clip_frame() -> str:
    """A CLIP_SECONDS stereo clip as an ``analyze`` request (``loudness``) with base64 float32 samples."""
    import numpy as np

    t = np.arange(CLIP_SECONDS * SR) / SR
    x = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t)], axis=1).astype("<f4")
    return json.dumps(
        {
            "type": "analyze",
            "analysis_type": "loudness",
            "track_data": {"track_id": "clip", "track_type": "master"},
            "audio_data": {"samples": base64.b64encode(x.tobytes()).decode("ascii"), "sample_rate": SR, "channels": 2},
        }
    )


async def _burst(url: str, frame: str) -> float:
    """Seconds until all DAWS connections, sending ``frame`` at once, have their analysis_response."""
    from websockets.asyncio.client import connect

    async def daw(client) -> None:
        await client.send(frame)
        reply = json.loads(await asyncio.wait_for(client.recv(), REPLY_TIMEOUT_S))
        if reply.get("type") != "analysis_response":
            raise RuntimeError(f"a clip was answered with {reply.get('type')}: {reply.get('message')}")

    clients = [await connect(url, max_size=None, compression=None) for _ in range(DAWS)]
    try:
        for client in clients:
            await client.recv()  # the welcome
        started = time.perf_counter()
        await asyncio.gather(*(daw(client) for client in clients))
        return time.perf_counter() - started
    finally:
        for client in clients:
            await client.close()


#: Fair reading's last run on and off (quiet machine, before it was removed): what the decision rests on.
FAIR_READING_RECORD = (
    "Dropped: **fair reading** (parse time budgeted per pass of the event loop, websockets' receive buffer "
    "swapped for one in pieces; it relied on `websockets.streams.StreamReader.buffer` and "
    "`websockets.asyncio.messages.Assembler.paused`). Its last run on and off, the same burst as above in the "
    "same run (2026-12-06 13:57 UTC, commit b020a4b, load average 0.7 on 2 cores):\n\n"
    "| server | pings | p50 (ms) | p99 (ms) | max (ms) | burst (s) |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: |\n"
    "| fair reading on | 23464 | 0.14 | 4.54 | 51.5 | 2.64 |\n"
    "| fair reading off (documented API only) | 25439 | 0.13 | 3.99 | 79.6 | 2.67 |\n\n"
    "The p99 and the burst were no better with it (the maximum, one ping in 25,000, was), and ping throughput "
    "was higher without it (1.13x the uvicorn reference against 1.05x, `bench_server` of that run), so it went."
)


def run() -> str:
    frame = clip_frame()
    server = Server("codette-lab", ours)
    pings: list[float] = []
    bursts: list[float] = []
    try:
        pinger = _Pinger(server.url)
        try:
            for _ in range(ROUNDS):
                pinger.start()
                try:
                    bursts.append(asyncio.run(_burst(server.url, frame)))
                finally:
                    pings += pinger.stop()
        finally:
            pinger.close()
    finally:
        server.stop()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    mb = len(frame) / 2**20
    return "\n\n".join(
        [
            "## Fast paths: all dropped",
            (
                f"`codette-lab serve` uses websockets' documented API only. {DAWS} connections each send a "
                f"{CLIP_SECONDS} s stereo clip as base64 `samples` ({mb:.0f} MB frame, `loudness`) at the same "
                f"moment, while a connection in its own process pings back to back; {ROUNDS} rounds. Ping round "
                f"trips in ms over all rounds; burst: median seconds until all {DAWS} were answered. Load average "
                f"after the run: {load} on {os.cpu_count()} cores."
            ),
            "| server | pings | p50 (ms) | p99 (ms) | max (ms) | burst (s) |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: |\n"
            f"| codette-lab serve | {len(pings)} | {percentile(pings, 50):.2f} | {percentile(pings, 99):.2f} | "
            f"{max(pings):.1f} | {statistics.median(bursts):.2f} |",
            FAIR_READING_RECORD,
            json_markdown(json_costs()),
            (
                "Dropped before: frame-parsing children leaving the decoded samples in a memory file for "
                "the server to map, beside sending them through the pipe. Measured once before it went (2026-12-06, "
                "loaded machine, 20 clips of 30 s each way, twice): the server spent 7.4-7.7 ms of CPU per clip "
                "with the memory file and 7.4-10.5 ms with the pipe, within the noise; only the pipe, which works "
                "everywhere, is kept."
            ),
        ]
    )


#: Messages encoded and decoded per timing of :func:`json_costs`.
JSON_CALLS = 100_000


def json_costs() -> dict[str, float]:
    """Microseconds per message: the JSON the server uses (documented API) and the C encoder and scanner
    called directly (the fast path it dropped), on a pong and a chat reply, best of 3 timings."""
    import json.decoder
    import json.encoder
    import re
    import timeit

    from codette_lab.protocol import encode, replies

    c_encoder = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, None, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, False
    )
    scan, space = json.decoder.JSONDecoder().scan_once, re.compile(r"[ \t\n\r]*").match  # type: ignore[attr-defined]

    def scanned(text: str) -> object:
        """What the dropped decoder did: whitespace, one value, then nothing but whitespace."""
        value, end = scan(text, space(text, 0).end())
        if space(text, end).end() != len(text):
            raise ValueError("extra data after the JSON value")
        return value

    advice = "Cut 200-400 Hz a little. " * 12
    chat = replies.chat_response(response=advice, perspective="mix_engineering", confidence=0.8)
    pong, chat_text = replies.pong(), json.dumps(chat)
    cases = {
        "encode a pong, json": lambda: encode(pong),
        "encode a pong, C encoder": lambda: "".join(c_encoder(pong, 0)),
        "encode a chat reply, json": lambda: encode(chat),
        "encode a chat reply, C encoder": lambda: "".join(c_encoder(chat, 0)),
        "decode a chat reply, json.loads": lambda: json.loads(chat_text),
        "decode a chat reply, scanner": lambda: scanned(chat_text),
    }
    best = {name: min(timeit.repeat(case, number=JSON_CALLS, repeat=3)) for name, case in cases.items()}
    return {name: seconds / JSON_CALLS * 1e6 for name, seconds in best.items()}


def json_markdown(costs: dict[str, float]) -> str:
    """The JSON timings, and what the dropped path saved on each message (negative: it was slower)."""
    listed = "; ".join(f"{name} {micros:.2f} µs" for name, micros in costs.items())
    values = list(costs.values())
    saved = ", ".join(f"{plain - fast:+.2f} µs" for plain, fast in zip(values[::2], values[1::2], strict=True))
    return (
        "Dropped: calling CPython's C JSON encoder and scanner directly "
        f"instead of the `json` module's documented API (µs per message, best of 3 x {JSON_CALLS:,}): {listed}. "
        f"What calling them directly saved (pong, chat encoded, chat decoded): {saved}, against ping round "
        "trips of a tenth of a millisecond and more (`bench_server`)."
    )


if __name__ == "__main__":
    print(run())
