"""The HTTP side: /health, 404 for other paths, and the Origin check on the handshake."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus

from codette_lab.server import (
    DEFAULT_REQUEST_TIMEOUT,
    BackgroundServer,
    OriginPolicy,
    health_url,
    is_local_origin,
    serve,
    websocket_url,
)

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def http_get(url: str, *, origin: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Origin": origin} if origin else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_health_answers_json(server):
    status, headers, body = http_get(server.health_url)
    assert status == 200 and headers["Content-Type"] == "application/json"
    health = json.loads(body)
    assert health["status"] == "healthy" and health["service"] == "Codette AI Unified Server"
    assert health["codette_available"] is True and TIMESTAMP.match(health["timestamp"])


def test_health_lets_local_pages_read_it(server):
    status, headers, _ = http_get(server.health_url, origin="http://localhost:5173")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


@pytest.mark.parametrize(
    ("host", "ws", "health"),
    [
        ("127.0.0.1", "ws://127.0.0.1:8000/ws", "http://127.0.0.1:8000/health"),
        ("localhost", "ws://localhost:8000/ws", "http://localhost:8000/health"),
        ("::1", "ws://[::1]:8000/ws", "http://[::1]:8000/health"),
    ],
)
def test_addresses_are_built_in_one_place(host, ws, health):
    assert (websocket_url(host, 8000), health_url(host, 8000)) == (ws, health)
    server = serve(host=host, port=8000)  # not started: its addresses are known before it listens
    assert (server.url, server.health_url) == (ws, health)
    background = BackgroundServer(host=host, port=8000)
    assert (background.url, background.health_url) == (ws, health)


def test_the_server_answers_at_the_addresses_it_reports(server, ws_client):
    assert server.url == websocket_url("127.0.0.1", server.port)
    assert http_get(health_url("127.0.0.1", server.port))[0] == 200
    assert ws_client(websocket_url("127.0.0.1", server.port)).ask({"type": "ping"})["type"] == "pong"


def test_notebook_functions_get_five_seconds_unless_told_otherwise():
    from codette_lab.cli import build_parser
    from codette_lab.lab import Lab

    assert DEFAULT_REQUEST_TIMEOUT == 5.0
    assert serve().request_timeout == Lab().request_timeout == DEFAULT_REQUEST_TIMEOUT
    assert build_parser().parse_args(["serve"]).request_timeout == DEFAULT_REQUEST_TIMEOUT


@pytest.mark.parametrize("path", ["/missing.js", "/health/x", "/wss", "/api/ws"])
def test_other_paths_are_404(server, path):
    status, _, body = http_get(server.health_url.removesuffix("/health") + path)
    assert status == 404 and path.encode() in body


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:5173", "http://localhost", "https://127.0.0.1:3000", "http://[::1]:8080", "HTTP://LOCALHOST:1"],
)
def test_local_pages_are_let_in(ws_client, origin):
    assert ws_client(origin=origin).ask({"type": "ping"})["type"] == "pong"


def test_clients_without_origin_are_let_in(ws_client):
    assert ws_client().welcome["type"] == "connection"


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost.evil.example",
        "http://127.0.0.2:5173",
        "null",
        "file://localhost",
        "ws://localhost:8000",
        "http://localhost:notaport",
    ],
)
def test_other_web_pages_get_403_naming_their_origin(server, origin):
    with pytest.raises(InvalidStatus) as refused, connect_once(server.url, origin):
        pass
    response = refused.value.response
    assert response.status_code == 403 and origin.encode() in bytes(response.body)
    assert b"--allow-origin" in bytes(response.body)


def connect_once(url: str, origin: str):
    from websockets.sync.client import connect

    return connect(url, origin=origin, open_timeout=10)


def test_allowed_origins_widen_the_check(engine, ws_client):
    with BackgroundServer(engine, port=0, allowed_origins=["https://daw.example/"]) as widened:
        assert ws_client(widened.url, origin="https://daw.example").ask({"type": "ping"})["type"] == "pong"
        with pytest.raises(InvalidStatus), connect_once(widened.url, "https://other.example"):
            pass
    with BackgroundServer(engine, port=0, allowed_origins=["*"]) as open_to_all:
        assert ws_client(open_to_all.url, origin="https://anything.example").welcome["type"] == "connection"


def test_origin_policy_rules():
    policy = OriginPolicy(["https://Studio.example"])
    assert policy.allows(None) and policy.allows("https://studio.example")
    assert policy.allows("http://127.0.0.1:5173") and not policy.allows("https://studio.example:8443")
    assert not OriginPolicy().allows("https://studio.example") and OriginPolicy(["*"]).allows("null")
    assert is_local_origin("https://[::1]") and not is_local_origin("ftp://localhost")
