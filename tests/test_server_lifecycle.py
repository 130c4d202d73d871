"""Starting, replacing and stopping servers; time limits, user-code errors and events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading

import pytest
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

from codette_lab.errors import PortInUseError
from codette_lab.server import BackgroundServer, ServerEvent, running_servers, serve


def bind_again(port: int) -> None:
    """Listen on ``port`` as any server would (SO_REUSEADDR); fails while someone still listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()


def test_stop_sends_1001_to_every_client_and_frees_the_port(engine, ws_client):
    server = BackgroundServer(engine, port=0).start()
    clients = [ws_client(server.url) for _ in range(3)]
    server.stop()
    for client in clients:
        with pytest.raises(ConnectionClosedOK):
            client.recv()
        assert client.close_code == 1001
    assert not server.running and server.active_connections == 0
    bind_again(server.port)


def test_stop_drops_a_connection_that_never_began_its_handshake(engine, ws_client):
    """Browsers open spare TCP connections and never speak on them: stopping must not wait for them until
    websockets' opening-handshake timeout (10 s, past stop's own 5 s limit, which raises ServerError)."""
    server = BackgroundServer(engine, port=0).start()
    with socket.create_connection(("127.0.0.1", server.port)) as idle:
        idle.settimeout(30)
        client = ws_client(server.url)  # accepted after the idle one: once it is answered, both were accepted
        assert client.ask({"type": "ping"})["type"] == "pong"
        server.stop()  # raises ServerError if the idle connection holds the server up
        with contextlib.suppress(ConnectionResetError):  # closed by the server: an end of file, or a reset
            assert idle.recv(1) == b""
    assert not server.running
    bind_again(server.port)


def test_a_port_held_by_a_socket_is_refused_by_name(engine):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"Port {port} on 127.0.0.1 is already in use"):
            BackgroundServer(engine, port=port).start()


def test_starting_again_on_the_same_port_replaces_this_processs_server(engine, ws_client):
    first = BackgroundServer(engine, port=0).start()
    client = ws_client(first.url)
    second = BackgroundServer(engine, port=first.port).start()
    try:
        assert not first.running and second.running
        with pytest.raises(ConnectionClosedOK):
            client.recv()
        assert client.close_code == 1001
        assert ws_client(second.url).ask({"type": "ping"})["type"] == "pong"
        assert second in running_servers() and first not in running_servers()
    finally:
        second.stop()


def test_a_server_on_the_same_port_under_another_host_name_is_replaced_too(engine, ws_client):
    """``localhost`` and ``127.0.0.1`` share the loopback socket: this process's own server is no stranger."""
    first = BackgroundServer(engine, host="localhost", port=0).start()
    client = ws_client(first.url)
    second = BackgroundServer(engine, host="127.0.0.1", port=first.port).start()
    try:
        assert not first.running and second.running
        with pytest.raises(ConnectionClosedOK):
            client.recv()
        assert ws_client(second.url).ask({"type": "ping"})["type"] == "pong"
        assert running_servers().count(second) == 1 and first not in running_servers()
    finally:
        second.stop()


def test_a_stopped_server_starts_again(engine, ws_client):
    server = BackgroundServer(engine, port=0).start()
    server.stop()
    server.start()
    try:
        assert ws_client(server.url).ask({"type": "ping"})["type"] == "pong"
    finally:
        server.stop()


def test_a_request_past_the_time_limit_names_the_function(engine, ws_client, release):
    def take_your_time(context):
        release.wait(30)
        return "finally"

    engine.perspectives.register("slowpoke", take_your_time)
    events: list[ServerEvent] = []
    # the limit leaves the worker thread time to reach the function even on a loaded machine: the stack
    # reported is the one of the function still running
    with BackgroundServer(engine, port=0, request_timeout=2) as server:
        server.add_listener(events.append)
        client = ws_client(server.url)
        reply = client.ask({"type": "chat", "message": "Any tips?", "perspective": "slowpoke"})
        assert reply["type"] == "error"
        assert reply["message"] == (
            "perspective 'slowpoke' (function test_a_request_past_the_time_limit_names_the_function."
            "<locals>.take_your_time) did not answer within 2 s"
        )
        assert client.ask({"type": "ping"})["type"] == "pong"
        timeouts = [event for event in events if event.kind == "error"]
        assert "release.wait(30)" in timeouts[0].traceback


def test_one_connections_long_request_does_not_hold_up_another(engine, ws_client, release):
    started = threading.Event()

    def deliberate(context):
        started.set()
        release.wait(30)
        return "Take it slow."

    engine.perspectives.register("deliberate", deliberate)
    with BackgroundServer(engine, port=0, request_timeout=60) as server:
        waiting, other = ws_client(server.url), ws_client(server.url)
        waiting.send({"type": "chat", "message": "Slowly?", "perspective": "deliberate"})
        assert started.wait(10)
        assert other.ask({"type": "ping"})["type"] == "pong"
        assert other.ask({"type": "chat", "message": "How do I EQ a kick?"})["type"] == "chat_response"
        release.set()
        answer = waiting.recv()
        assert answer["type"] == "chat_response" and answer["response"] == "Take it slow."


def test_stop_does_not_wait_for_a_request_still_running(engine, ws_client, release):
    started = threading.Event()

    def stuck(context):
        started.set()
        release.wait(30)
        return "too late"

    engine.perspectives.register("stuck", stuck)
    server = BackgroundServer(engine, port=0, request_timeout=60).start()
    client = ws_client(server.url)
    client.send({"type": "chat", "message": "Still there?", "perspective": "stuck"})
    assert started.wait(10)
    server.stop(timeout=5)  # raises ServerError if it had to wait for the 60 s limit
    with pytest.raises(ConnectionClosedOK):
        client.recv()
    assert client.close_code == 1001
    bind_again(server.port)


def test_a_raising_user_perspective_is_named_and_its_traceback_reported(engine, server, ws_client):
    def brittle(context):
        return {"response": 1 / 0}

    engine.perspectives.register("brittle", brittle)
    events: list[ServerEvent] = []
    server.add_listener(events.append)
    client = ws_client()
    reply = client.ask({"type": "chat", "message": "Hi", "perspective": "brittle"})
    assert reply["type"] == "error"
    assert "perspective 'brittle'" in reply["message"] and "brittle" in reply["message"]
    assert "ZeroDivisionError" in reply["message"]
    assert client.ask({"type": "ping"})["type"] == "pong"
    user_errors = [event for event in events if event.kind == "user_error"]
    assert len(user_errors) == 1 and user_errors[0].message_type == "chat"
    assert user_errors[0].detail == reply["message"] and "1 / 0" in user_errors[0].traceback


def test_a_bug_in_a_builtin_becomes_a_processing_error(engine, ws_client):
    def broken(context):
        return {}["missing"]

    engine.perspectives.register("broken_builtin", broken, builtin=True)
    with BackgroundServer(engine, port=0) as server:
        client = ws_client(server.url)
        reply = client.ask({"type": "chat", "message": "Hi", "perspective": "broken_builtin"})
        assert reply == {
            "type": "error",
            "message": "Processing error: KeyError: 'missing'",
            "timestamp": reply["timestamp"],
        }
        assert client.ask({"type": "ping"})["type"] == "pong"


def test_listeners_see_the_traffic_and_their_failures_do_not_matter(server, ws_client):
    events: list[ServerEvent] = []
    disconnected = threading.Event()

    def clumsy(event):
        raise RuntimeError("listener bug")

    def record(event):
        events.append(event)
        if event.kind == "disconnect":
            disconnected.set()

    server.add_listener(clumsy)
    server.add_listener(record)
    client = ws_client()
    assert client.ask({"type": "ping"})["type"] == "pong"
    assert client.ask("garbage")["message"] == "Invalid JSON format"
    connection_id = server.connections()[0].id
    client.close()
    assert disconnected.wait(10)
    kinds = [(event.kind, event.message_type) for event in events]
    assert kinds == [
        ("connect", None),
        ("message", "ping"),
        ("reply", "pong"),
        ("message", None),
        ("error", None),
        ("disconnect", None),
    ]
    assert {event.connection_id for event in events} == {connection_id}
    assert events[4].detail == "Invalid JSON format"


def test_hand_offs_run_on_the_server_thread(server):
    names: list[str] = []
    done = threading.Event()
    server.call_soon(lambda: (names.append(threading.current_thread().name), done.set()))
    assert done.wait(10)

    async def where() -> str:
        return threading.current_thread().name

    assert names == [server.run_coroutine(where()).result(10)]
    assert names[0] != threading.current_thread().name


def test_serve_works_on_any_asyncio_loop(engine):
    async def scenario() -> tuple[str, dict, int, int]:
        async with serve(engine, port=0) as server, async_connect(server.url) as client:
            welcome = json.loads(await client.recv())
            await client.send(b'{"type": "status"}')
            status = json.loads(await client.recv())
            serving = asyncio.create_task(server.serve_forever())
            server.close()
            with pytest.raises(ConnectionClosed):
                await client.recv()
            await serving
            return welcome["type"], status, client.close_code, server.port

    kind, status, code, port = asyncio.run(scenario())
    assert kind == "connection" and status["active_connections"] == 1 and code == 1001
    bind_again(port)
