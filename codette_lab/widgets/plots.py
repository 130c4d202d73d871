"""The Analysis tab's figures: spectrum with the named bands, loudness over time, waveform.

Figures are plain :class:`matplotlib.figure.Figure` objects on an Agg canvas
(no pyplot, so no global figure state shared between threads), rendered to PNG
for the panel's Output widget. Call these on the kernel's main thread.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

    from ..analysis_types import AnalysisResult

#: Figure size in inches (at 100 dpi) for each plot.
FIGSIZE = (8.0, 2.6)

#: How many dB below the loudest bin the spectrum plot shows.
SPECTRUM_RANGE_DB = 90.0

#: Band shading alternates between these two colours, so neighbouring bands stay apart.
BAND_COLOURS = ("#dce9f5", "#f3e6d0")


def _figure() -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def spectrum_figure(y: np.ndarray, sr: float, *, title: str = "") -> Figure:
    """Mean spectrum on a log frequency axis, with the named bands shaded and labelled."""
    from ..analysis import BANDS, spectrum_curve

    frequencies, levels = spectrum_curve(y, sr=sr)
    figure = _figure()
    axes = figure.add_subplot()
    top = sr / 2
    for index, (name, (low, high)) in enumerate(BANDS.items()):
        if low >= top:
            break
        axes.axvspan(low, min(high, top), color=BAND_COLOURS[index % 2], zorder=0)
        axes.text((low * min(high, top)) ** 0.5, 0.97, name.replace("_", " "), transform=axes.get_xaxis_transform(),
                  ha="center", va="top", fontsize=7, color="#555")  # fmt: skip
    audible = frequencies >= 20
    axes.plot(frequencies[audible], levels[audible], color="#1f5f99", linewidth=1)
    axes.set_xscale("log")
    axes.set_xlim(20, min(20000, top))
    loudest = float(levels[audible].max()) if audible.any() else 0.0
    axes.set_ylim(max(loudest - SPECTRUM_RANGE_DB, float(levels.min())), loudest + 6)
    axes.set_xlabel("frequency (Hz)")
    axes.set_ylabel("level (dB)")
    axes.set_title(f"Spectrum{': ' + title if title else ''}", fontsize=10)
    return figure


def loudness_figure(y: np.ndarray, sr: float, analysis: AnalysisResult | None = None, *, title: str = "") -> Figure:
    """Momentary (400 ms) and short-term (3 s) loudness over time, with the integrated loudness if measured."""
    from ..analysis import loudness_curve

    times, momentary, short_term = loudness_curve(y, sr=sr)
    figure = _figure()
    axes = figure.add_subplot()
    if len(times):
        axes.plot(times, momentary, color="#9aa9b8", linewidth=0.8, label="momentary (400 ms)")
        axes.plot(times, short_term, color="#c0392b", linewidth=1.4, label="short-term (3 s)")
        audible = momentary[momentary > -70]
        if audible.size:
            axes.set_ylim(max(-70.0, float(audible.min()) - 3), float(audible.max()) + 3)
    else:
        axes.text(0.5, 0.5, "clip shorter than one 400 ms block", transform=axes.transAxes, ha="center")
    integrated = (analysis.metrics if analysis is not None else {}).get("integrated_lufs")
    if integrated is not None:
        axes.axhline(integrated, color="#333", linestyle="--", linewidth=0.8, label=f"integrated {integrated:.1f} LUFS")
    axes.set_xlabel("time (s)")
    axes.set_ylabel("LUFS")
    axes.legend(loc="lower right", fontsize=7)
    axes.set_title(f"Loudness{': ' + title if title else ''}", fontsize=10)
    return figure


def waveform_figure(y: np.ndarray, sr: float, *, title: str = "") -> Figure:
    """Min/max envelope over all channels, with full scale marked."""
    from ..analysis import waveform_envelope

    times, low, high = waveform_envelope(y, sr=sr)
    figure = _figure()
    axes = figure.add_subplot()
    axes.fill_between(times, low, high, color="#2e8b57", linewidth=0)
    for level in (-1.0, 1.0):
        axes.axhline(level, color="#c0392b", linewidth=0.6, linestyle=":")
    axes.set_ylim(-1.05, 1.05)
    axes.set_xlabel("time (s)")
    axes.set_ylabel("amplitude")
    axes.set_title(f"Waveform{': ' + title if title else ''}", fontsize=10)
    return figure


def draw_figures(y: np.ndarray, sr: float, analysis: AnalysisResult | None, *, title: str = "") -> dict[str, Figure]:
    """The three figures of the Analysis tab, by name."""
    return {
        "spectrum": spectrum_figure(y, sr, title=title),
        "loudness": loudness_figure(y, sr, analysis, title=title),
        "waveform": waveform_figure(y, sr, title=title),
    }


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def png_output(figure: Figure, name: str) -> dict[str, Any]:
    """A ``display_data`` output holding the figure as PNG, for an Output widget's ``outputs``."""
    return {
        "output_type": "display_data",
        "data": {
            "image/png": base64.b64encode(png_bytes(figure)).decode("ascii"),
            "text/plain": f"<{name} figure>",
        },
        "metadata": {},
    }
