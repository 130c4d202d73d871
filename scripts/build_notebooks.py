"""Write the lesson notebooks in ``notebooks/`` from the text below (``python scripts/build_notebooks.py``).

The lessons live here as plain Python strings so that they are easy to review
and diff; the ``.ipynb`` files are written without outputs. Each notebook
reads its port from ``CODETTE_PORT`` (default 8000) so the test suite can run
them side by side on free ports.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

START = """\
import os
from codette_lab import Lab

port = int(os.environ.get("CODETTE_PORT", 8000))
lab = Lab(port=port)
lab.start()
lab"""

Cell = tuple[str, str]  # ("md" | "py", source)


def md(text: str) -> Cell:
    return ("md", textwrap.dedent(text).strip())


def py(text: str) -> Cell:
    return ("py", textwrap.dedent(text).strip())


QUICKSTART: list[Cell] = [
    md(
        """
        # Codette Lab: quickstart

        A DAW talks to Codette over a WebSocket (`ws://127.0.0.1:8000/ws`): it asks mixing questions (`chat`)
        and sends tracks for analysis (`analyze`). In this notebook the **server runs inside the kernel**, on
        its own thread, so you can change how it answers *while the DAW stays connected* - no restart, no
        reconnect.

        This lesson: start the server, open the panel, let a simulated DAW chat and analyse, then teach the
        server a new way of answering from a cell.
        """
    ),
    md(
        """
        ## 1. Start the server

        `lab.start()` returns as soon as the port listens. The server keeps answering while later cells
        run, even a cell that computes for minutes. Running this cell again is safe: the server this kernel
        already runs on the port is replaced, and connected DAWs reconnect to the new one.
        """
    ),
    py(START),
    md(
        """
        ## 2. The panel

        Four tabs: **Chat** (ask through the real server, as a DAW would), **Monitor** (connections, the live
        message log, errors with tracebacks), **Analysis** (plots of a stem and what the rules say about it)
        and **Rules** (every tunable threshold, live). Every button is also a method, e.g.
        `panel.chat.send("...")`.
        """
    ),
    py(
        """
        panel = lab.panel()
        panel
        """
    ),
    md(
        """
        ## 3. A DAW connects

        No DAW at hand? `lab.simulate_daw()` connects a client that speaks the protocol exactly like one.
        It carries the demo session in `data/` ("Low Tide": drums, bass, keys and a lead vocal) and sends its
        tracks as the `daw_context` of every chat. Watch the Monitor tab count the connection.
        """
    ),
    py(
        """
        daw = lab.simulate_daw(name="studio DAW")
        print(daw.welcome["message"])
        print("selected track:", daw.selected.track_name)
        """
    ),
    py(
        """
        reply = daw.chat("How should I EQ the lead vocal?")
        print(reply["response"])
        print(f'\\n(perspective {reply["perspective"]}, confidence {reply["confidence"]:.2f})')
        """
    ),
    md(
        """
        The protocol's `analyze` carries only the track's levels (peak, RMS, duration). That is already
        enough for headroom and dynamics advice; with `send="path"` the DAW also names the stem's file and
        the server measures the real audio (spectrum, loudness, true peak, ...).
        """
    ),
    py(
        """
        from_levels = daw.analyze("Drums", analysis_type="dynamics")
        measured = daw.analyze("Lead Vocal", analysis_type="spectrum", send="path")

        for reply in (from_levels, measured):
            analysis = reply["analysis"]
            print(f'{reply["trackId"]} / {analysis["analysis_type"]}: quality {analysis["quality_score"]:.2f}')
            print("  ", analysis["codette_insights"])
            for suggestion in analysis["mixing_suggestions"]:
                print("   -", suggestion)
        """
    ),
    md(
        """
        ## 4. Teach it something, live

        A *perspective* is a function that answers a chat. It receives the question, the DAW's state
        (`context.daw_context`: tracks, selected track with its levels) and this connection's recent turns
        (`context.memory`). Define one and the already-connected DAW can use it on its very next message.
        """
    ),
    py(
        """
        @lab.perspective("vocal_coach")
        def vocal_coach(context):
            track = context.daw_context.selected_track
            name = track.name if track else "your vocal"
            return f"Sing {name} once more before you touch an EQ: the performance is the mix."

        daw.chat("What should I fix first?", perspective="vocal_coach")["response"]
        """
    ),
    md(
        """
        Redefine it and the next answer changes, on the same connection. Returning a dict sets the
        confidence too; `context.builtin_answer()` gives you the built-in engineer's answer to build on.
        """
    ),
    py(
        """
        @lab.perspective("vocal_coach")
        def vocal_coach(context):
            engineer = context.builtin_answer()
            return {"response": "Coach's tip: comp the best takes first. " + engineer.response, "confidence": 0.9}

        reply = daw.chat("How much compression on the vocal?", perspective="vocal_coach")
        print(reply["response"][:300], "...")
        print("confidence:", reply["confidence"])
        """
    ),
    md(
        """
        ## 5. When your code breaks

        A perspective that raises does not take the server down: the DAW gets an `error` reply naming the
        function, every other connection carries on, and the full traceback waits for you in the Monitor tab
        and in `lab.events`.
        """
    ),
    py(
        """
        @lab.perspective("fragile")
        def fragile(context):
            presets = {"vocal": "warm"}
            return presets[context.daw_context.selected_track.kind + "s"]  # oops: "vocals"

        print(daw.chat("Any preset for this?", perspective="fragile")["message"])
        print(daw.ping()["type"], "- the connection is still fine")
        print(lab.events.last_error().traceback)
        """
    ),
    md(
        """
        ## Where next

        - `02_tuning_heuristics.ipynb`: tune the analysis rules against the DAW.
        - `03_new_analysis_type.ipynb`: prototype an analysis type with librosa.
        - `04_mixing_class.ipynb`: one server, a class of student DAWs.
        - `05_export_and_serve.ipynb`: take tuned rules to the standalone server.

        The server stops with the kernel; `lab.stop()` stops it earlier (connections get a 1001 close).
        """
    ),
]


TUNING: list[Cell] = [
    md(
        """
        # Tuning the heuristics live

        Every number behind Codette's analysis advice - how much headroom a track needs, where a vocal's
        high-pass goes, how much low-mid energy counts as mud - is a *parameter* of a rule set, not a
        constant in code. In this lesson a DAW keeps asking about the same stems while we move those
        numbers, and we watch its answers change.
        """
    ),
    py(START),
    py(
        """
        daw = lab.simulate_daw(name="mixing desk")

        def show(reply):
            analysis = reply["analysis"]
            print(f'{analysis["analysis_type"]} of {reply["trackId"]}: quality {analysis["quality_score"]:.2f}')
            for suggestion in analysis["mixing_suggestions"]:
                print("  -", suggestion)

        show(daw.analyze("Lead Vocal", analysis_type="spectrum", send="path"))
        """
    ),
    md(
        """
        ## The parameters

        `lab.rules` holds them, grouped as the Rules tab shows them: `general`, `loudness`, then one group per
        track type. Each has a range; a value outside it is refused with a message that says the range.
        """
    ),
    py(
        """
        for parameter in lab.rules.groups()["vocal"]:
            print(f"{parameter.name:26} {parameter.value:>8g} {parameter.unit:5} {parameter.description[:60]}")
        """
    ),
    md(
        """
        ## Change one, ask again

        The demo vocal carries low rumble. The suggested high-pass frequency comes from
        `vocal.highpass_hz`; raise it and the same request from the same connection gets the new advice.
        """
    ),
    py(
        """
        lab.rules["vocal.highpass_hz"] = 120
        show(daw.analyze("Lead Vocal", analysis_type="spectrum", send="path"))
        """
    ),
    md(
        """
        Thresholds decide *whether* a rule fires and *what* it asks for. The bass peaks at -4 dBFS; with a
        stricter headroom threshold (-12 dBFS instead of -6) the same levels call for a much bigger trim.
        """
    ),
    py(
        """
        show(daw.analyze("Bass", analysis_type="dynamics"))
        lab.rules["general.headroom_peak_dbfs"] = -12
        show(daw.analyze("Bass", analysis_type="dynamics"))
        """
    ),
    py(
        """
        try:
            lab.rules["vocal.highpass_hz"] = 5000
        except Exception as error:
            print(type(error).__name__, "-", error)
        """
    ),
    md(
        """
        ## With sliders

        The Rules tab shows one slider per parameter; moving one sets `lab.rules`, and setting `lab.rules`
        from code moves the slider. `panel.rules.set(...)` does what dragging the slider does.
        """
    ),
    py(
        """
        panel = lab.panel()
        panel.selected_index = 3  # the Rules tab
        panel
        """
    ),
    py(
        """
        panel.rules.set("vocal.highpass_hz", 100)
        print("rules say:", lab.rules["vocal.highpass_hz"])
        lab.rules["vocal.comp_ratio"] = 3
        print("slider says:", panel.rules.sliders["vocal.comp_ratio"].value)
        print("changed from the defaults:", lab.rules.changed())
        """
    ),
    md(
        """
        ## Back to the defaults

        `lab.rules.reset()` (or the panel's *Reset* button) restores every default; `reset(name)` just one.
        When a tuning is worth keeping, export it (lesson 05).
        """
    ),
    py(
        """
        panel.rules.reset()
        print("changed from the defaults:", lab.rules.changed())
        show(daw.analyze("Lead Vocal", analysis_type="spectrum", send="path"))
        """
    ),
]


NEW_ANALYSIS: list[Cell] = [
    md(
        """
        # Prototyping a new analysis type

        The built-in analysis types (`spectrum`, `dynamics`, `loudness`, `stereo`, `transients`, `masking`,
        `quality`) are registered functions like any you write. In this lesson we prototype a **rhythm**
        analysis with librosa on the demo drums, then register it so that a connected DAW can ask for
        `analysis_type: "rhythm"` straight away.
        """
    ),
    py(START),
    md(
        """
        ## Explore first, on plain arrays

        The demo session's stems are FLAC files in `data/`; the DAW simulator's `Session` knows where they
        are and reads them as librosa does: float32, shaped `(channels, n)`. librosa's onset detector finds
        the hits, its beat tracker the tempo.
        """
    ),
    py(
        """
        import librosa
        import numpy as np
        from codette_lab.daw import Session

        session = Session.load()
        y, sr = session.track("Drums").audio()  # float32, (channels, n) like librosa's own arrays
        mono = librosa.to_mono(y)

        onsets = librosa.onset.onset_detect(y=mono, sr=sr, units="time")
        tempo, _ = librosa.beat.beat_track(y=mono, sr=sr)
        print(f"session tempo {session.tempo} BPM, librosa hears {float(np.atleast_1d(tempo)[0]):.1f} BPM")
        print(f"{len(onsets)} onsets in {len(mono) / sr:.1f} s")
        """
    ),
    md(
        """
        Hits that drift from a steady grid make a groove feel loose. A simple measure: how far each onset
        lands from the nearest sixteenth note of the tracked beats, in milliseconds.
        """
    ),
    py(
        """
        def rhythm_metrics(mono, sr):
            onsets = librosa.onset.onset_detect(y=mono, sr=sr, units="time")
            tempo, beats = librosa.beat.beat_track(y=mono, sr=sr, units="time")
            tempo = float(np.atleast_1d(tempo)[0])
            metrics = {
                "tempo_bpm": round(tempo, 1) if tempo > 0 else None,
                "onsets_per_second": round(len(onsets) / (len(mono) / sr), 2),
                "timing_spread_ms": None,
            }
            hits = onsets[(onsets >= beats[0]) & (onsets <= beats[-1])] if len(beats) >= 2 else onsets[:0]
            if len(hits) >= 4:
                # a sixteenth-note grid that follows the tracked beats, so a slightly-off tempo does not add up
                grid = np.interp(np.arange(0, len(beats) - 0.75, 0.25), np.arange(len(beats)), beats)
                nearest = grid[np.abs(hits[:, None] - grid[None, :]).argmin(axis=1)]
                metrics["timing_spread_ms"] = round(float(np.std(hits - nearest) * 1000), 1)
            return metrics

        rhythm_metrics(mono, sr)
        """
    ),
    md(
        """
        ## Register it

        An analysis function receives the request: `request.track` (what the DAW said about the track),
        `request.levels` (peak/RMS/duration), and - when the DAW sent audio - `request.samples` (a float32
        array shaped `(channels, n)`, whatever the DAW's channel count) and `request.sample_rate`. It returns
        a dict with any of `insights`, `suggestions`, `quality_score` and `metrics` (or an `Analysis`). Once
        defined, it is an `analysis_type` every connected DAW can use.
        """
    ),
    py(
        """
        @lab.analysis("rhythm")
        def rhythm(request):
            if request.samples is None:
                return {"insights": "Send the audio (samples or a file path) to analyse the rhythm."}
            metrics = rhythm_metrics(librosa.to_mono(request.samples), request.sample_rate)
            spread = metrics["timing_spread_ms"]
            suggestions = []
            if spread is not None and spread > 15:
                suggestions.append(f"Hits drift by about {spread:.0f} ms: quantise at 50-70% strength.")
            if metrics["onsets_per_second"] > 8:
                suggestions.append("Very busy part: thin out ghost notes or lower the hats so the groove breathes.")
            return {
                "insights": f"{request.track.track_name}: about {metrics['tempo_bpm']} BPM, "
                f"{metrics['onsets_per_second']} hits per second.",
                "suggestions": suggestions or ["Timing is tight: leave it."],
                "quality_score": 1.0 if spread is None else max(0.0, 1.0 - spread / 50),
                "metrics": metrics,
            }

        sorted(lab.analysis_types())
        """
    ),
    md(
        """
        ## A DAW asks for it

        The simulated DAW sends the first ten seconds of the drum stem as samples (base64 float32, as the
        protocol extension describes), asking for the new type.
        """
    ),
    py(
        """
        daw = lab.simulate_daw(name="beat maker")
        reply = daw.analyze("Drums", analysis_type="rhythm", send="samples", seconds=10)
        analysis = reply["analysis"]
        print(analysis["codette_insights"])
        print(analysis["mixing_suggestions"])
        analysis["metrics"]
        """
    ),
    md(
        """
        Bugs surface where you can fix them: if the function raises, the DAW gets an error naming it and
        the traceback is in `lab.events` (and the Monitor tab). Fix the cell, run it again, and the next
        request uses the fix.
        """
    ),
    py(
        """
        @lab.analysis("rhythm")
        def rhythm(request):
            frames = request.samples.shape[2]  # a deliberate bug: samples are (channels, n)
            return {"metrics": {"frames": frames}}

        print(daw.analyze("Drums", analysis_type="rhythm", send="samples", seconds=2)["message"])
        print(lab.events.last_error().traceback.splitlines()[-1])
        """
    ),
    md(
        """
        ## The Analysis tab

        The Analysis tab plots a stem (spectrum with the named bands, loudness over time, waveform) next to
        what an analysis type says about it - yours included. `run()` is its *Analyse* button.
        """
    ),
    py(
        """
        lab.remove_analysis("rhythm")
        panel = lab.panel()
        panel.selected_index = 2
        panel.analysis.choose("drums.flac", analysis_type="transients", track_type="drums")
        panel.analysis.run()
        panel
        """
    ),
]


MIXING_CLASS: list[Cell] = [
    md(
        """
        # Running a mixing class

        One teacher, one server, many students: every student's DAW connects to the Lab the teacher runs in
        this notebook. The teacher watches the traffic in the Monitor tab and can change how Codette answers
        the whole class at once.

        Here the students are simulated: `lab.simulate_class(...)` connects several DAWs at the same time, each
        in its own thread; each asks a couple of questions about the demo session and analyses a stem.
        """
    ),
    py(START),
    md(
        """
        ## The teacher's monitor

        The Monitor tab lists open connections and logs every message; it refreshes itself as traffic arrives.
        """
    ),
    py(
        """
        panel = lab.panel()
        panel.selected_index = 1  # Monitor
        panel
        """
    ),
    md(
        """
        ## First lesson: the built-in engineer answers

        Six students, two questions and one analysis each, drawn at random but repeatably (`seed`).
        """
    ),
    py(
        """
        import collections

        def summary(results):
            for student in results:
                answers = [r for r in student.replies if r["type"] == "chat_response"]
                print(f"{student.name:10} {len(student.replies)} replies, {len(student.errors)} errors, "
                      f"first answer: {answers[0]['response'][:70] if answers else '-'}...")

        results = lab.simulate_class(students=6, questions=2, analyses=1, seed=1)
        summary(results)
        """
    ),
    md(
        """
        ## A class perspective

        Today's lesson is about gain staging, so the teacher wants every answer to start from it. Students'
        DAWs ask with the default perspective (`mix_engineering`); redefining that name replaces it for the
        whole class, live. `lab.remove_perspective(...)` later brings the built-in one back.
        """
    ),
    py(
        """
        @lab.perspective("mix_engineering")
        def class_engineer(context):
            engineer = context.builtin_answer("mix_engineering")
            return {
                "response": "Today's focus - gain staging: set every track to about -18 dBFS RMS before you "
                "touch an EQ. " + engineer.response,
                "confidence": engineer.confidence,
            }

        results = lab.simulate_class(students=6, questions=2, analyses=1, seed=2)
        summary(results)
        """
    ),
    md(
        """
        ## What happened

        `lab.events` keeps the recent server events (connects, messages, replies, errors); the Monitor shows
        the same. Count them by kind, and check that no student got an error.
        """
    ),
    py(
        """
        panel.monitor.refresh()
        print(collections.Counter(event.kind for event in lab.events))
        print("errors:", [event.detail for event in lab.events.errors()])
        print("still connected:", lab.active_connections)
        """
    ),
    py(
        """
        lab.remove_perspective("mix_engineering")
        print(lab.chat("How much headroom should I leave on each track?").response[:300])
        """
    ),
]


EXPORT_AND_SERVE: list[Cell] = [
    md(
        """
        # From the notebook to the standalone server

        Tuning in a notebook is for finding good numbers; a studio or a classroom runs the **standalone
        server** (`codette-lab serve`). This lesson exports tuned rules to a file, starts the standalone
        server with `--rules` on another port, and checks that it answers exactly like the Lab.
        """
    ),
    py(START),
    md(
        """
        ## Tune and export

        `lab.rules.export(path)` writes every parameter and rule to one JSON file (atomically: a crash never
        leaves half a file). The Rules tab's *Export* button does the same.
        """
    ),
    py(
        """
        from pathlib import Path

        lab.rules["vocal.highpass_hz"] = 110
        lab.rules["general.headroom_peak_dbfs"] = -8
        lab.rules["keys.mud_cut_hz"] = 280

        panel = lab.panel()
        panel.selected_index = 3
        rules_file = panel.rules.export(Path("tuned_rules.json"))
        print("exported", rules_file.resolve(), f"({rules_file.stat().st_size} bytes)")
        print("tuned:", lab.rules.changed())
        panel
        """
    ),
    md(
        """
        ## Start the standalone server with them

        The same command a studio would run, here as a subprocess on a second port.
        It answers `/health` as soon as it listens.

        A subprocess outlives the cell that started it: if the kernel restarted before the last cell, it
        would keep holding its port. `atexit.register(server.terminate)` asks Python to stop it whenever
        this kernel exits (a restart included), and re-running the cell first stops the one it started
        before, so the port is always ours to take.
        """
    ),
    py(
        """
        import atexit
        import json
        import subprocess
        import sys
        import time
        import urllib.request

        serve_port = int(os.environ.get("CODETTE_SERVE_PORT", port + 1))
        if isinstance(globals().get("server"), subprocess.Popen) and server.poll() is None:  # the cell ran before
            server.terminate()
            server.wait(timeout=10)
        server = subprocess.Popen(
            [sys.executable, "-m", "codette_lab", "serve", "--port", str(serve_port), "--rules", str(rules_file),
             "--log-level", "warning"],
        )
        atexit.register(server.terminate)  # stopped with the kernel, even if the last cell never runs

        def health(port):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                return json.load(response)

        deadline = time.monotonic() + 30
        while True:
            try:
                print(health(serve_port))
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the standalone server did not start")
                time.sleep(0.1)
        """
    ),
    md(
        """
        ## Same questions, same answers

        One DAW on each server asks the same things. Replies carry a timestamp, so compare everything else.
        """
    ),
    py(
        """
        from codette_lab.daw import SimulatedDAW

        def without_timestamp(reply):
            return {key: value for key, value in reply.items() if key != "timestamp"}

        in_lab = lab.simulate_daw(name="lab DAW")
        standalone = SimulatedDAW(f"ws://127.0.0.1:{serve_port}/ws", name="standalone DAW")
        standalone.connect()

        questions = [
            lambda daw: daw.analyze("Lead Vocal", analysis_type="spectrum", send="path"),
            lambda daw: daw.analyze("Keys", analysis_type="quality", send="path"),
            lambda daw: daw.analyze("Drums", analysis_type="dynamics"),
            lambda daw: daw.chat("How should I compress the bass?"),
        ]
        for ask in questions:
            a, b = ask(in_lab), ask(standalone)
            same = without_timestamp(a) == without_timestamp(b)
            print(f"{a['type']:18} identical: {same}")
            assert same
        """
    ),
    md(
        """
        ## Stop it

        SIGTERM stops the standalone server cleanly: connections get a 1001 close and the port is freed.
        Stopping it here does not wait for the kernel to exit; the `atexit` hook then finds it already
        stopped and does nothing.
        """
    ),
    py(
        """
        standalone.close()
        server.terminate()
        print("exit code", server.wait(timeout=10))
        try:
            health(serve_port)
        except OSError:
            print("port", serve_port, "is free again")
        """
    ),
]


LESSONS: dict[str, list[Cell]] = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_tuning_heuristics.ipynb": TUNING,
    "03_new_analysis_type.ipynb": NEW_ANALYSIS,
    "04_mixing_class.ipynb": MIXING_CLASS,
    "05_export_and_serve.ipynb": EXPORT_AND_SERVE,
}


def build(cells: list[Cell]) -> nbformat.NotebookNode:
    notebook = new_notebook(
        cells=[new_markdown_cell(text) if kind == "md" else new_code_cell(text) for kind, text in cells],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:02d}"
    return notebook


def main() -> int:
    NOTEBOOKS.mkdir(exist_ok=True)
    for name, cells in LESSONS.items():
        nbformat.validate(notebook := build(cells))
        nbformat.write(notebook, NOTEBOOKS / name)
        print("wrote", NOTEBOOKS / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
