"""The Analysis tab: plot a stem and show what an analysis type (built-in or yours) says about it.

The audio comes from a file under the Lab's audio roots (the demo session's
folder by default) or from one of the last analyze requests a DAW sent with
audio. :meth:`AnalysisPanel.run` (the *Analyze* button) analyzes it with the
Lab's live rules and analysis types on a thread of its own (see
:class:`~.activity.Activity`): the button shows it is busy, the old result is
cleared, and a notebook analysis type is held to the time limit a DAW's
request of it would be. The figures are drawn on that thread too, each on its
own Agg canvas (no pyplot state is shared); only the widgets are updated on
the kernel's main thread. ``masking`` compares with a second source, picked
in *Against*. :meth:`AnalysisPanel.save` writes the result as an HTML report.
"""

from __future__ import annotations

import html
from concurrent.futures import Future
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..audio_input import AUDIO_SUFFIXES
from ..errors import CodetteError, UserCodeError
from ..server import ServerEvent
from ..tracktypes import GENERIC, TRACK_TYPES, canonical_track_type
from .activity import Activity, within
from .analysis_report import WRAP, report_html, save_report
from .listen import ListenBox
from .mainthread import Coalescer, MainThread
from .saving import OverwriteQuestion, default_name, save_clicked

if TYPE_CHECKING:
    import numpy as np

    from ..analysis_types import AnalysisResult
    from .interface import LabLike, ReceivedAudioLike

#: How many files at most are listed (a big audio root should not flood the dropdown).
FILE_LIMIT = 200

#: The analysis type that compares two tracks, and so needs the *Against* picker.
TWO_TRACK_TYPE = "masking"

#: Where :meth:`AnalysisPanel.save` writes when the path box is left as it is (a name of the notebook's own).
DEFAULT_REPORT_NAME = "report.html"


@dataclass(frozen=True)
class Source:
    """Something to analyze: a file, or a DAW's recent request. ``label`` is what the dropdown shows."""

    label: str
    track_name: str
    track_type: str
    path: Path | None = None
    recent: ReceivedAudioLike | None = None


@dataclass(frozen=True)
class Outcome:
    """One finished analysis: the result, the audio it was made from, its figures and their PNG renderings."""

    source: Source
    analysis: AnalysisResult
    samples: Any
    sample_rate: int
    track_type: str
    #: What else the analysis was given (``other`` samples for masking), to run it again the same way.
    options: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    pngs: dict[str, bytes] = field(default_factory=dict)
    #: The second source a masking analysis compared with.
    other: Source | None = None


class AnalysisPanel(widgets.VBox):
    """Source, analysis type and track type pickers; :meth:`run` analyzes and plots into an Output."""

    def __init__(self, lab: LabLike, *, main: MainThread | None = None) -> None:
        self.lab = lab
        self.main = main or MainThread()
        wide = widgets.Layout(width="100%", max_width="560px")
        self.source = widgets.Dropdown(description="Audio", layout=wide)
        self.other = widgets.Dropdown(description="Against", layout=widgets.Layout(width="100%", max_width="560px"))
        self.analysis_type = widgets.Dropdown(description="Analysis")
        self.track_type = widgets.Dropdown(description="Track type", options=TRACK_TYPES, value=GENERIC)
        self.run_button = widgets.Button(description="Analyze", button_style="primary", icon="line-chart")
        self.refresh_button = widgets.Button(description="Refresh lists", icon="refresh")
        self.activity = Activity(self.main, buttons=[self.run_button, self.refresh_button])
        self.report_path = widgets.Text(value=default_name(DEFAULT_REPORT_NAME), description="Report to")
        self.question = OverwriteQuestion()
        self.save_button = widgets.Button(description="Save report", icon="save", disabled=True)
        self.status = widgets.HTML()
        self.plots = widgets.Output(layout=widgets.Layout(width="100%"))
        self.report = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.listen = ListenBox()
        #: The last analysis, its figures (matplotlib Figures by name) and the audio behind them, for code.
        self.result: AnalysisResult | None = None
        self.figures: dict[str, Any] = {}
        self.outcome: Outcome | None = None
        self._refreshing = False
        self.run_button.add_class("codette-analysis-run")
        self.source.observe(self._on_source, names="value")
        self.analysis_type.observe(self._on_analysis_type, names="value")
        self.track_type.observe(self._selection_changed, names="value")
        self.run_button.on_click(lambda _: self.run())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.save_button.on_click(
            lambda _: save_clicked(
                self.question,
                self.report_path.value,
                lambda overwrite: self.save(overwrite=overwrite),
                lambda text: self._say(text, error=True),
            )
        )
        lab.add_definition_listener(self._on_definition)
        self._follow_daws = Coalescer(self.main, self.refresh)
        lab.events.subscribe(self._on_event)
        self.refresh()
        wrap = widgets.Layout(flex_flow="row wrap")
        super().__init__(
            [
                widgets.HBox([self.source, self.refresh_button]),
                self.other,
                widgets.HBox([self.analysis_type, self.track_type, self.run_button], layout=wrap),
                self.activity.indicator,
                self.report,
                self.listen,
                self.plots,
                widgets.HBox([self.report_path, self.save_button, self.status], layout=wrap),
                self.question,
            ],
            layout=widgets.Layout(overflow="hidden"),
        )

    # -- what can be chosen ---------------------------------------------------------------

    def sources(self) -> list[Source]:
        """The DAW's recent requests with audio (newest first), then the audio files under the roots; one per label."""
        recent = [
            Source(
                label=f"DAW {item.label}",
                track_name=item.request.track.track_name or str(item.request.track.track_id or "DAW audio"),
                track_type=canonical_track_type(
                    item.request.track.track_type, track_name=item.request.track.track_name
                ),
                recent=item,
            )
            for item in self.lab.recent_audio()
            if item.request.audio.file_path is None  # a file a DAW named is listed once, as the file
        ]
        files = [
            Source(
                label=label,
                track_name=path.stem,
                track_type=canonical_track_type(None, track_name=path.stem),
                path=path,
            )
            for label, path in self._audio_files()
        ]
        unique: dict[str, Source] = {}
        for source in recent + files:
            unique.setdefault(source.label, source)
        return list(unique.values())

    def _audio_files(self) -> list[tuple[str, Path]]:
        """(label, path) of the audio files under the roots, each file once; labels are relative to their root."""
        roots = self.lab.audio_roots.roots
        found: dict[Path, str] = {}
        for root in roots:
            prefix = f"{root.name}/" if len(roots) > 1 else ""
            for path in sorted(root.rglob("*")):
                if path.suffix.lower() in AUDIO_SUFFIXES:
                    found.setdefault(path.resolve(), prefix + str(path.relative_to(root)))
        return [(label, path) for path, label in found.items()][:FILE_LIMIT]

    def refresh(self) -> None:
        """Re-read the sources (new DAW requests, new files) and the analysis types, keeping the choices."""
        self._refreshing = True  # the lists pass through other values: not the user's choice
        try:
            self._relist()
        finally:
            self._refreshing = False
        self._selection_changed()

    def _relist(self) -> None:
        current_source, current_other, current_track_type = self.source.value, self.other.value, self.track_type.value
        options = [(source.label, source) for source in self.sources()]
        labels = {source.label: source for _, source in options}
        self.source.options = options
        self.other.options = options
        if current_source is not None and current_source.label in labels:
            self.source.value = labels[current_source.label]
            self.track_type.value = current_track_type  # keep what the user picked for this source
        elif options:
            self.source.value = options[0][1]
        if current_other is not None and current_other.label in labels:
            self.other.value = labels[current_other.label]
        elif len(options) > 1:
            self.other.value = options[1][1]
        names = self.lab.analysis_types()
        current_type = self.analysis_type.value
        self.analysis_type.options = names
        self.analysis_type.value = (
            current_type if current_type in names else ("quality" if "quality" in names else names[0])
        )
        self._on_analysis_type()

    def choose(
        self,
        source: str,
        *,
        analysis_type: str | None = None,
        track_type: str | None = None,
        against: str | None = None,
    ) -> Source:
        """Pick a source whose label ends with ``source`` (e.g. ``"vocal.flac"``), optionally the types
        and, for masking, the source to compare ``against``."""
        self.refresh()
        chosen = self._match(source)
        self.source.value = chosen
        if analysis_type is not None:
            self.analysis_type.value = self.lab.resolve_analysis_type(analysis_type)
        if track_type is not None:
            self.track_type.value = canonical_track_type(track_type)
        if against is not None:
            self.other.value = self._match(against)
        return chosen

    def _match(self, ending: str) -> Source:
        matches = [value for label, value in self.source.options if label.endswith(ending)]
        if not matches:
            available = ", ".join(label for label, _ in self.source.options)
            raise CodetteError(f"No audio source matching '{ending}' (available: {available})")
        return matches[0]

    def _on_source(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.track_type.value = change["new"].track_type
        self._selection_changed()

    def _on_analysis_type(self, change: dict[str, Any] | None = None) -> None:
        """Show *Against* only for the analysis type that compares two tracks."""
        self.other.layout.display = "" if self.analysis_type.value == TWO_TRACK_TYPE else "none"
        if change is not None:
            self._selection_changed()

    def _selection_changed(self, change: dict[str, Any] | None = None) -> None:
        """A new source or type was picked: the result shown is not about it any more, so it goes."""
        outcome = self.outcome
        if outcome is None or self.activity.busy or self._refreshing:
            return
        same = (
            outcome.source == self.source.value
            and outcome.analysis.analysis_type == self.analysis_type.value
            and outcome.track_type == self.track_type.value
        )
        if not same:
            self._clear()
            self.report.value = "<i>Press Analyze for the new choice.</i>"

    def _on_event(self, event: ServerEvent) -> None:
        """On the server thread: a DAW's analysis may have brought new audio to list (refresh on the main thread)."""
        if event.kind == "reply" and event.message_type == "analysis_response":
            self._follow_daws.request()

    def _on_definition(self, kind: str, name: str) -> None:
        """A perspective or analysis type was defined or removed: re-read the lists (they keep the choices)."""
        self.main.run(self.refresh)

    # -- the Analyze button -----------------------------------------------------------------

    def run(self) -> Future[AnalysisResult | None]:
        """Analyze the chosen audio off the main thread, then draw its figures and list what it found.

        The previous result is cleared at once; the future resolves with the
        AnalysisResult (None after a failure, which the tab shows) once the tab
        shows it. A notebook analysis type is held to ``lab.time_limit(...)``.
        """
        source, kind = self.source.value, self.analysis_type.value
        other = self.other.value if kind == TWO_TRACK_TYPE else None
        track_type = self.track_type.value
        self._clear()
        if source is None:
            self._report_error("Nothing to analyze: no audio files under the audio roots and no DAW audio yet.")
            done: Future[AnalysisResult | None] = Future()
            done.set_result(None)
            return done

        def work() -> Outcome:
            return self._analyze(source, kind, track_type, other)

        def show(outcome: Outcome) -> None:
            self.outcome, self.result, self.figures = outcome, outcome.analysis, outcome.figures
            self.report.value = report_html(outcome.analysis, source.track_name)
            self.plots.outputs = tuple(_png_output(name, png) for name, png in outcome.pngs.items())
            self.listen.show(outcome.samples, outcome.sample_rate, outcome.analysis, self.lab.rules.snapshot())
            self.save_button.disabled = False

        def fail(error: CodetteError) -> None:
            self._report_error(str(error), traceback=error.traceback if isinstance(error, UserCodeError) else "")

        future = self.activity.start(
            f"Analyzing {source.track_name} ({kind})", work, show, fail, limit=self.lab.time_limit(kind)
        )
        result: Future[AnalysisResult | None] = Future()
        future.add_done_callback(lambda done: _pass_on(done, result))
        return result

    def _analyze(self, source: Source, kind: str, track_type: str, other: Source | None) -> Outcome:
        """On the action's thread: load, analyze, draw and render (no widget is touched here)."""
        from .figures import draw_figures
        from .plots import png_bytes

        samples, sample_rate = self._load(source)
        options: dict[str, Any] = {}
        if other is not None:
            options["other"], _ = self._load(other)
            options.update(other_track_name=other.track_name, other_track_type=other.track_type)

        analysis = within(
            self.lab.time_limit(kind),
            f"Notebook analysis type '{kind}' (held to the time limit of a DAW's request)",
            lambda: self.lab.analyze(
                samples, sample_rate, kind=kind, track_type=track_type, track_name=source.track_name, **options
            ),
        )
        figures = draw_figures(
            samples,
            sample_rate,
            analysis,
            rules=self.lab.rules.snapshot(),
            title=source.track_name,
            own_figure=self.lab.figure_function(kind),
            other=options.get("other"),
            other_title=other.track_name if other is not None else "",
        )
        pngs = {name: png_bytes(figure) for name, figure in figures.items()}
        return Outcome(source, analysis, samples, sample_rate, track_type, options, figures, pngs, other)

    def save(self, path: str | PathLike[str] | None = None, *, overwrite: bool = False) -> Path:
        """Save the last analysis (text, metrics, suggestions, figures) as one HTML file; returns its path.

        A file there that this Lab did not write is replaced only with ``overwrite=True`` (the button asks).
        """
        outcome = self.outcome
        if outcome is None:
            raise CodetteError("Nothing to save yet: run an analysis first")
        chosen = path if path is not None else self.report_path.value
        target = save_report(
            chosen,
            outcome.analysis,
            outcome.source.track_name,
            outcome.pngs,
            overwrite=overwrite,
            provenance=self._provenance(outcome),
        )
        self._say(f"Saved to <code>{html.escape(str(target.resolve()))}</code>")
        return target

    def _provenance(self, outcome: Outcome) -> dict[str, str]:
        """What a kept report says it was made from: the source(s), the rules in force, the version."""
        from .. import __version__

        def where(source: Source) -> str:
            if source.path is not None:
                return str(source.path)
            return f"{source.label} (audio a DAW sent)"

        sources = where(outcome.source)
        if outcome.other is not None:
            sources += f"; against {where(outcome.other)}"
        snapshot = self.lab.rules.snapshot()
        changed = self.lab.rules.changed()
        changes = ", ".join(f"{name} = {value:g}" for name, value in sorted(changed.items())) or "none"
        return {
            "Audio": sources,
            "Analysis type": outcome.analysis.analysis_type,
            "Track type": outcome.track_type,
            "Rules": f"{self.lab.rules.source} (identity {snapshot.identity}); changed from the defaults: {changes}",
            "codette_lab": __version__,
        }

    def close(self) -> None:
        self.lab.events.unsubscribe(self._on_event)
        self.lab.remove_definition_listener(self._on_definition)
        super().close()

    def _load(self, source: Source) -> tuple[np.ndarray, int]:
        from ..audio_input import load_audio
        from ..protocol import AudioData

        if source.recent is not None:
            loaded = source.recent.audio(self.lab.audio_roots)
        else:
            loaded = load_audio(AudioData(file_path=str(source.path)), roots=self.lab.audio_roots)
        if loaded is None:
            raise CodetteError(f"Audio source '{source.label}': expected samples or a file path, it has neither")
        return loaded

    def _clear(self) -> None:
        """Forget the shown result: a new run starts."""
        self.result, self.outcome, self.figures = None, None, {}
        self.plots.outputs = ()
        self.listen.clear()
        self.report.value = ""
        self.status.value = ""
        self.save_button.disabled = True

    def _report_error(self, text: str, *, traceback: str = "") -> None:
        self._clear()
        shown = html.escape(traceback)
        details = f"<pre style='font-size:11px;white-space:pre-wrap'>{shown}</pre>" if traceback else ""
        self.report.value = f"<div style='color:#a00;{WRAP}'>{html.escape(text)}</div>{details}"

    def _say(self, text: str, *, error: bool = False) -> None:
        colour = "#a00" if error else "#080"
        self.status.value = f"<span style='color:{colour};{WRAP}'>{text}</span>"


def _pass_on(done: Future[Any], result: Future[AnalysisResult | None]) -> None:
    """Resolve ``result`` with the analysis of ``done``'s Outcome (None after a failure)."""
    error = done.exception()
    if error is not None:
        result.set_exception(error)
        return
    outcome = done.result()
    result.set_result(outcome.analysis if outcome is not None else None)


def _png_output(name: str, png: bytes) -> dict[str, Any]:
    """A ``display_data`` output holding a PNG, for an Output widget's ``outputs``."""
    import base64

    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": f"<{name} figure>"},
        "metadata": {},
    }
