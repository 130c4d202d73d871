"""*Before / after* in the Rules tab: the Analysis tab's last analysis, run again with the rules as they are now.

A teacher moves a slider and the class sees what it changes: the score and
the suggestions of the last analysis shown, as it was and with the new rules.
The analysis runs again on its own thread (an :class:`~.activity.Activity`),
once per burst of changes, on the audio the Analysis tab kept.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ..errors import CodetteError
from .activity import Activity, within
from .analysis_report import score_text
from .mainthread import Coalescer, MainThread

if TYPE_CHECKING:
    from ..analysis_types import AnalysisResult
    from .analysis_panel import Outcome
    from .interface import LabLike


def _column(title: str, analysis: AnalysisResult) -> str:
    suggestions = "".join(f"<li>{html.escape(text)}</li>" for text in analysis.suggestions) or "<li>None.</li>"
    return (
        f"<div style='flex:1 1 260px;min-width:0;overflow-wrap:anywhere'><b>{title}</b>: "
        f"{score_text(analysis)}<ul style='margin:2px 0'>{suggestions}</ul></div>"
    )


class RulesComparison(widgets.VBox):
    """The last analysis before and after the current rule change (empty until there is one to compare)."""

    def __init__(self, lab: LabLike, main: MainThread, last_analysis: Callable[[], Outcome | None] | None) -> None:
        self.lab = lab
        self.main = main
        self.last_analysis = last_analysis
        self.view = widgets.HTML()
        self.activity = Activity(main, buttons=[])
        self._again = Coalescer(main, self.compare)
        super().__init__([self.activity.indicator, self.view])

    def request(self) -> None:
        """The rules changed (any thread): compare again soon, once per burst of changes."""
        if self.last_analysis is None:
            return
        if self.main.is_current():
            self.compare()
        else:
            self._again.request()

    def compare(self) -> None:
        """Run the last analysis again with the current rules and show both (nothing when none was run)."""
        outcome = self.last_analysis() if self.last_analysis is not None else None
        if outcome is None or self.activity.busy:
            return
        before = outcome.analysis

        limit = self.lab.time_limit(before.analysis_type)

        def again() -> AnalysisResult:
            return within(
                limit,
                f"Notebook analysis type '{before.analysis_type}'",
                lambda: self.lab.analyze(
                    outcome.samples,
                    outcome.sample_rate,
                    kind=before.analysis_type,
                    track_type=outcome.track_type,
                    track_name=outcome.source.track_name,
                    **outcome.options,
                ),
            )

        def show(after: AnalysisResult) -> None:
            self.view.value = (
                f"<b>Before / after</b> ({html.escape(outcome.source.track_name)}, "
                f"{html.escape(before.analysis_type)})<div style='display:flex;flex-wrap:wrap;gap:12px'>"
                f"{_column('Before', before)}{_column('After', after)}</div>"
            )

        def fail(error: CodetteError) -> None:
            self.view.value = f"<div style='color:#a00'>Before / after: {html.escape(str(error))}</div>"

        self.activity.start("Analyzing again with the new rules", again, show, fail, limit=limit)
