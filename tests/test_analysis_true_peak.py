"""The true-peak search finds the peak of the whole signal oversampled 4x, whatever it skips on the way.

Checked against every output of the same polyphase filter computed in double
precision, on signals where the peak is everywhere (dense noise, a clipped
master), nowhere but in one spot of a quiet track, and at either end.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from codette_lab.analysis.true_peak import CHUNK_ROWS, ROW_OUTPUTS, TruePeakMeter

CHUNK = CHUNK_ROWS * ROW_OUTPUTS


def _every_output_peak(meter: TruePeakMeter, x: np.ndarray) -> float:
    """Largest |output| of the filter over the whole signal, every output computed, in float64."""
    span = meter.span
    padded = np.concatenate((np.zeros(span - 1), x.astype(np.float64), np.zeros(span - 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, span)
    return float(np.abs(windows @ meter.matrix.astype(np.float64)).max())


def _signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    quiet = (rng.standard_normal(5 * CHUNK) * 0.01).astype(np.float32)
    spot = quiet.copy()
    spot[3 * CHUNK + 77 : 3 * CHUNK + 80] = [0.9, -0.95, 0.9]
    clipped = np.clip(rng.standard_normal(3 * CHUNK + 5) * 0.7, -0.99, 0.99).astype(np.float32)
    ends = quiet[: CHUNK + 3].copy()
    ends[0], ends[-1] = 0.8, -0.85
    return {
        "dense noise": (rng.standard_normal(4 * CHUNK) * 0.25).astype(np.float32),
        "clipped master": clipped,
        "one loud spot in a quiet track": spot,
        "peaks at both ends": ends,
        "shorter than the filter": np.array([0.3, -0.7, 0.2], dtype=np.float32),
        "exactly one chunk": (rng.standard_normal(CHUNK) * 0.3).astype(np.float32),
        "silence": np.zeros(1000, dtype=np.float32),
    }


@pytest.mark.parametrize("name", list(_signals()))
def test_the_search_finds_the_peak_of_every_output(name: str) -> None:
    meter, x = TruePeakMeter(), _signals()[name]
    found, every = meter.oversampled_peak(x), _every_output_peak(meter, x)
    assert found == pytest.approx(every, rel=1e-6, abs=1e-12), name


def test_the_filter_is_the_one_resample_poly_uses() -> None:
    x = (np.random.default_rng(5).standard_normal(5000) * 0.3).astype(np.float32)
    reference = float(np.abs(resample_poly(x.astype(np.float64), 4, 1)).max())
    assert TruePeakMeter().oversampled_peak(x) == pytest.approx(reference, rel=1e-5)
