"""Faults of notebook code and of clients at stop: named errors, no hang at exit, no hang on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading

from conftest import ServeProcess, wait_until
from test_server_bounds import backed_up, flood, frozen_client

from codette_lab.engine import Engine
from codette_lab.server import BackgroundServer

ANALYZE = {"type": "analyze", "track_data": {"track_id": 1}, "audio_data": {"peak_level": -3.0}}


def test_a_self_referencing_or_bottomless_result_names_the_function(ws_client):
    engine = Engine()

    def loops(request):
        metrics = {"peak": -1.0}
        metrics["again"] = metrics
        return {"insights": "x", "metrics": metrics}

    def bottomless(request):
        nested: dict = {}
        top = nested
        for _ in range(5000):
            nested["deeper"] = nested = {}
        return {"metrics": top}

    engine.analysis_types.register("loops", loops)
    engine.analysis_types.register("bottomless", bottomless)
    with BackgroundServer(engine, port=0) as server:
        client = ws_client(server.url)
        reply = client.ask({**ANALYZE, "analysis_type": "loops"})
        assert reply["type"] == "error" and "(function " in reply["message"] and "loops" in reply["message"]
        assert "contains itself (at ['metrics']['again'])" in reply["message"]
        reply = client.ask({**ANALYZE, "analysis_type": "bottomless"})
        assert "bottomless" in reply["message"] and "nested deeper than 32 levels" in reply["message"]
        assert "RecursionError" not in reply["message"]
        assert client.ask({"type": "ping"})["type"] == "pong"


def test_stuck_notebook_threads_do_not_hold_up_the_exit_of_the_process():
    script = textwrap.dedent(
        f"""
        import json, threading, time
        from websockets.sync.client import connect
        from codette_lab.engine import Engine
        from codette_lab.server import BackgroundServer

        engine = Engine()
        engine.analysis_types.register("stuck", lambda request: threading.Event().wait())
        server = BackgroundServer(engine, port=0, request_timeout=0.2).start()
        with connect(server.url) as client:
            client.recv()
            client.send(json.dumps({json.dumps({**ANALYZE, "analysis_type": "stuck"})}))
            print(json.loads(client.recv())["message"], flush=True)
        print("exiting", flush=True)
        """
    )
    # The stuck thread waits forever: were the exit held by it, the run would hit its deadline and fail.
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "did not answer within 0.2 s" in done.stdout and "exiting" in done.stdout


def test_sigterm_stops_the_command_despite_a_frozen_client():
    served = ServeProcess()  # logs at INFO: the "listening on" line gives its port
    try:
        url = f"ws://127.0.0.1:{served.wait_for_port()}/ws"
        with frozen_client(url) as frozen:
            threading.Thread(target=flood, args=(frozen, 20_000), daemon=True).start()
            wait_until(lambda: backed_up(frozen), what="the frozen client's requests backing up")
            served.process.send_signal(signal.SIGTERM)
            # A deadline against a hang; how long stopping takes is in benchmarks/bench_responsiveness.py.
            assert served.process.wait(timeout=30) == 0
    finally:
        served.stop()
