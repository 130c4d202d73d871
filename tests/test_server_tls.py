"""TLS: https:// and wss:// on the server's one port, with a certificate made in the test by ``openssl``.

Real clients over TLS: websockets and urllib trusting the test certificate,
the command line with ``--certfile/--keyfile``, a Lab, and Chromium.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from codette_lab.errors import ServerError
from codette_lab.server import BackgroundServer

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, valid for a day, and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def ask(url: str, message: dict, context: ssl.SSLContext) -> dict:
    with connect(url, ssl=context, open_timeout=10) as socket_:
        assert json.loads(socket_.recv(timeout=10))["type"] == "connection"
        socket_.send(json.dumps(message))
        return json.loads(socket_.recv(timeout=30))


def https_get(url: str, context: ssl.SSLContext) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        return response.status, response.read()


def test_https_and_wss_on_one_port(certificate):
    cert, key = certificate
    context = trusting(cert)
    with BackgroundServer(port=0, tls=(cert, key)) as server:
        port = server.port
        assert server.url == f"wss://127.0.0.1:{port}/ws" and server.health_url == f"https://127.0.0.1:{port}/health"
        assert server.join_url == f"https://127.0.0.1:{port}/"
        assert ask(server.url, {"type": "ping"}, context)["type"] == "pong"
        status, body = https_get(server.health_url, context)
        assert status == 200 and json.loads(body)["status"] == "healthy"
        status, body = https_get(server.join_url, context)
        assert status == 200 and b"<html" in body
        with pytest.raises((InvalidHandshake, OSError, EOFError)), connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5):
            pass  # plain ws:// gets no WebSocket from a TLS port


def test_a_wrong_token_over_wss_is_refused(certificate):
    cert, key = certificate
    context = trusting(cert)
    with BackgroundServer(port=0, tls=(cert, key), require_token=True, token="class-7") as server:
        assert server.join_url == f"https://127.0.0.1:{server.port}/?token=class-7"
        assert server.ws_join_url == f"wss://127.0.0.1:{server.port}/ws?token=class-7"
        with pytest.raises(InvalidStatus) as refused:
            ask(f"{server.url}?token=class-8", {"type": "ping"}, context)
        assert refused.value.response.status_code == 403
        assert ask(server.ws_join_url, {"type": "status"}, context)["type"] == "status_response"


def test_the_server_sends_no_tls_session_tickets(certificate):
    """TLS 1.3 session tickets, which OpenSSL sends unasked after the handshake, can make a client that reads
    in one thread and writes in another (websockets' sync client) lose its upgrade request, so that it waits
    for an answer that never comes (see :mod:`codette_lab.server.tls`): the server sends none, with the context
    it makes and with one it is given. Tickets come before any answer, so reading one to its end sees them."""
    cert, key = certificate
    made = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    made.load_cert_chain(cert, key)
    for tls in ((cert, key), made):
        with (
            BackgroundServer(port=0, tls=tls) as server,
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as plain,
            trusting(cert).wrap_socket(plain, server_hostname="127.0.0.1") as secure,
        ):
            assert secure.version() == "TLSv1.3"
            secure.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while chunk := secure.recv(65536):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")
            assert secure.session is not None and not secure.session.has_ticket


def test_a_ready_made_context_and_unusable_files(certificate, tmp_path):
    cert, key = certificate
    made = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    made.load_cert_chain(cert, key)
    with BackgroundServer(port=0, tls=made) as server:
        assert ask(server.url, {"type": "ping"}, trusting(cert))["type"] == "pong"
    with pytest.raises(ServerError, match="no file at"):
        BackgroundServer(port=0, tls=(tmp_path / "missing.pem", key)).start()
    with pytest.raises(ServerError, match="cannot use certificate"):
        BackgroundServer(port=0, tls=(key, key)).start()


def test_without_tls_off_loopback_the_start_up_says_the_token_travels_in_clear(caplog, certificate):
    caplog.set_level(logging.WARNING, logger="codette_lab.server")
    with BackgroundServer(host="0.0.0.0", port=0, token="t"):
        pass
    assert "the token travels in clear" in caplog.text
    caplog.clear()
    cert, key = certificate
    with BackgroundServer(host="0.0.0.0", port=0, token="t", tls=(cert, key)) as server:
        assert server.join_url.startswith("https://") and server.join_url.endswith("/?token=t")
    assert "Students join at https://" in caplog.text and "in clear" not in caplog.text


def test_the_command_line_serves_tls_and_prints_https_urls(certificate):
    cert, key = certificate
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "codette_lab", "serve", "--port", "0", "--require-token"),
            *("--certfile", str(cert), "--keyfile", str(key)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page_line, daw_line = process.stdout.readline(), process.stdout.readline()
        assert page_line.startswith("Students open the join page: https://127.0.0.1:")
        port = urlsplit(page_line.split(": ", 1)[1].strip()).port
        assert port and f":{port}/?token=" in page_line
        assert daw_line.startswith(f"DAWs connect to: wss://127.0.0.1:{port}/ws?token=")
        ws_url = daw_line.split(": ", 1)[1].strip()
        deadline = time.monotonic() + 30
        reply = None
        while reply is None and time.monotonic() < deadline:
            try:
                reply = ask(ws_url, {"type": "ping"}, trusting(cert))
            except OSError:
                time.sleep(0.1)
        assert reply is not None and reply["type"] == "pong"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_a_key_without_a_certificate_is_a_usage_error(certificate):
    _, key = certificate
    done = subprocess.run(
        [sys.executable, "-m", "codette_lab", "serve", "--port", "0", "--keyfile", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--keyfile needs --certfile" in done.stderr


def test_a_lab_serves_tls(certificate):
    from codette_lab.lab import Lab

    cert, key = certificate
    lab = Lab(port=0, tls=(cert, key), warm_up=False).start()
    try:
        assert lab.url.startswith("wss://") and lab.join_url.startswith("https://")
        assert ask(lab.url, {"type": "ping"}, trusting(cert))["type"] == "pong"
    finally:
        lab.stop()


@pytest.mark.browser
def test_chromium_opens_the_page_and_its_websocket_over_https(certificate):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-test-deps.sh (Debian package 'chromium')")
    from playwright.sync_api import sync_playwright

    cert, key = certificate
    with BackgroundServer(port=0, tls=(cert, key)) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
        try:
            page = browser.new_context(ignore_https_errors=True).new_page()  # the test certificate is self-signed
            page.goto(f"{server.join_url}?name=Ada")
            opened = page.evaluate(
                """() => new Promise(resolve => {
                    const socket = new WebSocket(`wss://${location.host}/ws?name=Ada`);
                    socket.onmessage = event => { socket.close(); resolve(JSON.parse(event.data).type); };
                    socket.onerror = () => resolve("refused");
                })"""
            )
            assert opened == "connection"
        finally:
            browser.close()
