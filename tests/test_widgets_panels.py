"""The panels without a browser: every button is a method, so the tests press them from Python."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from pathlib import Path

import pytest

from codette_lab import Lab
from codette_lab.rules import RuleSet
from codette_lab.widgets import ChatPanel, MonitorPanel


@pytest.fixture
def lab():
    lab = Lab(port=0, request_timeout=20.0).start()
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


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_chat_goes_through_the_server_and_fills_the_transcript(lab: Lab, panel) -> None:
    panel.chat.message.value = "How should I EQ the lead vocal?"
    panel.chat.send_button.click()
    wait_for(lambda: panel.chat.exchanges and not panel.chat.activity.busy)
    ((perspective, question, context, reply),) = [
        (e.perspective, e.question, e.context, e.reply) for e in panel.chat.exchanges
    ]
    assert (perspective, question, context, reply["type"]) == (
        "mix_engineering",
        "How should I EQ the lead vocal?",
        "the demo session",
        "chat_response",
    )
    assert "How should I EQ the lead vocal?" in panel.chat.transcript.value
    assert panel.chat.message.value == ""
    assert [event.message_type for event in lab.events.of_kind("message")] == ["chat"]
    assert lab.active_connections == 1  # the panel's own DAW connection
    panel.monitor.refresh()
    assert "<b>0</b> DAW(s) connected (and this notebook's Chat tab)" in panel.monitor.summary.value


def test_chat_enter_sends_empty_sends_nothing_and_the_context_is_chosen(lab: Lab, panel) -> None:
    assert panel.chat.send("   ").result(timeout=5) is None
    assert panel.chat.exchanges == [] and "Type a question first" in panel.chat.status.value

    student = lab.simulate_daw(name="Studio B")
    student.select("Bass")
    student.chat("Is the bass too loud?")
    panel.chat.refresh_contexts()
    labels = [label for label, _ in panel.chat.context.options]
    assert labels[:2] == ["none", "the demo session"] and "Studio B (Bass): its last context" in labels
    panel.chat.context.value = next(value for label, value in panel.chat.context.options if "Studio B" in label)
    assert "selected Bass" in panel.chat.context_shown.value

    @lab.perspective("echo_context")
    def echo_context(context):
        track = context.daw_context.selected_track
        return f"selected: {track.name if track else None}"

    panel.chat.perspective.value = "echo_context"
    panel.chat.message.value = "What is selected?"
    panel.chat.message._handle_custom_msg({"event": "submit"}, [])  # what Enter in the box sends
    wait_for(lambda: panel.chat.exchanges and not panel.chat.activity.busy)
    assert panel.chat.exchanges[-1].reply["response"] == "selected: Bass"
    panel.chat.context.value = "none"
    assert panel.chat.send("And now?").result(timeout=30)["response"] == "selected: None"


def test_chat_dropdown_follows_perspectives_defined_in_cells(lab: Lab, panel) -> None:
    assert "teacher" not in panel.chat.perspective.options

    @lab.perspective("teacher")
    def teacher(context):
        return f"Teacher heard: {context.message}"

    assert "teacher" in panel.chat.perspective.options
    panel.chat.perspective.value = "teacher"
    reply = panel.chat.send("Is my kick too loud?").result(timeout=30)
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
    assert "<b>1</b> DAW(s) connected" in panel.monitor.summary.value
    assert "monitored" in panel.monitor.connection_list.value and "messages" in panel.monitor.connection_list.value
    log_lines = panel.monitor.message_log.value.splitlines()
    assert any(" monitored message ping" in line for line in log_lines)  # named by the name in its URL
    assert any(" monitored reply pong" in line for line in log_lines)
    assert "<b>Lead Vocal</b>" in panel.monitor.connection_list.value  # its tracks, the selected one in bold
    assert " connect " in log_lines[-1] and " user_error " in log_lines[0]  # newest first
    assert any("message chat \u201chelp\u201d [broken]" in line for line in log_lines)
    errors = panel.monitor.errors.value
    assert "raising_view" in errors and "LookupError" in errors and "Traceback" in errors
    assert "confidence of 7" in errors
    panel.monitor.clear()
    assert panel.monitor.errors.value == "<i>None.</i>" and panel.monitor.message_log.value == ""


def test_analysis_run_draws_figures_and_lists_suggestions(panel) -> None:
    panel.analysis.choose("vocal.flac", analysis_type="spectrum")
    assert panel.analysis.track_type.value == "vocal"
    analysis = panel.analysis.run().result(timeout=120)
    assert analysis is not None and analysis.analysis_type == "spectrum"
    assert sorted(panel.analysis.figures) == ["spectrum"]  # the figures fit the analysis type
    spectrum_axes = panel.analysis.figures["spectrum"].axes[0]
    assert {text.get_text() for text in spectrum_axes.texts} >= {"sub bass", "low mids", "air", "high-pass 80"}
    assert {label.get_text() for label in spectrum_axes.get_xticklabels()} >= {"100", "1k", "10k"}
    assert spectrum_axes.get_ylabel() == "level (dBFS)"
    images = [output["data"]["image/png"] for output in panel.analysis.plots.outputs]
    assert len(images) == 1 and base64.b64decode(images[0])[:4] == b"\x89PNG"
    for suggestion in analysis.suggestions:
        assert suggestion.replace("'", "&#x27;") in panel.analysis.report.value
    assert "spectral_centroid_hz" in panel.analysis.report.value  # the metrics table

    versions = [label for label, _ in panel.analysis.listen.choice.options]
    assert versions[0] == "as it is" and "with the high-pass at 80 Hz" in versions
    panel.analysis.listen.choice.value = dict(panel.analysis.listen.choice.options)["with the high-pass at 80 Hz"]
    assert panel.analysis.listen.player.value[:4] == b"RIFF"

    panel.analysis.analysis_type.value = "loudness"
    panel.analysis.run().result(timeout=120)
    loudness_labels = [line.get_label() for line in panel.analysis.figures["loudness"].axes[0].lines]
    assert loudness_labels[:2] == ["momentary (400 ms)", "short-term (3 s)"]
    assert not any(label.startswith("target") for label in loudness_labels)  # a stem is not held to -14 LUFS
    peak_lines = panel.analysis.figures["loudness"].axes[1].lines
    assert any("true-peak ceiling -1 dBTP" in line.get_label() for line in peak_lines)
    assert any(line.get_label().startswith("headroom mark -6 dBFS") for line in peak_lines)
    panel.analysis.track_type.value = "master"  # a master is judged against the streaming target: drawn
    panel.analysis.run().result(timeout=120)
    assert "target -14 LUFS" in [line.get_label() for line in panel.analysis.figures["loudness"].axes[0].lines]
    panel.analysis.track_type.value = "vocal"
    for kind, expected in (("stereo", ["stereo"]), ("transients", ["transients", "waveform"])):
        panel.analysis.analysis_type.value = kind
        panel.analysis.run().result(timeout=120)
        assert sorted(panel.analysis.figures) == expected


def test_a_notebook_analysis_type_brings_its_own_figure(lab: Lab, panel) -> None:
    from matplotlib.figure import Figure

    def draw(samples, sample_rate, analysis):
        figure = Figure()
        figure.add_subplot().set_title(f"peaks of {analysis.analysis_type}")
        return figure

    lab.analysis_type("peaks", lambda request: {"metrics": {"n": 1}}, figure=draw)
    panel.analysis.choose("keys.flac", analysis_type="peaks")
    panel.analysis.run().result(timeout=120)
    assert panel.analysis.figures["peaks"].axes[0].get_title() == "peaks of peaks"
    assert "not scored" in panel.analysis.report.value and "0.50" not in panel.analysis.report.value


def test_a_slider_changes_the_rules_and_the_next_analysis(lab: Lab, panel) -> None:
    panel.analysis.choose("vocal.flac", analysis_type="spectrum", track_type="vocal")
    before = panel.analysis.run().result(timeout=120)
    panel.rules.set("vocal.highpass_hz", 150)
    assert lab.rules["vocal.highpass_hz"] == 150
    after = panel.analysis.run().result(timeout=120)
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
    assert f"Export to {tmp_path} failed" in panel.rules.status.value  # the file the user chose, not a temp name


def test_rules_rows_read_well_mark_changes_reset_one_and_load(lab: Lab, panel, tmp_path: Path) -> None:
    row = panel.rules.rows["vocal.comp_attack_ms"]
    assert "comp attack (ms)" in row.label.value and "ms (ms)" not in row.label.value
    assert "Vocal compressor attack" in row.description.value  # visible, not only in a tooltip
    assert row.marker.value == "" and row.reset_button.disabled
    panel.rules.set("vocal.comp_attack_ms", 25)
    assert "changed" in row.marker.value and not row.reset_button.disabled
    assert "vocal.comp_attack_ms" in panel.rules.changes.value and "<td>25</td>" in panel.rules.changes.value
    row.reset_button.click()
    assert lab.rules.changed() == {} and row.marker.value == ""

    tuned = RuleSet.default()
    tuned["bass.mud_cut_hz"] = 230
    tuned.export(tmp_path / "class.json")
    panel.rules.path.value = str(tmp_path / "class.json")
    panel.rules.load_button.click()
    assert lab.rules["bass.mud_cut_hz"] == 230 and panel.rules.sliders["bass.mud_cut_hz"].value == 230
    panel.rules.path.value = str(tmp_path / "missing.json")
    panel.rules.load_button.click()
    assert str(tmp_path / "missing.json") in panel.rules.status.value


def test_rule_groups_are_built_when_opened_even_after_loading_a_file_that_lacks_a_parameter(
    lab: Lab, panel, tmp_path: Path
) -> None:
    assert panel.rules.rows.built == {}  # shown with no row built
    older = RuleSet.default().to_dict()  # a file written before general.harsh_own_z_min existed
    older["parameters"] = [p for p in older["parameters"] if p["name"] != "general.harsh_own_z_min"]
    older["parameters"] = [{**p, "value": 90.0} if p["name"] == "vocal.highpass_hz" else p for p in older["parameters"]]
    RuleSet.from_dict(older).export(tmp_path / "older.json")
    panel.rules.path.value = str(tmp_path / "older.json")
    panel.rules.load_button.click()
    assert "Loaded" in panel.rules.status.value
    for index in range(len(panel.rules.groups.children)):
        panel.rules.groups.selected_index = index
    assert set(panel.rules.rows.built) == set(panel.rules.values()) == set(RuleSet.default())
    assert panel.rules.sliders["vocal.highpass_hz"].value == 90  # built after the load: shows it
    panel.rules.set("general.harsh_own_z_min", 3.0)  # the rules in force do not know it: said, not raised
    assert "Unknown rule parameter" in panel.rules.status.value


def test_after_a_rule_change_the_last_analysis_shows_before_and_after(lab: Lab, panel) -> None:
    panel.analysis.choose("vocal.flac", analysis_type="spectrum", track_type="vocal")
    before = panel.analysis.run().result(timeout=120)
    panel.rules.set("vocal.highpass_hz", 150)
    wait_for(lambda: "After" in panel.rules.comparison.view.value, timeout=120)
    view = panel.rules.comparison.view.value
    assert "Before" in view and before.suggestions[0].replace("'", "&#x27;") in view
    assert "150" in view.split("After")[1]


def test_analysis_can_plot_the_audio_a_daw_just_sent(lab: Lab, panel) -> None:
    daw = lab.simulate_daw(name="student")
    reply = daw.analyze("Bass", analysis_type="loudness", send="samples", seconds=4)
    assert reply["type"] == "analysis_response"
    panel.analysis.refresh_button.click()
    first = panel.analysis.source.options[0][1]
    assert first.recent is not None and first.track_name == "Bass"
    panel.analysis.source.value = first
    analysis = panel.analysis.run().result(timeout=120)
    assert analysis.metrics["duration_s"] == pytest.approx(4.0, abs=0.01)


def test_a_long_stereo_clip_sent_as_samples_is_kept_within_its_byte_bound_and_analyzed(lab: Lab, panel) -> None:
    # 10 s of stereo float32 is a frame of megabytes: the server decodes it in a parsing process,
    # so the request reaches the Lab without its base64 text and with the decoded arrays instead.
    daw = lab.simulate_daw(name="student")
    reply = daw.analyze("Drums", analysis_type="loudness", send="samples", seconds=10)
    assert reply["type"] == "analysis_response"
    (kept,) = lab.recent_audio()
    assert kept.request.audio.samples is None and kept.request.track.track_name == "Drums"
    samples, rate = kept.audio(lab.audio_roots)
    assert samples.shape == (2, 10 * rate) and kept.sample_bytes == samples.nbytes

    panel.analysis.refresh_button.click()
    first = panel.analysis.source.options[0][1]
    assert first.recent is kept and first.label.endswith("Drums (drums, samples)")
    panel.analysis.source.value = first
    analysis = panel.analysis.run().result(timeout=120)
    assert analysis.metrics["duration_s"] == pytest.approx(10.0, abs=0.01)

    lab.recent.max_bytes = 2 * kept.sample_bytes - 1  # room for one such clip, not two: the older goes
    assert daw.analyze("Drums", analysis_type="loudness", send="samples", seconds=10)["type"] == "analysis_response"
    (newer,) = lab.recent_audio()
    assert newer is not kept and newer.sample_bytes == kept.sample_bytes


def test_a_broken_analysis_type_shows_its_error_and_traceback_in_the_panel(lab: Lab, panel) -> None:
    @lab.analysis_type("wonky")
    def wonky(request):
        return {"quality_score": "excellent"}

    panel.analysis.choose("drums.flac", analysis_type="wonky")
    assert panel.analysis.run().result(timeout=60) is None
    assert "wonky" in panel.analysis.report.value and "quality_score" in panel.analysis.report.value
    assert panel.analysis.plots.outputs == ()

    @lab.analysis_type("wonky")
    def wonky_again(request):
        raise ValueError("no idea what a " + request.track.track_type + " is")

    assert panel.analysis.run().result(timeout=60) is None
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
        saw_connect = await until(monitor, "<b>1</b> DAW(s) connected")
        await asyncio.to_thread(daw.close)
        saw_disconnect = await until(monitor, "<b>0</b> DAW(s) connected")
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
        reply = await asyncio.to_thread(lambda: chat.send().result(timeout=30))  # a click on a subshell thread
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
    reply = panel.chat.send(perspective="slow_reader").result(timeout=30)
    assert reply["response"] == "answered"
    assert panel.chat.message.value == "a second question, typed meanwhile"
    assert [exchange.question for exchange in panel.chat.exchanges] == ["first question"]


def test_a_slow_analysis_shows_it_is_busy_clears_the_old_result_and_keeps_the_time_limit(lab: Lab, panel) -> None:
    release = threading.Event()

    @lab.analysis_type("slow_peak")
    def slow_peak(request):
        release.wait(10)
        return {"insights": "peak measured", "metrics": {"peak_linear": float(abs(request.samples).max())}}

    panel.analysis.choose("bass.flac", analysis_type="spectrum")
    assert panel.analysis.run().result(timeout=120) is not None and panel.analysis.plots.outputs
    panel.analysis.analysis_type.value = "slow_peak"
    running = panel.analysis.run()
    wait_for(lambda: "Analyzing bass" in panel.analysis.activity.label.value)
    assert panel.analysis.run_button.disabled and panel.analysis.result is None
    assert panel.analysis.plots.outputs == () and panel.analysis.report.value == ""  # the old result is gone
    release.set()
    analysis = running.result(timeout=60)
    assert analysis.metrics["peak_linear"] > 0 and not panel.analysis.run_button.disabled
    assert "peak_linear" in panel.analysis.report.value  # a notebook type's metrics are in the table
    assert panel.analysis.activity.label.value == ""

    stuck, returned = threading.Event(), threading.Event()

    def stuck_analysis(request):
        stuck.wait(30)
        returned.set()

    lab.analysis_type("stuck", stuck_analysis)
    Lab(port=lab.port, request_timeout=1.0)  # the start cell again, with a shorter time limit
    assert lab.time_limit("stuck") == 1.0 and lab.time_limit("spectrum") is None
    panel.analysis.analysis_type.value = "stuck"
    assert panel.analysis.run().result(timeout=30) is None
    assert not returned.is_set(), "the panel waited for the function instead of its time limit"
    assert "did not answer within 1 s" in panel.analysis.report.value
    stuck.set()


def test_masking_compares_with_a_second_source_and_the_report_is_saved(panel, tmp_path: Path) -> None:
    labels = [label for label, _ in panel.analysis.source.options]
    assert len(labels) == len(set(labels))  # no source listed twice
    assert panel.analysis.other.layout.display == "none"
    panel.analysis.choose("bass.flac", analysis_type="masking", track_type="bass", against="drums.flac")
    assert panel.analysis.other.layout.display == ""
    analysis = panel.analysis.run().result(timeout=120)
    assert analysis is not None and "masking_overlap" in analysis.metrics
    saved = panel.analysis.save(tmp_path / "report.html")
    page = saved.read_text()
    assert "masking_overlap" in page and page.count("data:image/png;base64,") == len(panel.analysis.figures)


def test_the_monitor_lists_refused_connections_filters_and_saves_the_log(lab: Lab, panel, tmp_path: Path) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus):
        connect(lab.url, origin="http://evil.example", open_timeout=10)
    first, second = lab.simulate_daw(name="Studio A"), lab.simulate_daw(name="Studio B")
    first.ping()
    second.chat("Is the snare too loud?")
    panel.monitor.refresh()
    refused = panel.monitor.refused.value
    assert "403" in refused and "evil.example" in refused
    panel.monitor.filter.value = next(value for label, value in panel.monitor.filter.options if "Studio B" in label)
    lines = panel.monitor.message_log.value.splitlines()
    assert lines and all("Studio B" in line for line in lines)
    assert any("Is the snare too loud?" in line for line in lines)
    saved = panel.monitor.save(tmp_path / "class.log").read_text()
    assert "Studio A" in saved and "Studio B" in saved and saved.index("Studio A") < saved.index("Is the snare")


def test_the_panels_import_nothing_of_the_lab() -> None:
    """The Lab imports the panels, never the other way round: no ``lab``/``widgets`` import circle."""
    import ast

    package = Path(__file__).resolve().parents[1] / "codette_lab" / "widgets"
    imported = {}
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module is not None:
                name = "." * node.level + node.module
                if name in ("..lab", "codette_lab.lab") or name.startswith(("..lab.", "codette_lab.lab.")):
                    imported[path.name] = name
    assert imported == {}
