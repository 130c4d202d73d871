"""The Analysis tab's figures, one set per analysis type (see :mod:`.figures` for which type gets which).

Figures are plain :class:`matplotlib.figure.Figure` objects on their own Agg
canvas (no pyplot, so no global figure state shared between threads: the
panel draws them on its worker thread), rendered to PNG for an Output widget
and for the saved report.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Figure size in inches (at 100 dpi) for each plot.
FIGSIZE = (8.0, 2.6)

#: How many dB below the loudest bin the spectrum plot shows.
SPECTRUM_RANGE_DB = 90.0

#: Band shading alternates between these two colours, so neighbouring bands stay apart.
BAND_COLOURS = ("#dce9f5", "#f3e6d0")

#: Frequency ticks of every spectrum plot, labelled in plain numbers (``100``, ``1k``, ``10k``).
FREQUENCY_TICKS = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)

#: Colour of what the analysis found (a high-pass frequency, a build-up), drawn where it is.
FINDING_COLOUR = "#c0392b"

#: At most this many points of a goniometer are drawn (evenly picked), so big files stay quick.
GONIOMETER_POINTS = 6000


def figure(rows: int = 1, *, height: float = FIGSIZE[1]) -> Figure:
    """A constrained-layout Figure on its own Agg canvas, ``rows`` plot rows high."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    made = Figure(figsize=(FIGSIZE[0], height * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(made)
    return made


def hz_label(frequency: float) -> str:
    """``100``, ``1k``, ``2.5k``, ``10k``."""
    return f"{frequency / 1000:g}k" if frequency >= 1000 else f"{frequency:g}"


def frequency_axis(axes: Axes, top: float) -> None:
    """A log frequency axis from 20 Hz with plain-number ticks (100, 1k, 10k: not 10²)."""
    from matplotlib.ticker import NullFormatter

    axes.set_xscale("log")
    axes.set_xlim(20, min(20000, top))
    ticks = [tick for tick in FREQUENCY_TICKS if tick <= top]
    axes.set_xticks(ticks, [hz_label(tick) for tick in ticks])
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("frequency (Hz)")


def spectrum_figure(
    y: np.ndarray,
    sr: float,
    *,
    title: str = "",
    marks: Sequence[tuple[float, str]] = (),
    other: np.ndarray | None = None,
    other_label: str = "",
) -> Figure:
    """Mean spectrum in dBFS with the named bands shaded and their edges drawn, and ``marks`` (Hz, label)
    where the analysis found something. ``other`` overlays a second track's spectrum (masking)."""
    from ..analysis import BANDS, spectrum_curve

    frequencies, levels = spectrum_curve(y, sr=sr)
    drawn = figure()
    axes = drawn.add_subplot()
    top = sr / 2
    for index, (name, (low, high)) in enumerate(BANDS.items()):
        if low >= top:
            break
        axes.axvspan(low, min(high, top), color=BAND_COLOURS[index % 2], zorder=0)
        axes.axvline(low, color="#b8c4d0", linewidth=0.5, zorder=0)
        axes.text((low * min(high, top)) ** 0.5, 0.97, name.replace("_", " "), transform=axes.get_xaxis_transform(),
                  ha="center", va="top", fontsize=7, color="#555")  # fmt: skip
    audible = frequencies >= 20
    axes.plot(frequencies[audible], levels[audible], color="#1f5f99", linewidth=1, label=title or "track")
    if other is not None:
        other_frequencies, other_levels = spectrum_curve(other, sr=sr)
        keep = other_frequencies >= 20
        axes.plot(other_frequencies[keep], other_levels[keep], color="#d35400", linewidth=1, label=other_label)
        axes.legend(loc="lower left", fontsize=7)
    for frequency, label in marks:
        if 20 <= frequency <= top:
            axes.axvline(frequency, color=FINDING_COLOUR, linewidth=1.2, linestyle="--")
            axes.text(frequency * 1.05, 0.05, label, transform=axes.get_xaxis_transform(), fontsize=7,
                      color=FINDING_COLOUR, rotation=90, va="bottom")  # fmt: skip
    frequency_axis(axes, top)
    loudest = float(levels[audible].max()) if audible.any() else 0.0
    axes.set_ylim(max(loudest - SPECTRUM_RANGE_DB, float(levels.min())), loudest + 6)
    axes.set_ylabel("level (dBFS)")
    axes.set_title(f"Spectrum{': ' + title if title else ''}", fontsize=10)
    return drawn


def loudness_figure(
    y: np.ndarray,
    sr: float,
    *,
    integrated: float | None = None,
    target: float | None = None,
    true_peak: float | None = None,
    ceiling: float | None = None,
    headroom: tuple[float, bool] | None = None,
    title: str = "",
) -> Figure:
    """Momentary and short-term loudness with the integrated value and the ``target`` (LUFS) drawn; under
    it the peak level over time with the true-peak ``ceiling`` (dBTP), the measured ``true_peak`` and the
    ``headroom`` mark (dBFS, and whether its finding fired: then in the finding's colour)."""
    import numpy as np

    from ..analysis import loudness_curve, waveform_envelope

    times, momentary, short_term = loudness_curve(y, sr=sr)
    drawn = figure(2)
    axes, peaks = drawn.subplots(2, 1, sharex=True)
    if len(times):
        axes.plot(times, momentary, color="#9aa9b8", linewidth=0.8, label="momentary (400 ms)")
        axes.plot(times, short_term, color="#c0392b", linewidth=1.4, label="short-term (3 s)")
        audible = momentary[momentary > -70]
        shown = [value for value in (target, integrated) if value is not None]
        if audible.size:
            axes.set_ylim(max(-70.0, min([float(audible.min()), *shown]) - 3), max([float(audible.max()), *shown]) + 3)
    else:
        axes.text(0.5, 0.5, "clip shorter than one 400 ms block", transform=axes.transAxes, ha="center")
    if integrated is not None:
        axes.axhline(integrated, color="#333", linestyle="--", linewidth=0.8, label=f"integrated {integrated:.1f} LUFS")
    if target is not None:
        axes.axhline(target, color="#27ae60", linewidth=1.2, label=f"target {target:g} LUFS")
    axes.set_ylabel("LUFS")
    axes.legend(loc="lower right", fontsize=7)
    axes.set_title(f"Loudness{': ' + title if title else ''}", fontsize=10)
    envelope_times, low, high = waveform_envelope(y, sr=sr)
    level = 20 * np.log10(np.maximum(np.maximum(np.abs(low), np.abs(high)), 1e-6))
    peaks.plot(envelope_times, level, color="#2e8b57", linewidth=0.8, label="sample peak")
    if ceiling is not None:
        peaks.axhline(ceiling, color=FINDING_COLOUR, linewidth=1.2, label=f"true-peak ceiling {ceiling:g} dBTP")
    if true_peak is not None:
        peaks.axhline(true_peak, color="#333", linestyle=":", linewidth=0.8, label=f"true peak {true_peak:.1f} dBTP")
    if headroom is not None:
        mark, fired = headroom
        peaks.axhline(mark, color=FINDING_COLOUR if fired else "#8e44ad", linewidth=1.2, linestyle="-." ,
                      label=f"headroom mark {mark:g} dBFS" + (" (exceeded)" if fired else ""))  # fmt: skip
    peaks.set_ylim(-60, 3)
    peaks.set_xlabel("time (s)")
    peaks.set_ylabel("peak (dBFS)")
    peaks.legend(loc="lower right", fontsize=7)
    return drawn


def waveform_figure(y: np.ndarray, sr: float, *, title: str = "") -> Figure:
    """Min/max envelope over all channels, with full scale marked."""
    from ..analysis import waveform_envelope

    times, low, high = waveform_envelope(y, sr=sr)
    drawn = figure()
    axes = drawn.add_subplot()
    axes.fill_between(times, low, high, color="#2e8b57", linewidth=0)
    for level in (-1.0, 1.0):
        axes.axhline(level, color="#c0392b", linewidth=0.6, linestyle=":")
    axes.text(0.005, 0.985, "full scale (0 dBFS)", transform=axes.get_yaxis_transform(), fontsize=7,
              color="#c0392b", va="top")  # fmt: skip
    axes.set_ylim(-1.05, 1.05)
    axes.set_xlabel("time (s)")
    axes.set_ylabel("amplitude")
    axes.set_title(f"Waveform{': ' + title if title else ''}", fontsize=10)
    return drawn


def stereo_figure(y: np.ndarray, sr: float, *, title: str = "") -> Figure:
    """A goniometer (mid against side) and the left/right correlation over time (100 ms blocks)."""
    import numpy as np

    from ..analysis.signal import as_channels

    x = as_channels(y)
    drawn = figure(height=3.2)
    gonio, correlation = drawn.subplots(1, 2, width_ratios=(1, 2))
    if x.shape[0] < 2:
        for axes in (gonio, correlation):
            axes.text(0.5, 0.5, "mono track: no stereo image", transform=axes.transAxes, ha="center")
        return drawn
    left, right = x[0], x[1]
    pick = np.linspace(0, len(left) - 1, min(GONIOMETER_POINTS, len(left))).astype(int)
    gonio.scatter((left[pick] - right[pick]) / np.sqrt(2), (left[pick] + right[pick]) / np.sqrt(2), s=1, alpha=0.3)
    gonio.set_xlim(-1, 1)
    gonio.set_ylim(-1, 1)
    gonio.set_aspect("equal")
    gonio.set_xlabel("side")
    gonio.set_ylabel("mid")
    gonio.set_title("Goniometer", fontsize=10)
    block = max(1, int(sr * 0.1))
    count = len(left) // block
    if count:
        l_blocks = left[: count * block].reshape(count, block)
        r_blocks = right[: count * block].reshape(count, block)
        energy = np.sqrt((l_blocks**2).sum(axis=1) * (r_blocks**2).sum(axis=1))
        values = np.where(energy > 1e-12, (l_blocks * r_blocks).sum(axis=1) / np.maximum(energy, 1e-12), np.nan)
        correlation.plot(np.arange(count) * block / sr, values, color="#1f5f99", linewidth=0.8)
    correlation.axhline(0, color="#c0392b", linewidth=0.6, linestyle=":")
    correlation.set_ylim(-1.05, 1.05)
    correlation.set_xlabel("time (s)")
    correlation.set_ylabel("correlation")
    correlation.set_title(f"Left/right correlation{': ' + title if title else ''}", fontsize=10)
    return drawn


def transients_figure(y: np.ndarray, sr: float, *, title: str = "") -> Figure:
    """librosa's onset strength envelope of the mono mix, with the onsets it detects marked."""
    import librosa
    import numpy as np

    from ..analysis.signal import as_channels

    mono = as_channels(y).mean(axis=0)
    strength = librosa.onset.onset_strength(y=mono, sr=sr)
    times = librosa.times_like(strength, sr=sr)
    onsets = librosa.onset.onset_detect(onset_envelope=strength, sr=sr, units="time")
    drawn = figure()
    axes = drawn.add_subplot()
    axes.plot(times, strength, color="#7f8c8d", linewidth=0.8, label="onset strength")
    axes.vlines(onsets, 0, float(np.max(strength)) if strength.size else 1.0, color=FINDING_COLOUR, linewidth=0.7,
                label=f"{len(onsets)} onsets")  # fmt: skip
    axes.set_xlabel("time (s)")
    axes.set_ylabel("strength")
    axes.legend(loc="upper right", fontsize=7)
    axes.set_title(f"Transients{': ' + title if title else ''}", fontsize=10)
    return drawn


def png_bytes(drawn: Figure) -> bytes:
    buffer = io.BytesIO()
    drawn.savefig(buffer, format="png")
    return buffer.getvalue()
