"""The Analysis tab: plot a stem and show what an analysis type (built-in or yours) says about it.

The audio comes from a file under the Lab's audio roots (the demo session's
folder by default) or from one of the last analyze requests a DAW sent with
audio. :meth:`AnalysisPanel.run` (the *Analyse* button) analyses it with the
Lab's live rules and analysis types, and draws the spectrum (named bands
shaded), loudness over time and the waveform on the kernel's main thread.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..errors import CodetteError, UserCodeError
from ..server import ServerEvent
from ..tracktypes import GENERIC, TRACK_TYPES, canonical_track_type
from .mainthread import Coalescer, MainThread

if TYPE_CHECKING:
    import numpy as np

    from ..analysis_types import AnalysisResult
    from ..lab import ReceivedAudio
    from .interface import LabLike

#: Audio files the panel lists from the audio roots.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif")

#: How many files at most are listed (a big audio root should not flood the dropdown).
FILE_LIMIT = 200


@dataclass(frozen=True)
class Source:
    """Something to analyse: a file, or a DAW's recent request. ``label`` is what the dropdown shows."""

    label: str
    track_name: str
    track_type: str
    path: Path | None = None
    recent: ReceivedAudio | None = None


class AnalysisPanel(widgets.VBox):
    """Source, analysis type and track type pickers; :meth:`run` analyses and plots into an Output."""

    def __init__(self, lab: LabLike, *, main: MainThread | None = None) -> None:
        self.lab = lab
        self.main = main or MainThread()
        self.source = widgets.Dropdown(description="Audio", layout=widgets.Layout(width="480px"))
        self.analysis_type = widgets.Dropdown(description="Analysis")
        self.track_type = widgets.Dropdown(description="Track type", options=TRACK_TYPES, value=GENERIC)
        self.run_button = widgets.Button(description="Analyse", button_style="primary", icon="line-chart")
        self.refresh_button = widgets.Button(description="Refresh lists", icon="refresh")
        self.plots = widgets.Output(layout=widgets.Layout(width="100%"))
        self.report = widgets.HTML()
        #: The last analysis and its figures (matplotlib Figures by name), for code to inspect.
        self.result: AnalysisResult | None = None
        self.figures: dict[str, Any] = {}
        self.source.observe(self._on_source, names="value")
        self.run_button.on_click(lambda _: self.run())
        self.refresh_button.on_click(lambda _: self.refresh())
        lab.add_definition_listener(self._on_definition)
        self._follow_daws = Coalescer(self.main, self.refresh)
        lab.events.subscribe(self._on_event)
        self.refresh()
        super().__init__(
            [
                widgets.HBox([self.source, self.refresh_button]),
                widgets.HBox([self.analysis_type, self.track_type, self.run_button]),
                self.report,
                self.plots,
            ]
        )

    # -- what can be chosen ---------------------------------------------------------------

    def sources(self) -> list[Source]:
        """The DAW's recent requests with audio (newest first), then the audio files under the roots."""
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
        return recent + files

    def _audio_files(self) -> list[tuple[str, Path]]:
        """(label, path) of the audio files under the roots; labels are relative to their root."""
        roots = self.lab.audio_roots.roots
        found: list[tuple[str, Path]] = []
        for root in roots:
            prefix = f"{root.name}/" if len(roots) > 1 else ""
            found.extend(
                (prefix + str(path.relative_to(root)), path)
                for path in sorted(root.rglob("*"))
                if path.suffix.lower() in AUDIO_SUFFIXES
            )
        return found[:FILE_LIMIT]

    def refresh(self) -> None:
        """Re-read the sources (new DAW requests, new files) and the analysis types, keeping the choices."""
        current_source, current_track_type = self.source.value, self.track_type.value
        options = [(source.label, source) for source in self.sources()]
        self.source.options = options
        labels = {source.label: source for _, source in options}
        if current_source is not None and current_source.label in labels:
            self.source.value = labels[current_source.label]
            self.track_type.value = current_track_type  # keep what the user picked for this source
        elif options:
            self.source.value = options[0][1]
        names = self.lab.analysis_types()
        current_type = self.analysis_type.value
        self.analysis_type.options = names
        self.analysis_type.value = (
            current_type if current_type in names else ("quality" if "quality" in names else names[0])
        )

    def choose(self, source: str, *, analysis_type: str | None = None, track_type: str | None = None) -> Source:
        """Pick a source whose label ends with ``source`` (e.g. ``"vocal.flac"``), and optionally the types."""
        self.refresh()
        matches = [value for label, value in self.source.options if label.endswith(source)]
        if not matches:
            available = ", ".join(label for label, _ in self.source.options)
            raise CodetteError(f"No audio source matching '{source}' (available: {available})")
        self.source.value = matches[0]
        if analysis_type is not None:
            self.analysis_type.value = self.lab.resolve_analysis_type(analysis_type)
        if track_type is not None:
            self.track_type.value = canonical_track_type(track_type)
        return matches[0]

    def _on_source(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.track_type.value = change["new"].track_type

    def _on_event(self, event: ServerEvent) -> None:
        """On the server thread: a DAW's analysis may have brought new audio to list (refresh on the main thread)."""
        if event.kind == "reply" and event.message_type == "analysis_response":
            self._follow_daws.request()

    def _on_definition(self, kind: str, name: str) -> None:
        """A perspective or analysis type was defined or removed: re-read the lists (they keep the choices)."""
        self.main.run(self.refresh)

    # -- the Analyse button -----------------------------------------------------------------

    def run(self) -> AnalysisResult | None:
        """Analyse the chosen audio, draw its figures and list the suggestions; returns the AnalysisResult.

        Off the main thread (a widget callback on a comm subshell), the work is
        handed to the main thread and None is returned; the panel shows the result.
        """
        if not self.main.is_current() and self.main.call_soon(self.run):
            return None
        source = self.source.value
        if source is None:
            self._report_error("Nothing to analyse: no audio files under the audio roots and no DAW audio yet.")
            return None
        try:
            samples, sample_rate = self._load(source)
            analysis = self.lab.analyze(
                samples,
                sample_rate,
                kind=self.analysis_type.value,
                track_type=self.track_type.value,
                track_name=source.track_name,
            )
        except UserCodeError as exc:
            self._report_error(str(exc), traceback=exc.traceback)
            return None
        except CodetteError as exc:
            self._report_error(str(exc))
            return None
        from .plots import draw_figures, png_output

        self.figures = draw_figures(samples, sample_rate, analysis, title=source.track_name)
        self.plots.outputs = tuple(png_output(figure, name) for name, figure in self.figures.items())
        self.result = analysis
        self.report.value = _report_html(analysis, source)
        return analysis

    def close(self) -> None:
        self.lab.events.unsubscribe(self._on_event)
        self.lab.remove_definition_listener(self._on_definition)
        super().close()

    def _load(self, source: Source) -> tuple[np.ndarray, int]:
        from ..audio_input import load_audio
        from ..protocol import AudioData

        audio = source.recent.request.audio if source.recent is not None else AudioData(file_path=str(source.path))
        loaded = load_audio(audio, roots=self.lab.audio_roots)
        if loaded is None:
            raise CodetteError(f"Audio source '{source.label}': expected samples or a file path, it has neither")
        return loaded

    def _report_error(self, text: str, *, traceback: str = "") -> None:
        self.result = None
        self.figures = {}
        self.plots.outputs = ()
        details = f"<pre style='font-size:11px'>{html.escape(traceback)}</pre>" if traceback else ""
        self.report.value = f"<div style='color:#a00'>{html.escape(text)}</div>{details}"


def _report_html(analysis: AnalysisResult, source: Source) -> str:
    suggestions = "".join(f"<li>{html.escape(text)}</li>" for text in analysis.suggestions) or "<li>None.</li>"
    return (
        f"<h4>{html.escape(source.track_name)}: {html.escape(analysis.analysis_type)} "
        f"(quality {analysis.quality_score:.2f})</h4>"
        f"<p>{html.escape(analysis.insights)}</p>"
        f"<b>Suggestions</b><ul class='codette-suggestions'>{suggestions}</ul>"
    )
