"""The join page served by the server: its files only, with their headers, without a token; same-origin WebSockets.

Real servers on 127.0.0.1 (and, for the same-origin rule off loopback, this
machine's own network address); the Content-Security-Policy is checked by
Debian's Chromium, which is what enforces it.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from codette_lab.resources import page_folder
from codette_lab.server import BackgroundServer
from codette_lab.server.access import REFUSAL_HEADER, is_loopback_name, machine_address
from codette_lab.server.static import CONTENT_SECURITY_POLICY, PageFiles

CHROMIUM = Path("/usr/bin/chromium")
LAN = None if is_loopback_name(machine_address()) else machine_address()


def get(port: int, path: str, *, host: str | None = None, headers=()) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one GET to 127.0.0.1:port; ``host`` replaces the Host header."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=host is not None, skip_accept_encoding=True)
        if host is not None:
            connection.putheader("Host", host)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def handshake(url: str, **options) -> int | None:
    """The status a WebSocket handshake was refused with, or None when it opened."""
    try:
        with connect(url, open_timeout=10, **options) as socket_:
            assert json.loads(socket_.recv(timeout=10))["type"] == "connection"
            return None
    except InvalidStatus as refused:
        return refused.response.status_code


def test_the_page_is_served_with_its_security_headers(server):
    index = (page_folder() / "index.html").read_bytes()
    for path in ("/", "/index.html", "/?token=abc&name=Ada"):
        status, headers, body = get(server.port, path)
        assert status == 200 and body == index
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "default-src 'self'" in CONTENT_SECURITY_POLICY and "connect-src 'self'" in CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-cache" and headers["ETag"]
    status, headers, body = get(server.port, "/", headers=[("If-None-Match", headers["ETag"])])
    assert status == 304 and body == b""


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/%2e%2e/resources.py",
        "/..%2fresources.py",
        "/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/..\\resources.py",
        "/.hidden",
        "/%00index.html",
        "/%ff",
        "//etc/passwd",
        "/missing.js",
    ],
)
def test_nothing_outside_the_page_folder_is_served(server, path):
    status, _, body = get(server.port, path)
    assert status in (400, 404), (path, status)
    assert b"import" not in body and b"root:" not in body


def test_only_regular_files_inside_the_folder(tmp_path):
    folder = tmp_path / "static"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<p>page</p>")
    (folder / "assets" / "app.js").write_text("export {}")
    (folder / "assets" / "style.css").write_text("p{}")
    (tmp_path / "secret.txt").write_text("secret")
    (folder / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "inside.js").symlink_to(folder / "assets" / "app.js")
    files = PageFiles(folder)
    assert files.find("/") == (folder / "index.html").resolve()
    assert files.find("/assets/app.js") == (folder / "assets" / "app.js").resolve()
    assert files.find("/inside.js") == (folder / "assets" / "app.js").resolve()  # a link kept inside is fine
    assert files.find("/leak.txt") is None and files.find("/assets") is None and files.find("/assets/") is None
    js = files.response("/assets/app.js", None)
    css = files.response("/assets/style.css", None)
    assert js is not None and js.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert css is not None and css.headers["Content-Type"] == "text/css; charset=utf-8"


def test_the_page_needs_no_token_but_health_and_ws_do(engine):
    with BackgroundServer(engine, host="0.0.0.0", port=0, token="t0ken") as server:
        named = f"classroom.example:{server.port}"  # reached as another machine would name it
        assert get(server.port, "/", host=named)[0] == 200
        status, headers, body = get(server.port, "/health", host=named)
        assert status == 401 and headers[REFUSAL_HEADER] == "token-missing" and b"needs its token" in body
        status, headers, body = get(server.port, "/health", host=named, headers=[("Authorization", "Bearer nope")])
        assert status == 403 and headers[REFUSAL_HEADER] == "token-wrong" and b"Wrong token" in body
        status, headers, _ = get(server.port, "/health", host=named, headers=[("Authorization", "Bearer t0ken")])
        assert status == 200
        foreign = [("Origin", "http://evil.example"), ("Authorization", "Bearer t0ken")]
        status, headers, body = get(server.port, "/health", host=named, headers=foreign)
        assert status == 403 and headers[REFUSAL_HEADER] == "origin" and b"Origin" in body


def test_the_pages_files_are_served_to_any_origin_while_health_and_ws_refuse_it(engine):
    """A page reached by an address the server refuses (a proxy naming the server by its own address) still
    loads, so that it can tell its student why it cannot connect; its WebSocket and /health stay refused."""
    with BackgroundServer(engine, host="127.0.0.1", port=0) as server:
        foreign = [("Origin", "http://class.example")]
        for path in ("/", "/page.js"):
            status, headers, _ = get(server.port, path, headers=foreign)
            assert status == 200 and "Access-Control-Allow-Origin" not in headers, path
        status, headers, _ = get(server.port, "/health", headers=foreign)
        assert status == 403 and headers[REFUSAL_HEADER] == "origin"
        assert handshake(server.url, origin="http://class.example") == 403


def test_require_token_holds_on_loopback_too(engine):
    with BackgroundServer(engine, host="127.0.0.1", port=0, require_token=True) as server:
        token = server.token
        assert token and server.join_url == f"http://127.0.0.1:{server.port}/?token={token}"
        assert handshake(server.url) == 401
        assert handshake(f"{server.url}?token=wrong") == 403
        assert handshake(server.ws_join_url) is None
        assert get(server.port, "/")[0] == 200  # the page itself carries no secret
        assert get(server.port, "/health")[0] == 401


@pytest.mark.skipif(LAN is None, reason="this machine has no non-loopback address")
def test_the_servers_own_page_may_open_its_websocket(engine):
    with BackgroundServer(engine, host="0.0.0.0", port=0, token="t0ken") as server:
        own = f"http://{LAN}:{server.port}"
        url = f"ws://{LAN}:{server.port}/ws?token=t0ken&name=Ada"
        assert handshake(url, origin=own) is None
        assert handshake(url, origin=f"http://{LAN}:{server.port + 1}") == 403  # another port: another origin
        assert handshake(url, origin=f"https://{LAN}:{server.port}") == 403  # another scheme
        assert handshake(url, origin="http://evil.example") == 403


@pytest.mark.browser
def test_chromium_lets_the_page_connect_to_its_own_origin_only(server):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-test-deps.sh (Debian package 'chromium')")
    from playwright.sync_api import sync_playwright

    opens = """url => new Promise(resolve => {
        const socket = new WebSocket(url);
        socket.onmessage = event => { socket.close(); resolve(JSON.parse(event.data).type); };
        socket.onerror = () => resolve("refused");
    })"""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
        try:
            page = browser.new_page()
            violations: list[str] = []
            page.on("console", lambda message: violations.append(message.text))
            page.goto(f"http://127.0.0.1:{server.port}/?name=Ada")
            assert page.evaluate(opens, f"ws://127.0.0.1:{server.port}/ws?name=Ada") == "connection"
            assert page.evaluate(opens, f"ws://localhost:{server.port}/ws") == "refused"  # another origin
            assert any("Content Security Policy" in text for text in violations)
        finally:
            browser.close()


def test_the_simulator_and_a_lab_follow_a_required_token(engine):
    from codette_lab.daw import SimulatedDAW
    from codette_lab.lab import Lab

    with BackgroundServer(engine, host="127.0.0.1", port=0, require_token=True) as server:
        daw = SimulatedDAW(f"{server.join_url}&name=Ada", name="Ada")  # the page's URL, as handed out
        try:
            assert daw.url.startswith(f"ws://127.0.0.1:{server.port}/ws?token=")
            assert daw.connect()["type"] == "connection" and daw.ping()["type"] == "pong"
        finally:
            daw.close()
    lab = Lab(port=0, require_token=True, warm_up=False).start()
    try:
        assert "?token=" in lab.url and lab.join_url.endswith(f"/?token={lab.server.token}")
        assert lab.simulate_daw(name="Studio").status()["type"] == "status_response"
    finally:
        lab.stop()
