"""Who gets in: a token off loopback, loopback names only on a loopback server, one Origin at most.

Real servers on real sockets. The off-loopback server binds 0.0.0.0 and is
reached through this machine's own network address (never another host), and
through 127.0.0.1 with a Host header that is not a loopback name.
"""

from __future__ import annotations

import http.client
import json

import pytest
from conftest import WsClient
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from codette_lab.server import BackgroundServer
from codette_lab.server.access import AccessPolicy, host_name, is_loopback_name, machine_address


def _lan_address() -> str | None:
    address = machine_address()
    return None if is_loopback_name(address) else address


LAN = _lan_address()
needs_lan = pytest.mark.skipif(LAN is None, reason="this machine has no non-loopback address")


def http_get(port: int, path: str, *, host: str | None = None, to: str = "127.0.0.1", headers=()) -> tuple[int, str]:
    """Status and body of one GET sent to ``to``; ``host`` replaces the Host header, ``headers`` are added."""
    connection = http.client.HTTPConnection(to, port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=host is not None)
        if host is not None:
            connection.putheader("Host", host)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


#: The headers of a WebSocket handshake, for refusals checked with a plain HTTP request.
UPGRADE = [
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
]


def handshake_status(url: str, **options) -> int | None:
    """The HTTP status a WebSocket handshake was refused with, or None when it opened (and read the welcome)."""
    try:
        with connect(url, open_timeout=10, **options) as socket_:
            assert json.loads(socket_.recv(timeout=10))["type"] == "connection"  # the welcome
            return None
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.fixture
def open_server(engine):
    """A server bound to every interface, with a generated token."""
    server = BackgroundServer(engine, host="0.0.0.0", port=0).start()
    yield server
    server.stop()


def test_names_of_this_machine():
    assert all(
        is_loopback_name(name) for name in ("localhost", "127.0.0.1", "127.3.2.1", "::1", "[::1]", "a.localhost")
    )
    assert not any(is_loopback_name(name) for name in ("evil.example", "192.0.2.2", "localhost.evil.example", ""))
    assert is_loopback_name("::ffff:127.0.0.1")
    assert host_name("[::1]:8000") == "::1" and host_name("evil.example:80") == "evil.example"


def test_a_token_is_generated_off_loopback_and_given_or_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("CODETTE_TOKEN", raising=False)
    generated = AccessPolicy("0.0.0.0")
    assert generated.generated and len(generated.token or "") >= 20
    assert AccessPolicy("0.0.0.0").token != generated.token
    assert AccessPolicy("0.0.0.0", "chosen").token == "chosen"
    assert AccessPolicy("0.0.0.0", "").generated  # an empty token would let anyone in: one is generated
    monkeypatch.setenv("CODETTE_TOKEN", "from-env")
    assert AccessPolicy("0.0.0.0").token == "from-env" and not AccessPolicy("0.0.0.0").generated
    assert AccessPolicy("127.0.0.1").join_url(8000) == "http://127.0.0.1:8000/"
    assert AccessPolicy("127.0.0.1").ws_join_url(8000) == "ws://127.0.0.1:8000/ws"
    monkeypatch.delenv("CODETTE_TOKEN")
    required = AccessPolicy("127.0.0.1", require_token=True)
    assert required.generated and required.join_url(8000) == f"http://127.0.0.1:8000/?token={required.token}"
    secure = AccessPolicy("0.0.0.0", "t", tls=True)
    assert secure.join_url(8000) == f"https://{machine_address()}:8000/?token=t"
    assert secure.ws_join_url(8000) == f"wss://{machine_address()}:8000/ws?token=t"


def test_the_join_url_names_this_machine_and_the_token(open_server):
    token, address, port = open_server.token, machine_address(), open_server.port
    assert token and open_server.join_url == f"http://{address}:{port}/?token={token}"
    assert open_server.ws_join_url == f"ws://{address}:{port}/ws?token={token}"


@needs_lan
def test_off_loopback_no_frame_without_the_token(open_server):
    port, token = open_server.port, open_server.token
    assert handshake_status(f"ws://{LAN}:{port}/ws") == 401
    assert handshake_status(f"ws://{LAN}:{port}/ws?token=wrong") == 403
    assert handshake_status(f"ws://{LAN}:{port}/ws?token={token[:-1]}") == 403
    assert handshake_status(f"ws://{LAN}:{port}/ws", additional_headers={"Authorization": "Bearer nope"}) == 403
    assert http_get(port, "/health", to=LAN)[0] == 401
    assert handshake_status(open_server.ws_join_url) is None
    assert handshake_status(f"ws://{LAN}:{port}/ws", additional_headers={"Authorization": f"Bearer {token}"}) is None
    with WsClient(open_server.ws_join_url) as client:  # a student's DAW: the whole protocol once in
        assert client.ask({"type": "ping"})["type"] == "pong"
        assert client.ask({"type": "chat", "message": "How do I tame a harsh vocal?"})["type"] == "chat_response"


def test_off_loopback_this_machine_joins_by_a_loopback_name_only(open_server):
    port = open_server.port
    assert handshake_status(f"ws://127.0.0.1:{port}/ws") is None  # the protocol document's clients, unchanged
    assert handshake_status(f"ws://localhost:{port}/ws") is None
    assert http_get(port, "/health")[0] == 200
    # through 127.0.0.1 but named otherwise (a proxy, a rebinding page): the token is needed
    assert http_get(port, "/health", host=f"classroom.example:{port}")[0] == 401
    assert http_get(port, "/ws", host="classroom.example", headers=UPGRADE)[0] == 401


def test_the_token_can_be_given(engine):
    with BackgroundServer(engine, host="0.0.0.0", port=0, token="s3cret-token") as server:
        assert server.token == "s3cret-token" and server.join_url.endswith("/?token=s3cret-token")
        assert server.ws_join_url.endswith("/ws?token=s3cret-token")
        status, body = http_get(server.port, "/health?token=s3cret-token", host="classroom.example")
        assert status == 200 and json.loads(body)["status"] == "healthy"
        assert http_get(server.port, "/health?token=s3cret", host="classroom.example")[0] == 403


def test_a_loopback_server_answers_loopback_names_only(server):
    """DNS rebinding: a page whose name now points at 127.0.0.1 must not read /health or open /ws."""
    port = server.port
    assert server.token is None and server.join_url == server.page_url and server.ws_join_url == server.url
    for host in ("localhost", f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert http_get(port, "/health", host=host)[0] == 200
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.nip.io:{port}"):
        status, body = http_get(port, "/health", host=host)
        assert status == 403 and "loopback" in body
    assert http_get(port, "/ws", host="evil.example", headers=UPGRADE)[0] == 403


def test_two_origin_headers_are_refused_not_a_crash(server):
    local = f"http://localhost:{server.port}"
    status, body = http_get(server.port, "/health", headers=[("Origin", local), ("Origin", local)])
    assert status == 403 and "one Origin" in body
    status, _ = http_get(server.port, "/health", headers=[("Host", "localhost"), ("Host", "evil.example")])
    assert status in (400, 403)
    assert http_get(server.port, "/health")[0] == 200  # and the server carries on


def test_client_text_is_clipped_and_escaped_in_logs_and_replies(server, ws_client, caplog):
    """A type with a newline cannot forge a log line, escapes never reach the terminal raw, and a
    16 MB type is neither logged nor echoed whole."""
    caplog.set_level("INFO", logger="codette_lab.server")
    client = ws_client()
    forged = "x\n2026-01-01 00:00:00 INFO codette_lab.server: forged line\x1b[2J\u202e"
    reply = client.ask({"type": forged})
    assert reply["type"] == "error" and "\n" not in reply["message"] and "\x1b" not in reply["message"]
    assert "\\n2026-01-01" in reply["message"] and "\\x1b[2J" in reply["message"] and "\\u202e" in reply["message"]
    huge = client.ask({"type": "y" * (16 * 2**20)})
    assert huge["type"] == "error" and len(huge["message"]) < 300 and "characters in all" in huge["message"]
    assert client.ask({"type": "ping"})["type"] == "pong"
    logged = caplog.text
    assert "\x1b" not in logged and "\u202e" not in logged and "y" * 100 not in logged
    assert not any(line.startswith("2026-01-01") for line in logged.splitlines())


def test_cli_prints_the_join_url_and_requires_the_token(tmp_path):
    import subprocess
    import sys
    import time
    from urllib.parse import urlsplit

    process = subprocess.Popen(
        [sys.executable, "-m", "codette_lab", "serve", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        page_line, daw_line = process.stdout.readline(), process.stdout.readline()
        assert page_line.startswith("Students open the join page: http://")
        port = urlsplit(page_line.split(": ", 1)[1].strip()).port  # the port it bound (asked for any free one)
        assert port and f":{port}/?token=" in page_line
        assert daw_line.startswith("DAWs connect to: ws://")
        join_url = daw_line.split(": ", 1)[1].strip()
        assert f":{port}/ws?token=" in join_url
        deadline = time.monotonic() + 10
        while http_get(port, "/health")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        if LAN is not None:
            assert handshake_status(f"ws://{LAN}:{port}/ws") == 401
            assert handshake_status(join_url) is None
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
