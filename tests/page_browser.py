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


class _Relay:
    """A TCP relay on 127.0.0.1 (port 0, then ``port``) to ``target_port``, on an event loop of its own on a
    thread; subclasses say what passes (``_relay``); ``close()`` ends it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
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

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers.append(writer)
        return reader, writer

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def close(self) -> None:
        def stop() -> None:
            self._server.close()
            for writer in self._writers:
                writer.transport.abort()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(10)


async def _pass_on(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while data := await source.read(65536):
        sink.write(data)
        await sink.drain()
    sink.close()


class CuttableLink(_Relay):
    """A relay that can go silent, as a lost network does: ``cut()`` keeps every connection open but lets
    nothing through (no reset, no close), ``mend()`` lets new connections through again."""

    silent = False

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        if self.silent:
            await reader.read()  # swallow until the peer gives up
            return
        upstream_reader, upstream_writer = await self._upstream()

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


class HostRewritingProxy(_Relay):
    """A reverse proxy that sends every HTTP request on with the ``Host`` header naming the server's own
    address (``127.0.0.1:<target_port>``), as a proxy told to do so does (nginx's ``proxy_set_header
    Host``): a page reached through it under another name is served, while its WebSocket's ``Origin``
    still names the address the browser used. After a WebSocket upgrade the bytes pass as they are."""

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        upstream_reader, upstream_writer = await self._upstream()
        host = f"Host: 127.0.0.1:{self.target_port}".encode()

        async def requests() -> None:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    upstream_writer.close()
                    return
                lines = [host if line.lower().startswith(b"host:") else line for line in head.split(b"\r\n")]
                upstream_writer.write(b"\r\n".join(lines))
                length = next(
                    (int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:")), 0
                )
                if length:
                    upstream_writer.write(await reader.readexactly(length))
                await upstream_writer.drain()
                if b"upgrade: websocket" in head.lower():
                    await _pass_on(reader, upstream_writer)
                    return

        await asyncio.gather(requests(), _pass_on(upstream_reader, writer), return_exceptions=True)
