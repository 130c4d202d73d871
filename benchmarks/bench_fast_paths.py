"""Benchmark: each fast path of the server on and off, in the same run.

The one fast path left is fair reading (``codette_lab.server.reading``: parse
time budgeted per pass of the event loop, websockets' receive buffer kept in
pieces), which relies on two internals of websockets; ``CODETTE_PLAIN_SERVING=1``
turns it off (see ``codette_lab.server.fastpaths``). What it is for: DAWS
connections each send a CLIP_SECONDS stereo clip as base64 ``samples`` at
the same moment (a class pressing "analyze" together), while a connection in
a process of its own pings back to back; the pings' round trips are what fair
reading protects. Both servers are ``codette-lab serve`` subprocesses, taken
in turns for ROUNDS rounds. Its cost on small messages (ping throughput and
round trips, fast path against plain path) is in ``bench_server``'s table.
Dropped fast paths (the JSON encoder and scanner called directly, samples
handed back in a memory file) are named in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import time

from bench_server import PLAIN, Server, ours
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


def run() -> str:
    frame = clip_frame()
    servers = [Server("fast path", ours), Server("plain path", ours, env=PLAIN)]
    pings: dict[str, list[float]] = {server.name: [] for server in servers}
    bursts: dict[str, list[float]] = {server.name: [] for server in servers}
    try:
        pingers = [_Pinger(server.url) for server in servers]
        try:
            for _ in range(ROUNDS):
                for server, pinger in zip(servers, pingers, strict=True):
                    pinger.start()
                    try:
                        bursts[server.name].append(asyncio.run(_burst(server.url, frame)))
                    finally:
                        pings[server.name] += pinger.stop()
        finally:
            for pinger in pingers:
                pinger.close()
    finally:
        for server in servers:
            server.stop()
    rows = [
        f"| fair reading {'on' if name == 'fast path' else 'off'} ({name}) | {len(times)} | "
        f"{percentile(times, 50):.2f} | {percentile(times, 99):.2f} | {max(times):.1f} | "
        f"{statistics.median(bursts[name]):.2f} |"
        for name, times in pings.items()
    ]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    mb = len(frame) / 2**20
    return "\n\n".join(
        [
            "## Fast paths on and off",
            (
                f"`codette-lab serve` with fair reading (its fast path) and without (`CODETTE_PLAIN_SERVING=1`, "
                f"websockets' documented API only), in the same run. {DAWS} connections each send a {CLIP_SECONDS} s "
                f"stereo clip as base64 `samples` ({mb:.0f} MB frame, `loudness`) at the same moment, while a "
                f"connection in its own process pings back to back; {ROUNDS} rounds, the two servers taken in "
                f"turns. Ping round trips in ms over all rounds; burst: median seconds until all {DAWS} were "
                f"answered. Load average after the run: {load} on {os.cpu_count()} cores."
            ),
            "| server | pings | p50 (ms) | p99 (ms) | max (ms) | burst (s) |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: |\n" + "\n".join(rows),
            json_markdown(json_costs()),
            (
                "Dropped before this run: frame-parsing children leaving the decoded samples in a memory file for "
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
        "Dropped in this version, measured here: calling CPython's C JSON encoder and scanner directly "
        f"instead of the `json` module's documented API (µs per message, best of 3 x {JSON_CALLS:,}): {listed}. "
        f"What calling them directly saved (pong, chat encoded, chat decoded): {saved}, against ping round "
        "trips of a tenth of a millisecond and more (`bench_server`)."
    )


if __name__ == "__main__":
    print(run())
