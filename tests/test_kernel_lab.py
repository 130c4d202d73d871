"""The Lab inside a real Jupyter kernel, driven through jupyter_client as a notebook front end would.

A DAW stand-in (a plain ``websockets`` client in this test process) talks to
the server the kernel runs, while cells are executed in that kernel.
"""

from __future__ import annotations

import json
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import WsClient, free_tcp_port, venv_kernel_manager
from websockets.exceptions import ConnectionClosed

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parents[1]


class NotebookKernel:
    """A python3 kernel of this venv (explicit command, so no other Python's ipykernel is used)."""

    def __init__(self, spec_dir: Path) -> None:
        self.manager = venv_kernel_manager(spec_dir, display_name="codette_lab test kernel")
        self.manager.start_kernel(cwd=str(REPO))
        self.client = self.manager.blocking_client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, *, timeout: float = 60) -> str:
        """Execute a cell; return what it printed. A cell that raises fails the test with its traceback."""
        printed: list[str] = []
        errors: list[str] = []

        def on_output(message: dict) -> None:
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "error":
                errors.append("\n".join(content["traceback"]))

        reply = self.client.execute_interactive(textwrap.dedent(code), timeout=timeout, output_hook=on_output)
        if reply["content"]["status"] != "ok" or errors:
            raise AssertionError(f"cell failed:\n{code}\n" + "\n".join(errors))
        return "".join(printed)

    def messages(self, code: str, *, timeout: float = 60) -> int:
        """Execute a cell that must succeed; return how many messages it sent on the output channel."""
        sent: list[str] = []
        reply = self.client.execute_interactive(
            textwrap.dedent(code), timeout=timeout, output_hook=lambda message: sent.append(message["msg_type"])
        )
        assert reply["content"]["status"] == "ok" and "error" not in sent, f"cell failed:\n{code}"
        return len(sent)

    def run_failing(self, code: str, *, timeout: float = 60) -> list[str]:
        """Execute a cell that must fail; return the traceback lines the front end would show."""
        shown: list[str] = []

        def on_output(message: dict) -> None:
            if message["msg_type"] == "error":
                shown.extend(message["content"]["traceback"])

        reply = self.client.execute_interactive(textwrap.dedent(code), timeout=timeout, output_hook=on_output)
        assert reply["content"]["status"] == "error", f"cell did not fail:\n{code}"
        return shown

    def value(self, expression: str) -> object:
        """The JSON value of an expression evaluated in the kernel."""
        return json.loads(self.run(f"import json as _json; print(_json.dumps({expression}))"))

    def submit(self, code: str) -> str:
        """Start a cell without waiting for it; returns its message id."""
        return self.client.execute(textwrap.dedent(code))

    def finished(self, msg_id: str) -> bool:
        """True once the shell reply to ``msg_id`` has come back (non-blocking)."""
        while self.client.shell_channel.msg_ready():
            reply = self.client.get_shell_msg(timeout=1)
            if reply["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)


def daw_client(url: str) -> WsClient:
    """A protocol client standing in for a DAW; analyses may take a while in a fresh kernel."""
    return WsClient(url, timeout=30)


def start_cell(port: int) -> str:
    return f"""
        from codette_lab import Lab
        lab = Lab(port={port})
        lab.start()
        print(lab.url)
    """


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotebookKernel]:
    kernel = NotebookKernel(tmp_path_factory.mktemp("kernelspec"))
    yield kernel
    kernel.shutdown()


@pytest.fixture(scope="module")
def lab_url(kernel: NotebookKernel) -> str:
    return kernel.run(start_cell(0)).strip()


@pytest.fixture
def daw(lab_url: str) -> Iterator[WsClient]:
    client = daw_client(lab_url)
    yield client
    client.close()


def test_start_cell_serves_the_protocol(daw: WsClient) -> None:
    assert daw.welcome["type"] == "connection"
    assert daw.ask({"type": "ping"})["type"] == "pong"
    assert daw.ask({"type": "chat", "message": "How do I EQ a vocal?"})["type"] == "chat_response"


def test_pongs_keep_coming_while_a_cell_computes_in_pure_python(kernel: NotebookKernel, daw: WsClient) -> None:
    busy = kernel.submit(
        """
        import time
        _end = time.perf_counter() + 3
        _n = 0
        while time.perf_counter() < _end:
            _n += 1
        """
    )
    pongs_while_busy = 0
    while not kernel.finished(busy):
        reply = daw.ask({"type": "ping"})
        assert reply["type"] == "pong"
        pongs_while_busy += 1
    assert pongs_while_busy >= 10
    assert kernel.value("_n > 0") is True


def test_rerunning_the_start_cell_keeps_the_server_the_definitions_and_the_panel(
    kernel: NotebookKernel, lab_url: str
) -> None:
    daw = daw_client(lab_url)
    kernel.run(
        """
        @lab.perspective("vocal_coach")
        def vocal_coach(context):
            return "sing it again"

        lab.rules["vocal.highpass_hz"] = 155
        panel = lab.panel()
        """
    )

    assert kernel.run(start_cell(0)).strip() == lab_url  # the start cell, run again (as the fixture ran it)

    assert daw.ask({"type": "ping"})["type"] == "pong"  # the same connection, never closed
    chat = {"type": "chat", "message": "What now?", "perspective": "vocal_coach"}
    assert daw.ask(chat)["response"] == "sing it again"
    assert kernel.value('lab.rules["vocal.highpass_hz"]') == 155
    assert kernel.value("panel.lab is lab") is True
    # the panel shown before the re-run still works: its Chat asks the live server, its Rules move it
    answer = kernel.value('panel.chat.send("Any tip?", perspective="vocal_coach").result(timeout=30)["response"]')
    assert answer == "sing it again"
    kernel.run('panel.rules.set("vocal.highpass_hz", 90)')
    assert kernel.value('lab.rules["vocal.highpass_hz"]') == 90
    assert "<b>1</b> DAW" in kernel.value("(panel.monitor.refresh(), panel.monitor.summary.value)[1]")
    kernel.run("panel.close(); lab.remove_perspective('vocal_coach'); lab.rules.reset()")
    daw.close()


#: What a kernel's output channel holds for a front end that is busy (ZMQ's default high-water mark, in messages):
#: past it messages are dropped, a cell's "idle" among them, and that cell never finishes in the notebook.
OUTPUT_CHANNEL_HOLDS = 1000


def test_showing_a_panel_and_opening_its_rule_groups_sends_a_few_hundred_messages_not_thousands(
    kernel: NotebookKernel, lab_url: str
) -> None:
    shown = kernel.messages("from IPython.display import display; _panel = lab.panel(); display(_panel)")
    assert shown < OUTPUT_CHANNEL_HOLDS / 2, f"showing a panel sent {shown} messages"
    groups = kernel.value("len(_panel.rules.groups.children)")
    assert groups >= 5
    opened = [kernel.messages(f"_panel.rules.groups.selected_index = {index}") for index in range(groups)]
    assert max(opened) < OUTPUT_CHANNEL_HOLDS / 2, f"opening the rule groups sent {opened} messages"
    assert kernel.value("len(_panel.rules.rows.built) == len(lab.rules.values())") is True  # every row, once opened
    assert kernel.messages("_panel.rules.groups.selected_index = 0") < 10  # opened again: nothing rebuilt
    kernel.run("_panel.close()")


def test_reset_returns_to_the_builtins_with_the_daw_still_connected(kernel: NotebookKernel, daw: WsClient) -> None:
    kernel.run(
        """
        lab.perspective("mix_engineering", lambda context: "class answer")
        lab.rules["general.headroom_peak_dbfs"] = -12
        """
    )
    chat = {"type": "chat", "message": "How do I compress a vocal?"}
    assert daw.ask(chat)["response"] == "class answer"
    kernel.run("lab.reset()")
    assert daw.ask(chat)["response"] != "class answer"
    assert kernel.value("lab.rules.changed()") == {}


def test_a_perspective_defined_later_answers_the_connected_daws_next_chat(
    kernel: NotebookKernel, daw: WsClient
) -> None:
    chat = {"type": "chat", "message": "What about the snare?", "perspective": "drum_coach"}
    assert "Unknown perspective: 'drum_coach'" in daw.ask(chat)["message"]

    kernel.run(
        """
        @lab.perspective("drum_coach")
        def drum_coach(request):
            return f"Coach says: tune the drum first ({request.message})"
        """
    )
    reply = daw.ask(chat)
    assert reply["type"] == "chat_response"
    assert reply["response"] == "Coach says: tune the drum first (What about the snare?)"

    kernel.run(
        """
        @lab.perspective("drum_coach")
        def drum_coach(request):
            return {"response": "Coach v2: gate the toms", "confidence": 0.4}
        """
    )
    reply = daw.ask(chat)
    assert (reply["response"], reply["confidence"]) == ("Coach v2: gate the toms", 0.4)


def test_an_analysis_type_defined_later_answers_the_connected_daw(kernel: NotebookKernel, daw: WsClient) -> None:
    request = {
        "type": "analyze",
        "track_data": {"track_id": "t7", "track_name": "Kick", "track_type": "drums"},
        "audio_data": {"peak_level": -3.0, "rms_level": -15.0, "duration": 10.0, "sample_rate": 48000},
        "analysis_type": "punch",
    }
    assert "Unknown analysis type: 'punch'" in daw.ask(request)["message"]

    kernel.run(
        """
        @lab.analysis_type("punch")
        def punch(request):
            crest = request.levels.peak_dbfs - request.levels.rms_dbfs
            return {
                "insights": f"{request.track.track_name}: crest {crest:.1f} dB",
                "suggestions": ["Try a slower attack to let the transient through"],
                "quality_score": 0.5,
                "metrics": {"crest_factor_db": crest},
            }
        """
    )
    reply = daw.ask(request)
    assert reply["type"] == "analysis_response", reply
    assert reply["trackId"] == "t7"
    analysis = reply["analysis"]
    assert analysis["analysis_type"] == "punch"
    assert analysis["codette_insights"] == "Kick: crest 12.0 dB"
    assert analysis["mixing_suggestions"] == ["Try a slower attack to let the transient through"]
    assert analysis["quality_score"] == 0.5


def test_a_broken_perspective_gives_an_error_naming_it_and_its_traceback_in_lab_events(
    kernel: NotebookKernel, daw: WsClient
) -> None:
    kernel.run(
        """
        @lab.perspective("broken")
        def broken_coach(request):
            levels = {}
            return levels["vocal"]
        """
    )
    reply = daw.ask({"type": "chat", "message": "help", "perspective": "broken"})
    assert reply["type"] == "error"
    assert "broken_coach" in reply["message"] and "KeyError" in reply["message"]
    assert daw.ask({"type": "ping"})["type"] == "pong"

    traceback = kernel.value("lab.events.last_error().traceback")
    assert "Traceback" in traceback and 'return levels["vocal"]' in traceback


def test_the_monitor_panel_refreshes_itself_on_the_kernels_main_thread(kernel: NotebookKernel, lab_url: str) -> None:
    kernel.run(
        """
        import threading
        panel = lab.panel()
        refreshed_on = set()
        panel.monitor.summary.observe(lambda _: refreshed_on.add(threading.current_thread().name), names="value")
        """
    )
    daw = daw_client(lab_url)
    assert daw.ask({"type": "ping"})["type"] == "pong"
    for _ in range(50):  # each cell returns control to the kernel's loop, where the refresh is queued
        if "<b>1</b> DAW(s) connected" in kernel.value("panel.monitor.summary.value"):
            break
    assert "<b>1</b> DAW(s) connected" in kernel.value("panel.monitor.summary.value")
    assert kernel.value("sorted(refreshed_on)") == ["MainThread"]
    daw.close()
    kernel.run("panel.close()")


def test_kernel_shutdown_frees_the_port(tmp_path: Path) -> None:
    kernel = NotebookKernel(tmp_path)
    try:
        url = kernel.run(start_cell(0)).strip()
        port = urlsplit(url).port
        daw = daw_client(url)
        assert daw.ask({"type": "ping"})["type"] == "pong"
    finally:
        kernel.shutdown()
    assert not kernel.manager.is_alive()
    with pytest.raises(ConnectionClosed):
        daw.socket.recv(timeout=10)
    with socket.socket() as again:  # as a new server would: only a listening socket could refuse this
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen()


def test_another_kernels_port_gives_one_short_message_and_a_new_port_keeps_definitions(
    tmp_path: Path, lab_url: str
) -> None:
    taken = urlsplit(lab_url).port
    other = NotebookKernel(tmp_path)
    try:
        shown = other.run_failing(start_cell(taken))
        assert len(shown) == 1 and shown[0].startswith(f"PortInUseError: Port {taken} ")
        assert "Shut that kernel down" in shown[0]

        url = other.run(start_cell(0)).strip()
        first_port = urlsplit(url).port
        second_port = free_tcp_port()  # a port named on purpose (the cell moves there): picked, so it may race
        other.run(
            """
            lab.perspective("coach", lambda context: "kept across ports")
            panel = lab.panel()
            """
        )
        daw = daw_client(url)
        moved = other.run(start_cell(second_port)).strip()
        assert moved == url.replace(str(first_port), str(second_port))
        with pytest.raises(ConnectionClosed) as closed:
            daw.socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        assert daw_client(moved).ask({"type": "chat", "message": "?", "perspective": "coach"})["response"] == (
            "kept across ports"
        )
        reply = other.value('panel.chat.send("?", perspective="coach").result(timeout=30)["response"]')
        assert reply == "kept across ports"  # the panel follows the Lab to its new port
    finally:
        other.shutdown()
