"""``codette-lab serve --rules FILE`` follows its file (on change and on SIGHUP) with connections kept open,
refuses a broken file keeping the rules in force, and ``--record DIR`` names the rules each request met."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import LISTENING, WsClient

from codette_lab.analysis_types import judge_metrics
from codette_lab.engine import Engine
from codette_lab.recording import read_recording
from codette_lab.reload import RuleFileWatcher
from codette_lab.rules import RuleSet
from codette_lab.server import BackgroundServer

HOT_VOCAL = {
    "type": "analyze",
    "analysis_type": "dynamics",
    "track_data": {"track_id": "hot", "track_name": "Hot Vox", "track_type": "vocal"},
    "audio_data": {"peak_level": -0.5, "rms_level": -8.0, "duration": 3.0, "sample_rate": 44100},
}


def tuned(**values: float) -> RuleSet:
    rules = RuleSet.default()
    rules.update(values)
    return rules


class Served:
    """A ``codette-lab serve`` subprocess whose log goes to a file read while it runs."""

    def __init__(self, root: Path, log: Path, *arguments: str) -> None:
        self.log_path = log
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "codette_lab", "serve", "--port", "0", *arguments],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not (listening := LISTENING.search(self.log())):  # the port it bound, from its log
            assert self.process.poll() is None, f"the server exited: {self.log()}"
            assert time.monotonic() < deadline, f"the server did not listen within 30 s: {self.log()}"
            time.sleep(0.05)
        self.port = int(listening.group(1))

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=10)
        self._log.close()
        return code


@pytest.fixture
def serve(repo_root, tmp_path) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(*arguments: str) -> Served:
        served = Served(repo_root, tmp_path / "serve.log", *arguments)
        started.append(served)
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait()


def rules_in_force(client: WsClient) -> dict:
    return client.ask({"type": "status"})["rules"]


def wait_for_identity(client: WsClient, identity: str, *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while rules_in_force(client)["identity"] != identity:
        assert time.monotonic() < deadline, f"the rules did not become {identity} within {within} s"
        time.sleep(0.1)


def test_a_changed_file_is_reloaded_and_a_broken_one_refused_while_the_connection_stays(serve, tmp_path):
    path = RuleSet.default().export(tmp_path / "rules.json")
    first = RuleSet.load(path).snapshot().identity
    served = serve("--rules", str(path), "--record", str(tmp_path / "rec"))
    with WsClient(f"ws://127.0.0.1:{served.port}/ws") as client:
        assert rules_in_force(client) == {"source": str(path), "identity": first}
        before = client.ask(HOT_VOCAL)["analysis"]["problems_detected"]
        assert [problem["rule"] for problem in before] == ["clipping_risk"]

        second = tuned(**{"general.clip_risk_peak_dbfs": 0.0}).export(path)  # as a notebook's export writes it
        second_identity = RuleSet.load(second).snapshot().identity
        wait_for_identity(client, second_identity)
        after = client.ask(HOT_VOCAL)["analysis"]["problems_detected"]
        assert [problem["rule"] for problem in after] == ["headroom"]
        assert f"Rules reloaded from {path} (file changed): identity {second_identity}, was {first}" in served.log()

        path.write_text('{"format": "codette-rules", "parameters": [')  # broken, written in place
        deadline = time.monotonic() + 10
        while "Rules not reloaded" not in served.log():
            assert time.monotonic() < deadline, served.log()
            time.sleep(0.1)
        refusal = next(line for line in served.log().splitlines() if "Rules not reloaded" in line)
        assert str(path) in refusal and "not valid JSON" in refusal
        assert f"The rules in force stay (identity {second_identity}" in refusal
        assert rules_in_force(client)["identity"] == second_identity
        assert [problem["rule"] for problem in client.ask(HOT_VOCAL)["analysis"]["problems_detected"]] == ["headroom"]
    assert served.stop() == 0

    analyses = [exchange for exchange in read_recording(tmp_path / "rec") if exchange.message_type == "analyze"]
    assert [exchange.rules for exchange in analyses] == [first, second_identity, second_identity]


def test_sighup_reloads_a_change_the_poll_cannot_see(serve, tmp_path):
    path = RuleSet.default().export(tmp_path / "rules.json")
    first = RuleSet.load(path).snapshot().identity
    text = tuned(**{"general.clip_risk_peak_dbfs": -2.0}).to_dict()
    changed = json.dumps(text, indent=2, ensure_ascii=False) + "\n"
    assert len(changed.encode()) == path.stat().st_size  # -1.0 -> -2.0: same size
    served = serve("--rules", str(path))
    with WsClient(f"ws://127.0.0.1:{served.port}/ws") as client:
        assert rules_in_force(client)["identity"] == first
        status = path.stat()
        with path.open("r+", encoding="utf-8") as stream:  # same inode, same size ...
            stream.write(changed)
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))  # ... same modification time
        time.sleep(2.5)  # two polls: neither sees a change
        assert rules_in_force(client)["identity"] == first

        served.process.send_signal(signal.SIGHUP)
        wait_for_identity(client, RuleSet.load(path).snapshot().identity)
        assert f"Rules reloaded from {path} (SIGHUP)" in served.log()
        assert client.ask({"type": "ping"})["type"] == "pong"  # the same connection throughout
    assert served.stop() == 0


def test_a_request_already_running_finishes_with_the_rules_it_started_with(tmp_path, release, ws_client):
    path = RuleSet.default().export(tmp_path / "rules.json")
    engine = Engine(rules=path)
    started = threading.Event()

    def slow_levels(request):  # judged, after a wait, by the rules its request started with
        started.set()
        release.wait(20)
        return judge_metrics(request, {"peak_dbfs": request.levels.peak_dbfs})

    engine.analysis_types.register("slow_levels", slow_levels)
    with BackgroundServer(engine, host="127.0.0.1", port=0, request_timeout=30) as server:
        running, later = ws_client(server.url), ws_client(server.url)
        running.send({**HOT_VOCAL, "analysis_type": "slow_levels"})
        assert started.wait(10)
        tuned(**{"general.clip_risk_peak_dbfs": 0.0}).export(path)
        assert server.run_coroutine(RuleFileWatcher(engine.rules, path).reload("test")).result(10)
        assert [problem["rule"] for problem in later.ask(HOT_VOCAL)["analysis"]["problems_detected"]] == ["headroom"]
        release.set()
        reply = running.recv()
    assert [problem["rule"] for problem in reply["analysis"]["problems_detected"]] == ["clipping_risk"]


def test_a_record_folder_that_cannot_be_written_exits_2_naming_it(repo_root, tmp_path):
    taken = tmp_path / "a_file"
    taken.write_text("not a folder")
    completed = subprocess.run(
        [sys.executable, "-m", "codette_lab", "serve", "--port", "0", "--record", str(taken)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert f"codette-lab serve: error: Cannot record into {taken}" in completed.stderr
