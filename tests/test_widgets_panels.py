"""The panels without a browser: every button is a method, so the tests press them from Python."""

from __future__ import annotations

import asyncio
import base64
import threading
from pathlib import Path

import pytest

from codette_lab import Lab
from codette_lab.rules import RuleSet
from codette_lab.widgets import ChatPanel, MonitorPanel


@pytest.fixture
def lab(free_port: int):
    lab = Lab(port=free_port, request_timeout=20.0).start()
    yield lab
    lab.stop()


@pytest.fixture
def panel(lab: Lab):
    panel = lab.panel()
    yield panel
    panel.close()


def test_the_panel_has_four_tabs(panel) -> None:
    assert [panel.get_title(index) for index in range(4)] == ["Chat", "Monitor", "Analysis", "Rules"]
    assert panel.children == (panel.chat, panel.monitor, panel.analysis, panel.rules)


def test_chat_goes_through_the_server_and_fills_the_transcript(lab: Lab, panel) -> None:
    panel.chat.message.value = "How should I EQ the lead vocal?"
    panel.chat.send_button.click()
    ((perspective, question, reply),) = panel.chat.exchanges
    assert (perspective, question, reply["type"]) == (
        "mix_engineering",
        "How should I EQ the lead vocal?",
        "chat_response",
    )
    assert "How should I EQ the lead vocal?" in panel.chat.transcript.value
    assert panel.chat.message.value == ""
    assert [event.message_type for event in lab.events.of_kind("message")] == ["chat"]
    assert lab.active_connections == 1  # the panel's own DAW connection


def test_chat_dropdown_follows_perspectives_defined_in_cells(lab: Lab, panel) -> None:
    assert "teacher" not in panel.chat.perspective.options

    @lab.perspective("teacher")
    def teacher(context):
        return f"Teacher heard: {context.message}"

    assert "teacher" in panel.chat.perspective.options
    panel.chat.perspective.value = "teacher"
    reply = panel.chat.send("Is my kick too loud?")
    assert reply["response"] == "Teacher heard: Is my kick too loud?"
    lab.remove_perspective("teacher")
    assert "teacher" not in panel.chat.perspective.options
    assert panel.chat.perspective.value == "mix_engineering"


def test_monitor_shows_connections_log_and_user_tracebacks(lab: Lab, panel) -> None:
    daw = lab.simulate_daw(name="monitored")

    @lab.perspective("broken")
    def broken_view(context):
        return {"response": context.message.upper(), "confidence": 7}

    @lab.perspective("raising")
    def raising_view(context):
        raise LookupError("no preset for this track")

    daw.ping()
    assert daw.chat("help", perspective="broken")["type"] == "error"
    assert daw.chat("help", perspective="raising")["type"] == "error"
    panel.monitor.refresh_button.click()
    assert "<b>1</b> connection(s)" in panel.monitor.summary.value
    assert "#" in panel.monitor.connection_list.value and "messages" in panel.monitor.connection_list.value
    log_lines = panel.monitor.message_log.value.splitlines()
    assert any(" message ping" in line for line in log_lines)
    assert any(" reply pong" in line for line in log_lines)
    errors = panel.monitor.errors.value
    assert "raising_view" in errors and "LookupError" in errors and "Traceback" in errors
    assert "confidence of 7" in errors
    panel.monitor.clear()
    assert panel.monitor.errors.value == "<i>None.</i>" and panel.monitor.message_log.value == ""


def test_analysis_run_draws_figures_and_lists_suggestions(panel) -> None:
    panel.analysis.choose("vocal.flac", analysis_type="spectrum")
    assert panel.analysis.track_type.value == "vocal"
    analysis = panel.analysis.run()
    assert analysis is not None and analysis.analysis_type == "spectrum"
    assert sorted(panel.analysis.figures) == ["loudness", "spectrum", "waveform"]
    spectrum_axes = panel.analysis.figures["spectrum"].axes[0]
    assert {text.get_text() for text in spectrum_axes.texts} >= {"sub bass", "low mids", "air"}
    loudness_labels = [line.get_label() for line in panel.analysis.figures["loudness"].axes[0].lines]
    assert loudness_labels[:2] == ["momentary (400 ms)", "short-term (3 s)"]
    images = [output["data"]["image/png"] for output in panel.analysis.plots.outputs]
    assert len(images) == 3 and all(base64.b64decode(image)[:4] == b"\x89PNG" for image in images)
    for suggestion in analysis.suggestions:
        assert suggestion.replace("'", "&#x27;") in panel.analysis.report.value


def test_a_slider_changes_the_rules_and_the_next_analysis(lab: Lab, panel) -> None:
    panel.analysis.choose("vocal.flac", analysis_type="spectrum", track_type="vocal")
    before = panel.analysis.run()
    panel.rules.set("vocal.highpass_hz", 150)
    assert lab.rules["vocal.highpass_hz"] == 150
    after = panel.analysis.run()
    assert after.suggestions != before.suggestions
    assert any("150" in text for text in after.suggestions)


def test_code_changes_move_the_sliders_and_reset_restores_defaults(lab: Lab, panel) -> None:
    lab.rules["vocal.comp_ratio"] = 6
    assert panel.rules.sliders["vocal.comp_ratio"].value == 6
    panel.rules.set("drums.kick_hz", 70)
    assert lab.rules.changed() == {"vocal.comp_ratio": 6, "drums.kick_hz": 70}
    panel.rules.reset_button.click()
    assert lab.rules.changed() == {}
    assert panel.rules.sliders["vocal.comp_ratio"].value == lab.rules.parameter("vocal.comp_ratio").default


def test_sliders_cover_every_parameter_grouped_by_track_type(lab: Lab, panel) -> None:
    assert set(panel.rules.sliders) == set(lab.rules)
    titles = list(panel.rules.groups.titles)
    assert titles == list(lab.rules.groups())
    assert {"general", "vocal", "drums", "bass"} <= set(titles)


def test_export_writes_a_file_the_standalone_server_can_load(lab: Lab, panel, tmp_path: Path) -> None:
    panel.rules.set("bass.mud_cut_hz", 220)
    written = panel.rules.export(tmp_path / "tuned.json")
    assert RuleSet.load(written)["bass.mud_cut_hz"] == 220

    panel.rules.path.value = str(tmp_path / "from_button.json")
    panel.rules.export_button.click()
    assert RuleSet.load(tmp_path / "from_button.json").values() == lab.rules.values()
    assert "Exported" in panel.rules.status.value

    panel.rules.path.value = str(tmp_path)  # a folder: cannot be replaced by a file
    panel.rules.export_button.click()
    assert "Export failed" in panel.rules.status.value


def test_analysis_can_plot_the_audio_a_daw_just_sent(lab: Lab, panel) -> None:
    daw = lab.simulate_daw(name="student")
    reply = daw.analyze("Bass", analysis_type="loudness", send="samples", seconds=4)
    assert reply["type"] == "analysis_response"
    panel.analysis.refresh_button.click()
    first = panel.analysis.source.options[0][1]
    assert first.recent is not None and first.track_name == "Bass"
    panel.analysis.source.value = first
    analysis = panel.analysis.run()
    assert analysis.metrics["duration_s"] == pytest.approx(4.0, abs=0.01)


def test_a_broken_analysis_type_shows_its_error_and_traceback_in_the_panel(lab: Lab, panel) -> None:
    @lab.analysis_type("wonky")
    def wonky(request):
        return {"quality_score": "excellent"}

    panel.analysis.choose("drums.flac", analysis_type="wonky")
    assert panel.analysis.run() is None
    assert "wonky" in panel.analysis.report.value and "quality_score" in panel.analysis.report.value
    assert panel.analysis.plots.outputs == ()

    @lab.analysis_type("wonky")
    def wonky_again(request):
        raise ValueError("no idea what a " + request.track.track_type + " is")

    assert panel.analysis.run() is None
    report = panel.analysis.report.value
    assert "wonky_again" in report and "ValueError" in report and "Traceback" in report


def test_monitor_follows_server_events_on_the_thread_that_built_it(lab: Lab) -> None:
    """Events arrive on the server thread; the refresh they trigger runs on the panel's (main) thread."""

    async def until(monitor: MonitorPanel, text: str) -> bool:
        for _ in range(250):
            if text in monitor.summary.value:
                return True
            await asyncio.sleep(0.02)
        return False

    async def scenario() -> tuple[bool, bool, list[threading.Thread]]:
        monitor = MonitorPanel(lab)  # built while this thread's event loop runs, as in a kernel
        refreshed_on: list[threading.Thread] = []
        monitor.summary.observe(lambda _: refreshed_on.append(threading.current_thread()), names="value")
        daw = await asyncio.to_thread(lab.simulate_daw, name="late joiner")
        saw_connect = await until(monitor, "<b>1</b> connection(s)")
        await asyncio.to_thread(daw.close)
        saw_disconnect = await until(monitor, "<b>0</b> connection(s)")
        monitor.close()
        return saw_connect, saw_disconnect, refreshed_on

    saw_connect, saw_disconnect, refreshed_on = asyncio.run(scenario())
    assert saw_connect and saw_disconnect
    assert all(thread is threading.main_thread() for thread in refreshed_on)


def test_a_send_click_off_the_main_thread_updates_the_chat_on_the_main_thread(lab: Lab) -> None:
    """A click on a comm subshell thread: the round trip runs there, the widgets change on the main thread."""

    async def scenario() -> tuple[dict, str, list[threading.Thread]]:
        chat = ChatPanel(lab)  # built while this thread's event loop runs, as in a kernel
        changed_on: list[threading.Thread] = []
        for widget in (chat.transcript, chat.message):
            widget.observe(lambda _: changed_on.append(threading.current_thread()), names="value")
        chat.message.value = "How do I tame a boomy bass?"
        changed_on.clear()
        reply = await asyncio.to_thread(chat.send)  # what send_button.click() runs on a subshell thread
        for _ in range(250):
            if chat.exchanges:
                break
            await asyncio.sleep(0.02)
        transcript = chat.transcript.value
        chat.close()
        return reply, transcript, changed_on

    reply, transcript, changed_on = asyncio.run(scenario())
    assert reply["type"] == "chat_response"
    assert "How do I tame a boomy bass?" in transcript and reply["perspective"] in transcript
    assert changed_on and all(thread is threading.main_thread() for thread in changed_on)


def test_the_message_box_keeps_what_was_typed_while_the_answer_was_on_its_way(lab: Lab, panel) -> None:
    @lab.perspective("slow_reader")
    def slow_reader(context):
        panel.chat.message.value = "a second question, typed meanwhile"  # the user keeps typing
        return "answered"

    panel.chat.message.value = "first question"
    reply = panel.chat.send(perspective="slow_reader")
    assert reply["response"] == "answered"
    assert panel.chat.message.value == "a second question, typed meanwhile"
    assert [question for _, question, _ in panel.chat.exchanges] == ["first question"]
