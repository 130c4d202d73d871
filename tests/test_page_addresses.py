"""The join page reached under an address that is not this machine's loopback, in a real Chromium.

Chromium resolves ``class.example`` to 127.0.0.1 (``--host-resolver-rules``), so the page is opened as it
would be on a classroom network, by a name, while every byte stays on loopback. It goes through a reverse
proxy (``HostRewritingProxy``) that hands the server requests for its own address, as a proxy told to do so
does: the page's files are served, while its WebSocket still says it comes from ``http://class.example``.

- A server that refuses that origin: the page says so in a sentence, not only in the browser's console.
- A server that lets it in: the page connects, and being plain http at a name other than localhost it is
  not a secure context, where browsers withhold audio capture; the live input says what to do instead.
- Without the proxy, a loopback server refuses the name itself (its Host rule): the browser shows the
  server's sentence in place of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from page_browser import HostRewritingProxy, chromium
from playwright.sync_api import Browser, ConsoleMessage, Page

from codette_lab.engine import Engine
from codette_lab.server import BackgroundServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NAME = "class.example"
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(f"--host-resolver-rules=MAP {NAME} 127.0.0.1") as launched:
        yield launched


@pytest.fixture
def proxied() -> Iterator[Callable[..., HostRewritingProxy]]:
    """``proxied(**options)``: a server on 127.0.0.1 (free port) with those options, behind a proxy; both
    stopped after the test."""
    started: list[tuple[BackgroundServer, HostRewritingProxy]] = []

    def start(**options: object) -> HostRewritingProxy:
        server = BackgroundServer(Engine(), host="127.0.0.1", port=0, **options).start()
        proxy = HostRewritingProxy(server.port)
        started.append((server, proxy))
        return proxy

    yield start
    for server, proxy in started:
        proxy.close()
        server.stop(timeout=30)  # Chromium's spare connection, opened and never used, holds a stop up to 10 s


class Watched:
    """A page opened at ``http://class.example:<port>/?name=Ada``, with what its scripts threw and the
    errors its console showed."""

    def __init__(self, browser: Browser, port: int) -> None:
        self.thrown: list[str] = []
        self.console_errors: list[str] = []
        self.page: Page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.page.on("pageerror", lambda error: self.thrown.append(str(error)))
        self.page.on("console", self._console)
        self.page.goto(f"http://{NAME}:{port}/?name=Ada")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def close(self) -> None:
        self.page.context.close()


def test_a_server_that_refuses_the_pages_origin_gets_a_sentence_in_the_page(
    browser: Browser, proxied: Callable[..., HostRewritingProxy]
) -> None:
    proxy = proxied()
    watched = Watched(browser, proxy.port)
    try:
        page = watched.page
        page.wait_for_selector("#connection[data-state=refused]")
        sentence = page.text_content("#connection") or ""
        assert sentence.startswith(f"The server refused this page's address ({NAME}:{proxy.port})"), sentence
        assert "ask your teacher to allow it" in sentence
        assert page.is_visible("#connection")
        assert watched.thrown == []  # nothing the page's own code let fly
        # the only console errors are the browser's own report of the refused handshake
        assert all("WebSocket" in text for text in watched.console_errors), watched.console_errors
    finally:
        watched.close()


def test_the_same_page_once_its_origin_is_allowed_connects(
    browser: Browser, proxied: Callable[..., HostRewritingProxy]
) -> None:
    """The refusal above is the origin's, not the proxy's: allowed, the same page through the same kind of
    proxy connects."""
    proxy = proxied(allowed_origins=["*"])
    watched = Watched(browser, proxy.port)
    try:
        watched.page.wait_for_selector("#connection[data-state=connected]")
        assert watched.page.text_content("#connection") == "Connected as Ada"
    finally:
        watched.close()


def test_a_page_on_plain_http_at_a_network_address_says_live_input_needs_a_secure_page(
    browser: Browser, proxied: Callable[..., HostRewritingProxy]
) -> None:
    proxy = proxied(allowed_origins=["*"])
    watched = Watched(browser, proxy.port)
    try:
        page = watched.page
        page.wait_for_selector("#connection[data-state=connected]")
        assert page.evaluate("window.isSecureContext") is False
        assert page.evaluate("navigator.mediaDevices === undefined")  # what the browser withholds
        note = page.text_content("#live-note") or ""
        assert note.startswith("Live input needs a secure page: open it as https://"), note
        assert "http://localhost" in note
        assert page.is_disabled("#live-start")
        assert watched.thrown == []
    finally:
        watched.close()


def test_a_loopback_server_opened_by_another_name_answers_with_a_sentence_the_browser_shows(
    browser: Browser, proxied: Callable[..., HostRewritingProxy]
) -> None:
    """Without the proxy, the server itself is asked for ``class.example``: a server on loopback serves
    nothing to a name a web page could point at it (DNS rebinding), not even the page, so the sentence is
    the server's own, shown by the browser in place of the page."""
    server_port = proxied().target_port
    page = browser.new_context().new_page()
    try:
        response = page.goto(f"http://{NAME}:{server_port}/?name=Ada")
        assert response is not None and response.status == 403
        assert response.headers["x-codette-refusal"] == "host"
        shown = page.inner_text("body")
        assert f"Host '{NAME}:{server_port}' is not a name of this server" in shown, shown
        assert "listens on loopback only" in shown
    finally:
        page.context.close()
