"""Helpers for the join page's browser tests: Debian's Chromium through Playwright, a page per test.

Chromium runs headless with the flags the project's browser tests use; ``--autoplay-policy`` lets a page
start audio without a click having come first (the tests click anyway, but a reconnect may replay).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--autoplay-policy=no-user-gesture-required",
]


def fake_capture_flags(wav: Path) -> list[str]:
    """Chromium's fake audio input, playing ``wav`` in a loop, allowed without asking."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    ]


@contextmanager
def chromium(*extra_flags: str, executable: Path = CHROMIUM) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=[*CHROMIUM_FLAGS, *extra_flags]
        )
        try:
            yield browser
        finally:
            browser.close()


class CuttableLink:
    """A TCP relay on 127.0.0.1 (port 0) to ``target_port`` that can go silent, as a lost network does:
    ``cut()`` keeps every connection open but lets nothing through (no reset, no close), ``mend()`` lets new
    connections through again. Runs its own event loop on a thread; ``close()`` ends it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.silent = False
        self._loop = asyncio.new_event_loop()
        self._writers: list[asyncio.StreamWriter] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._relay, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        if self.silent:
            await reader.read()  # swallow until the peer gives up
            return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers.append(upstream_writer)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                if not self.silent:
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True)

    def cut(self) -> None:
        self.silent = True

    def mend(self) -> None:
        self.silent = False

    def close(self) -> None:
        def stop() -> None:
            self._server.close()
            for writer in self._writers:
                writer.transport.abort()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(10)
