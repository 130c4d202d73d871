"""Which figures each analysis type gets, and what from the analysis is drawn on them.

A spectrum shows where the analysis found something (the high-pass
frequency a rumble finding asks for, the centre of a build-up); loudness
shows the true-peak ceiling and, under it, the headroom mark stems are judged
against (in the finding's colour when that finding fired); a loudness target
is drawn only where the analysis judged against it (a master or bus, or a
loudness finding), so a stem does not look short of a target nobody applied.
Stereo gets a goniometer, transients the onset envelope; ``masking`` both
spectra with the suggested cut and where one track buries the other. A
notebook analysis type gets its own figure when it was defined with one
(``@lab.analysis_type("x", figure=draw)``, ``draw(samples, sr, analysis)``
returning a matplotlib Figure), else a spectrum and a waveform.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import CodetteError, UserCodeError
from . import plots

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

    from ..analysis_types import AnalysisResult
    from ..rules import RuleSnapshot

#: A notebook analysis type's own figure: ``draw(samples, sample_rate, analysis) -> Figure``.
FigureFunction = Callable[[Any, int, Any], Any]

#: The rule whose finding asks for a high-pass, and the parameter holding that frequency.
RUMBLE_RULE, HIGHPASS_PARAMETER = "rumble", "type.highpass_hz"


def located_findings(analysis: AnalysisResult) -> list[tuple[str, float]]:
    """(name, Hz) of each finding the metrics locate: ``mud_excess_db`` is at ``mud_hz``, ``sibilance_db``
    at ``sibilance_hz``."""
    found = []
    for finding in analysis.problems:
        metric = finding.metric or ""
        stem = metric.removesuffix("_excess_db").removesuffix("_db")
        where = analysis.metrics.get(f"{stem}_hz")
        if isinstance(where, int | float):
            found.append((stem.replace("_", " "), float(where)))
    return found


def highpass_hz(analysis: AnalysisResult, rules: RuleSnapshot) -> float | None:
    """The high-pass frequency a rumble finding asks for (the track type's ``highpass_hz``), else None."""
    if not any(finding.rule_id == RUMBLE_RULE for finding in analysis.problems):
        return None
    return float(rules[rules.resolve(HIGHPASS_PARAMETER, analysis.track_type)])


def spectrum_marks(analysis: AnalysisResult, rules: RuleSnapshot) -> list[tuple[float, str]]:
    marks = [(hz, name) for name, hz in located_findings(analysis)]
    cutoff = highpass_hz(analysis, rules)
    if cutoff is not None:
        marks.append((cutoff, f"high-pass {plots.hz_label(cutoff)}"))
    return marks


#: The parameter holding the headroom mark stems are judged against (peaks above it are flagged).
HEADROOM_PARAMETER = "general.headroom_peak_dbfs"

#: Track types judged against a delivery loudness target (a stem is not: its LUFS is not a shortfall).
TARGET_TRACK_TYPES = frozenset({"master", "bus"})


def _fired(analysis: AnalysisResult, metric: str) -> bool:
    return any(finding.metric == metric for finding in analysis.problems)


def headroom_mark(analysis: AnalysisResult, rules: RuleSnapshot) -> tuple[float, bool] | None:
    """(dBFS, fired) of the headroom mark peaks are judged against, when the rules have one."""
    try:
        level = float(rules[HEADROOM_PARAMETER])
    except CodetteError:  # a rule set without the parameter: nothing to draw
        return None
    return level, any("headroom" in finding.rule_id for finding in analysis.problems)


def loudness_target(analysis: AnalysisResult) -> float | None:
    """The LUFS target to draw: only where the analysis judged against it (a master or bus, or a finding on
    the integrated loudness), so a single stem does not look short of a target nobody applied to it."""
    target = (analysis.extras.get("loudness_target") or {}).get("lufs")
    if target is None:
        return None
    judged = analysis.track_type in TARGET_TRACK_TYPES or _fired(analysis, "integrated_lufs")
    return float(target) if judged else None


def _loudness(y: np.ndarray, sr: int, analysis: AnalysisResult, title: str, rules: RuleSnapshot) -> Figure:
    target = analysis.extras.get("loudness_target") or {}
    metrics = analysis.metrics
    return plots.loudness_figure(
        y,
        sr,
        integrated=metrics.get("integrated_lufs"),
        target=loudness_target(analysis),
        true_peak=metrics.get("true_peak_dbtp"),
        ceiling=target.get("true_peak_dbtp"),
        headroom=headroom_mark(analysis, rules),
        title=title,
    )


def masking_marks(analysis: AnalysisResult, rules: RuleSnapshot) -> list[tuple[float, str]]:
    """Where masking found something: the suggested cut (the centre of the masked band) and where this track
    is buried by the other one (or buries it)."""
    metrics = analysis.metrics
    marks = []
    band = rules.document.bands.get(str(metrics.get("masked_band") or ""))
    if band is not None and analysis.problems:
        marks.append((float(band.centre_hz), f"suggested cut {plots.hz_label(band.centre_hz)}"))
    buried, by = metrics.get("buried_hz"), metrics.get("buried_by_db")
    if isinstance(buried, int | float):
        marks.append((float(buried), f"buried {by:.0f} dB" if isinstance(by, int | float) else "buried"))
    burying, over = metrics.get("burying_hz"), metrics.get("burying_by_db")
    if isinstance(burying, int | float):
        marks.append((float(burying), f"buries the other {over:.0f} dB" if isinstance(over, int | float) else "buries"))
    return marks


def draw_figures(
    y: np.ndarray,
    sr: int,
    analysis: AnalysisResult,
    *,
    rules: RuleSnapshot,
    title: str = "",
    own_figure: FigureFunction | None = None,
    other: np.ndarray | None = None,
    other_title: str = "",
) -> dict[str, Figure]:
    """The figures of ``analysis`` by name, as the module's docstring says."""
    kind = analysis.analysis_type

    def spectrum() -> Figure:
        return plots.spectrum_figure(y, sr, title=title, marks=spectrum_marks(analysis, rules))

    if own_figure is not None:
        try:
            return {kind: own_figure(y, sr, analysis)}
        except Exception as exc:  # the notebook's figure function: its error goes to the tab with its traceback
            name = getattr(own_figure, "__name__", repr(own_figure))
            raise UserCodeError(
                f"The figure function of analysis type '{kind}' ({name}) raised {type(exc).__name__}: {exc}",
                function=name,
                traceback="".join(traceback.format_exception(exc)),
            ) from None
    if kind == "masking" and other is not None:
        marks = masking_marks(analysis, rules)
        return {"masking": plots.spectrum_figure(y, sr, title=title, other=other, other_label=other_title, marks=marks)}
    by_type: dict[str, dict[str, Callable[[], Figure]]] = {
        "spectrum": {"spectrum": spectrum},
        "loudness": {"loudness": lambda: _loudness(y, sr, analysis, title, rules)},
        "dynamics": {
            "loudness": lambda: _loudness(y, sr, analysis, title, rules),
            "waveform": lambda: plots.waveform_figure(y, sr, title=title),
        },
        "stereo": {"stereo": lambda: plots.stereo_figure(y, sr, title=title)},
        "transients": {
            "transients": lambda: plots.transients_figure(y, sr, title=title),
            "waveform": lambda: plots.waveform_figure(y, sr, title=title),
        },
        "quality": {
            "spectrum": spectrum,
            "loudness": lambda: _loudness(y, sr, analysis, title, rules),
            "waveform": lambda: plots.waveform_figure(y, sr, title=title),
        },
    }
    chosen = by_type.get(kind, {"spectrum": spectrum, "waveform": lambda: plots.waveform_figure(y, sr, title=title)})
    return {name: draw() for name, draw in chosen.items()}
