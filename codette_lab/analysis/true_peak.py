"""True peak (ITU-R BS.1770-4 Annex 2): the peak of the signal oversampled 4x, in dBTP.

The interpolator is the polyphase FIR ``scipy.signal.resample_poly(x, 4, 1)``
builds (81-tap Kaiser-windowed sinc, cut at the original Nyquist frequency).
Oversampling a whole track costs more than every other measurement together,
so it is done only where it can matter. The signal is cut into blocks longer
than the filter; no interpolated value in a block exceeds the filter's largest
per-phase sum of absolute taps times the largest sample of that block and the
one before, so blocks whose bound cannot beat the best peak found so far are
never interpolated. The answer is exactly the oversampled peak.
"""

from __future__ import annotations

import numpy as np

from .fixed_order import matrix_product
from .signal import db

#: The metrics :meth:`TruePeakMeter.measure` outputs (gathered in :mod:`.outputs`).
OUTPUTS = ("true_peak_dbtp",)
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {"true_peak_dbtp": 2}

OVERSAMPLING = 4
#: Candidate blocks interpolated per batch before the threshold is raised again.
BATCH_BLOCKS = 2048
#: Outputs within this fraction of a batch's loudest (as BLAS computed them, whose last bits depend on
#: its thread count) are computed again in a fixed order (:mod:`.fixed_order`), and the peak is the
#: largest of those: the same in every process. BLAS's error on a 44-tap product is under 1e-5 of it.
RECOMPUTE_WITHIN = 1e-4


def _polyphase_matrix() -> np.ndarray:
    """(taps per phase, 4): column p gives output phase p from the window x[m - taps + 1 .. m]."""
    from scipy.signal import firwin

    half_length = 10 * OVERSAMPLING
    taps = firwin(2 * half_length + 1, 1.0 / OVERSAMPLING, window=("kaiser", 5.0)) * OVERSAMPLING
    padded = np.concatenate((taps, np.zeros(-len(taps) % OVERSAMPLING)))
    phases = padded.reshape(-1, OVERSAMPLING).T  # phases[p, k] = taps[4k + p]
    return np.ascontiguousarray(phases[:, ::-1].T, dtype=np.float32)


class TruePeakMeter:
    """4x oversampling true-peak meter; the filter is built once and shared by every call."""

    def __init__(self) -> None:
        self.matrix = _polyphase_matrix()
        self.span = self.matrix.shape[0]
        #: No interpolated value exceeds this many times the largest sample under the filter.
        self.gain_bound = float(np.abs(self.matrix).sum(axis=0).max())

    def oversampled_peak(self, channel: np.ndarray) -> float:
        """Largest absolute value of one channel oversampled 4x (ringing past both ends included)."""
        span, length = self.span, len(channel)
        block = span  # a block is at least as long as the filter: outputs of block b see blocks b - 1 and b
        outputs = length + span - 1  # output m depends on samples m - span + 1 .. m
        blocks = -(-outputs // block)
        padded = np.zeros(span - 1 + blocks * block, dtype=np.float32)
        padded[span - 1 : span - 1 + length] = channel
        block_max = np.abs(padded[span - 1 :].reshape(blocks, block)).max(axis=1)
        reach = block_max.copy()
        np.maximum(reach[1:], block_max[:-1], out=reach[1:])
        bound = reach * self.gain_bound
        windows = np.lib.stride_tricks.sliding_window_view(padded, span)
        offsets = np.arange(block)

        def interpolated_peak(batch: np.ndarray) -> float:
            positions = (batch[:, None] * block + offsets).ravel()
            rough = np.abs(windows[positions] @ self.matrix).max(axis=1)  # BLAS: fast, last bits vary
            near = positions[rough >= rough.max() * (1.0 - RECOMPUTE_WITHIN)]
            return float(np.abs(matrix_product(windows[near], self.matrix)).max())

        loudest = int(np.argmax(block_max))
        best = interpolated_peak(np.arange(loudest, min(loudest + 2, blocks)))
        order = np.flatnonzero(bound > best)
        order = order[np.argsort(bound[order])[::-1]]
        while len(order):
            batch, order = order[:BATCH_BLOCKS], order[BATCH_BLOCKS:]
            best = max(best, interpolated_peak(batch))
            order = order[bound[order] > best]
        return best

    def measure(self, x: np.ndarray) -> dict[str, float | None]:
        """true_peak_dbtp: the largest oversampled peak over all channels (None for silence)."""
        return {"true_peak_dbtp": db(max(self.oversampled_peak(channel) for channel in x))}
