"""What gave way when the lessons were used as a teacher and a researcher would: each point of issue 20, held.

A class moved to the network comes back by itself and the student followed in
the Monitor stays followed; one student is one row; a stopped Lab's panel says
so and follows the Lab that starts next; a port held by someone else is named
with a free one; nothing a user saved is overwritten without a question.
Everything runs against a real Lab on 127.0.0.1 (bound to every interface only
where the host change itself is the point).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codette_lab import Lab
from codette_lab.errors import CodetteError, PortInUseError
from codette_lab.widgets.chat_panel import STOPPED_TEXT
from codette_lab.widgets.saving import default_name


def wait_for(condition, timeout: float = 30.0, what: str = "the state waited for") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def lab(free_port: int):
    lab = Lab(port=free_port, request_timeout=20.0, warm_up=False).start()
    yield lab
    Lab.stop(lab)


def _student_names(lab: Lab) -> list[str]:
    return sorted(student.name for student in lab.clients.students())


def test_a_class_moved_to_the_network_comes_back_and_the_followed_student_stays_followed(lab: Lab) -> None:
    panel = lab.panel()
    try:
        lab.simulate_class(students=3, questions=1, analyses=0, seed=3)
        panel.monitor.refresh()
        assert panel.monitor.filter.value == -1 and "<b>3</b> DAW(s) connected" in panel.monitor.summary.value
        panel.monitor.filter.value = "student_2"
        before = set(panel.monitor.lines("student_2"))
        assert before and all(" student_2 " in line for line in before)

        moved = Lab(port=lab.port, host="0.0.0.0", request_timeout=20.0, warm_up=False)  # the lesson's step
        assert moved is lab and lab.host == "0.0.0.0"
        wait_for(
            lambda: (
                _student_names(lab) == ["student_1", "student_2", "student_3"]
                and all(student.connected for student in lab.clients.students())
            ),
            what="the simulated students to reconnect after the restart",
        )
        panel.monitor.refresh()
        assert panel.monitor.filter.value == "student_2"  # still followed, no TraitError
        assert "Lead Vocal" in lab.clients.student("student_2").tracks  # what they had loaded, kept across
        assert "<b>3</b> DAW(s) connected" in panel.monitor.summary.value
        assert "token=" in panel.monitor.summary.value  # the join URL, not ws://0.0.0.0
        assert "0.0.0.0" not in panel.monitor.summary.value
        assert before <= set(panel.monitor.lines("student_2"))  # the earlier connection's lines still show
        reply = next(d for d in lab._daws if d.name == "student_2").chat("Back?")
        assert reply["type"] == "chat_response"
    finally:
        panel.close()


def test_one_student_one_row_and_the_monitor_says_when_the_followed_student_leaves(lab: Lab) -> None:
    panel = lab.panel()
    try:
        lab.simulate_class(students=3, questions=1, analyses=0, seed=1)
        lab.simulate_class(students=3, questions=1, analyses=0, seed=2)  # the same three students again
        wait_for(lambda: lab.active_connections == 3, what="the first class's connections to close")
        panel.monitor.refresh()
        assert _student_names(lab) == ["student_1", "student_2", "student_3"]
        assert "<b>3</b> DAW(s) connected" in panel.monitor.summary.value
        table = panel.monitor.connection_list.value
        assert table.count("<tr>") == 1 + 3 and "student_1 (" not in table  # no track suffix on the name
        assert [label for label, _ in panel.monitor.filter.options] == [
            "all connections",
            "student_1",
            "student_2",
            "student_3",
        ]
        panel.monitor.filter.value = "student_1"
        next(d for d in lab._daws if d.name == "student_1").close()
        wait_for(lambda: _student_names(lab) == ["student_2", "student_3"], what="student_1 to leave")
        panel.monitor.refresh()
        assert panel.monitor.filter.value == "student_1"
        assert "student_1 (left)" in [label for label, _ in panel.monitor.filter.options]
        assert "student_1 has left" in panel.monitor.follow_note.value
        assert "<b>2</b> DAW(s) connected" in panel.monitor.summary.value
    finally:
        panel.close()


def test_a_stopped_labs_panel_says_so_and_follows_the_lab_started_next(free_port: int) -> None:
    lab = Lab(port=free_port, warm_up=False).start()
    panel = lab.panel()
    try:
        assert panel.chat.send("Hello?").result(timeout=30)["type"] == "chat_response"
        lab.stop()
        panel.monitor.refresh()
        assert "the Lab is stopped" in panel.monitor.summary.value and "lab.start()" in panel.monitor.summary.value
        stopped = panel.chat.send("Still there?").result(timeout=30)
        assert stopped == {"type": "error", "message": STOPPED_TEXT}
        assert "ConnectionRefused" not in panel.chat.transcript.value

        again = Lab(port=free_port, warm_up=False)  # the start cell run again: a fresh Lab
        assert again is not lab
        panel.selected_index = 1
        again.start()
        assert panel.lab is again and panel.selected_index == 1
        assert "students join at" in panel.monitor.summary.value
        assert panel.chat.send("And now?").result(timeout=30)["type"] == "chat_response"
        again.stop()
        again.start()  # the same Lab started again: the panel refreshes
        assert "students join at" in panel.monitor.summary.value
    finally:
        panel.close()
        Lab.stop(panel.lab)


def test_a_port_held_elsewhere_is_named_with_a_free_one_in_each_syntax(tmp_path: Path, free_port: int) -> None:
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        holder = subprocess.Popen(
            [sys.executable, "-m", "codette_lab", "serve", "--port", str(free_port)], stderr=output, stdout=output
        )
    try:
        wait_for(lambda: "listening on" in log.read_text(), what="the standalone server to listen")
        with pytest.raises(PortInUseError) as refused:
            Lab(port=free_port, warm_up=False).start()
        text = str(refused.value)
        assert (
            f"Port {free_port} on 127.0.0.1 is already in use by a standalone server, "
            f"codette-lab serve (pid {holder.pid})" in text
        )
        assert "Lab(port=" in text and "is free now" in text and "Lab(port=0)" in text
        cli = subprocess.run(
            [sys.executable, "-m", "codette_lab", "serve", "--port", str(free_port)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert cli.returncode != 0
        assert f"(pid {holder.pid})" in cli.stderr and "--port 0 for any free one" in cli.stderr
        assert "port=0" not in cli.stderr and "is free now" in cli.stderr
    finally:
        holder.terminate()
        holder.wait(timeout=30)


def test_saves_never_replace_a_file_this_lab_did_not_write_without_a_question(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "05_export_and_serve.ipynb"))
    assert default_name("rules.json") == "05_export_and_serve_rules.json"
    panel = lab.panel()
    try:
        assert panel.rules.path.value == "05_export_and_serve_rules.json"
        assert panel.monitor.path.value == "05_export_and_serve_monitor.log"
        assert panel.analysis.report_path.value == "05_export_and_serve_report.html"

        theirs = tmp_path / "tuned_rules.json"
        theirs.write_text('{"an export": "from lesson 01"}')
        with pytest.raises(CodetteError, match="not written by this Lab; pass overwrite=True"):
            panel.rules.export(theirs)
        panel.rules.path.value = str(theirs)
        panel.rules.export_button.click()
        assert panel.rules.question.asking and theirs.read_text() == '{"an export": "from lesson 01"}'
        panel.rules.question.keep_button.click()
        assert not panel.rules.question.asking and theirs.read_text() == '{"an export": "from lesson 01"}'
        panel.rules.export_button.click()
        panel.rules.question.replace_button.click()
        assert '"codette-lab-rules"' in theirs.read_text()
        panel.rules.export(theirs)  # ours now, unchanged: written again without a question

        log = tmp_path / "class.log"
        log.write_text("a teacher's notes")
        with pytest.raises(CodetteError, match="not written by this Lab"):
            panel.monitor.save(log)
        assert panel.monitor.save(log, overwrite=True).read_text() != "a teacher's notes"
        with pytest.raises(CodetteError, match="does not exist"):
            panel.monitor.save(tmp_path / "no such folder" / "class.log")
        assert not (tmp_path / "no such folder").exists()
    finally:
        panel.close()


def test_levels_sent_in_track_data_are_used_and_a_wrong_one_is_named(lab: Lab) -> None:
    daw = lab.simulate_daw(name="levels in the track")
    reply = daw.request(
        {
            "type": "analyze",
            "track_data": {"track_name": "Vox", "track_type": "vocal", "peak_level": -3.0, "rms_level": -20.0},
            "analysis_type": "quality",
        }
    )
    insights = reply["analysis"]["codette_insights"]
    assert "peak -3.0 dBFS, RMS -20.0 dBFS" in insights and "no levels" not in insights
    assert any(problem["rule"] == "headroom" for problem in reply["analysis"]["problems_detected"])
    given_both = daw.request(
        {
            "type": "analyze",
            "track_data": {"track_name": "Vox", "peak_level": -3.0},
            "audio_data": {"peak_level": -12.0, "rms_level": -24.0},
            "analysis_type": "dynamics",
        }
    )
    assert "peak -12.0 dBFS" in given_both["analysis"]["codette_insights"]  # audio_data's levels win
    wrong = daw.request({"type": "analyze", "track_data": {"peak_level": "loud"}, "analysis_type": "quality"})
    assert wrong == {
        "type": "error",
        "message": "Invalid field 'track_data.peak_level' in analyze: expected a number, got string",
        "timestamp": wrong["timestamp"],
    }


def _texts(figure) -> list[str]:
    """Every legend entry and text drawn on a figure."""
    found = []
    for axes in figure.axes:
        found += [text.get_text() for text in axes.texts]
        legend = axes.get_legend()
        if legend is not None:
            found += [text.get_text() for text in legend.get_texts()]
    return found


def test_plots_mark_the_finding_that_fired_and_only_targets_that_were_judged(lab: Lab) -> None:
    panel = lab.panel()
    try:
        panel.analysis.choose("bass.flac", analysis_type="dynamics", track_type="bass")  # peaks at -4 dBFS
        analysis = panel.analysis.run().result(timeout=180)
        assert any("headroom" in finding.rule_id for finding in analysis.problems)
        loudness = _texts(panel.analysis.figures["loudness"])
        assert "headroom mark -6 dBFS (exceeded)" in loudness
        assert not any(text.startswith("target ") for text in loudness)  # a stem: no streaming target drawn
        assert "full scale (0 dBFS)" in _texts(panel.analysis.figures["waveform"])

        panel.analysis.choose("keys.flac", analysis_type="masking", track_type="keys", against="bass.flac")
        masking = panel.analysis.run().result(timeout=180)
        assert masking.problems  # the demo's keys and bass overlap
        marks = _texts(panel.analysis.figures["masking"])
        assert any(mark.startswith("suggested cut") for mark in marks)
        assert any(mark.startswith("buried") or mark.startswith("buries") for mark in marks)

        panel.analysis.choose("vocal.flac", analysis_type="masking", against="bass.flac")
        assert panel.analysis.outcome is None and "Press Analyze" in panel.analysis.report.value  # no stale result
    finally:
        panel.close()


def test_the_saved_report_says_what_it_was_made_from(lab: Lab, tmp_path: Path) -> None:
    lab.rules["vocal.highpass_hz"] = 110
    panel = lab.panel()
    try:
        panel.analysis.choose("vocal.flac", analysis_type="spectrum", track_type="vocal")
        panel.analysis.run().result(timeout=180)
        page = panel.analysis.save(tmp_path / "report.html").read_text()
        assert "Made from" in page and "vocal.flac" in page
        assert lab.rules.snapshot().identity in page and "vocal.highpass_hz = 110" in page
        from codette_lab import __version__

        assert f"<td style='overflow-wrap:anywhere;max-width:100%'>{__version__}</td>" in page
    finally:
        panel.close()


def test_a_file_a_daw_named_is_listed_once(lab: Lab) -> None:
    daw = lab.simulate_daw(name="file sender")
    daw.analyze("Keys", analysis_type="spectrum", send="path")
    panel = lab.panel()
    try:
        labels = [label for label, _ in panel.analysis.source.options]
        assert sum("keys.flac" in label or "Keys" in label for label in labels) == 1
    finally:
        panel.close()


def test_the_saved_log_holds_whole_answers_under_the_students_names(lab: Lab, tmp_path: Path) -> None:
    daw = lab.simulate_daw(name="Ada")
    reply = daw.chat("How should I compress the bass guitar?")
    answer = reply["response"]
    assert len(answer) > 200  # longer than an event's summary
    panel = lab.panel()
    try:
        saved = panel.monitor.save(tmp_path / "class.log").read_text()
    finally:
        panel.close()
    assert saved.startswith("# Codette Lab monitor log, saved ") and "# students: Ada" in saved
    transcript = saved.split("## Transcript: every request and whole answer", 1)[1]
    assert " Ada asked: " in transcript and "How should I compress the bass guitar?" in transcript
    answered = next(line for line in transcript.splitlines() if " Ada answered: " in line and "chat_response" in line)
    assert json.loads(answered.split(" Ada answered: ", 1)[1])["response"] == answer


def test_the_join_code_is_the_join_url_as_a_qr_code_with_the_address_under_it(lab: Lab) -> None:
    import html

    import segno

    shown = lab.join_code()._repr_html_()
    assert html.escape(lab.join_url) in shown
    svg = shown[shown.index("<svg") : shown.index("</svg>") + 6]
    size = segno.make(lab.join_url, error="m").symbol_size(scale=6, border=4)
    assert f'width="{size[0]}" height="{size[1]}"' in svg  # a symbol big enough for this URL, at projector scale
    assert str(lab.join_code()) == lab.join_url
