"""True peak (ITU-R BS.1770-4 Annex 2): the peak of the signal oversampled 4x, in dBTP.

The interpolator is the polyphase FIR ``scipy.signal.resample_poly(x, 4, 1)``
builds (81-tap Kaiser-windowed sinc, cut at the original Nyquist frequency).

The search runs in two steps. A rough pass interpolates the track in chunks,
each chunk one matrix product whose rows hold ROW_OUTPUTS consecutive inputs
(plus the filter's length) and whose columns give ROW_OUTPUTS outputs of all
four phases: no window of the signal is copied once per output, so a dense
master, where every part of the track may hold the peak, costs about as much
as a quiet one. Chunks whose bound (the filter's largest per-phase sum of
absolute taps times the chunk's largest sample) cannot reach the best rough
peak so far are skipped. Then the outputs whose rough value lies within
ROUGH_MARGIN of the rough peak are computed again from their own windows
(the filter's taps times the samples under them), and the largest of those is
the answer: the oversampled peak, whatever the rough pass's rounding (under
1e-5 of the peak: it only chooses which outputs are computed again).
"""

from __future__ import annotations

import numpy as np

from .fixed_order import matrix_products
from .signal import db

#: The metrics :meth:`TruePeakMeter.measure` outputs (gathered in :mod:`.outputs`).
OUTPUTS = ("true_peak_dbtp",)
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {"true_peak_dbtp": 2}

OVERSAMPLING = 4
#: Outputs (per phase) of one row of the rough pass's matrix product.
ROW_OUTPUTS = 16
#: Rows per chunk of the rough pass: 4096 outputs, 93 ms at 44.1 kHz (fine enough for the bound to skip
#: the quiet parts of a track, coarse enough that each product is worth a call).
CHUNK_ROWS = 256
#: Chunks whose largest sample is found per pass over the channel (about 1 M samples, 4 MB at a time).
SCAN_CHUNKS = 256
#: Outputs whose rough value is within this fraction of the rough peak are computed again exactly.
ROUGH_MARGIN = 1e-4


def _polyphase_matrix() -> np.ndarray:
    """(taps per phase, 4): column p gives output phase p from the window x[m - taps + 1 .. m]."""
    from scipy.signal import firwin

    half_length = 10 * OVERSAMPLING
    taps = firwin(2 * half_length + 1, 1.0 / OVERSAMPLING, window=("kaiser", 5.0)) * OVERSAMPLING
    padded = np.concatenate((taps, np.zeros(-len(taps) % OVERSAMPLING)))
    phases = padded.reshape(-1, OVERSAMPLING).T  # phases[p, k] = taps[4k + p]
    return np.ascontiguousarray(phases[:, ::-1].T, dtype=np.float32)


def _row_matrix(matrix: np.ndarray, outputs: int) -> np.ndarray:
    """(taps - 1 + outputs, 4 * outputs): row inputs x[r .. r + taps - 2 + outputs] times this give outputs
    r .. r + outputs - 1, each as its 4 phases (``matrix`` placed once per output, shifted by one input)."""
    span = matrix.shape[0]
    wide = np.zeros((span - 1 + outputs, OVERSAMPLING * outputs), dtype=matrix.dtype)
    for output in range(outputs):
        wide[output : output + span, OVERSAMPLING * output : OVERSAMPLING * (output + 1)] = matrix
    return wide


def _padded(channel: np.ndarray, span: int, start: int, stop: int) -> np.ndarray:
    """``padded[start:stop]`` (float32) of the channel with span - 1 zeros before it and zeros after it."""
    piece = np.zeros(stop - start, dtype=np.float32)
    begin, end = max(start - (span - 1), 0), min(stop - (span - 1), len(channel))
    if end > begin:
        offset = begin + span - 1 - start
        piece[offset : offset + end - begin] = channel[begin:end]
    return piece


class TruePeakMeter:
    """4x oversampling true-peak meter; the filter is built once and shared by every call."""

    def __init__(self) -> None:
        self.matrix = _polyphase_matrix()
        self.span = self.matrix.shape[0]
        #: No interpolated value exceeds this many times the largest sample under the filter.
        self.gain_bound = float(np.abs(self.matrix).sum(axis=0).max())
        self.row_matrix = _row_matrix(self.matrix, ROW_OUTPUTS)

    def oversampled_peak(self, channel: np.ndarray) -> float:
        """Largest absolute value of one channel oversampled 4x (ringing past both ends included).

        The channel is read a chunk at a time through :func:`_padded` (the zeros before and after it are
        never stored), so the memory used stays a few chunks whatever the length of the track.
        """
        span, length = self.span, len(channel)
        chunk = CHUNK_ROWS * ROW_OUTPUTS  # outputs per chunk; output m depends on samples m - span + 1 .. m
        chunks = -(-(length + span - 1) // chunk)
        chunk_max = np.empty(chunks, dtype=np.float32)
        for first in range(0, chunks, SCAN_CHUNKS):  # |samples| of each chunk, a group of chunks at a time
            last = min(chunks, first + SCAN_CHUNKS)
            piece = np.abs(_padded(channel, span, first * chunk, last * chunk))
            chunk_max[first:last] = piece.reshape(last - first, chunk).max(axis=1)
        reach = chunk_max.copy()  # a chunk's outputs also see the first span - 1 inputs of the next one
        np.maximum(reach[:-1], chunk_max[1:], out=reach[:-1])
        bound = reach * self.gain_bound

        def rough(index: int) -> np.ndarray:
            """|outputs| of chunk ``index``, one row per output, one column per phase (rough last bits)."""
            piece = _padded(channel, span, index * chunk, (index + 1) * chunk + span - 1)
            rows = np.lib.stride_tricks.as_strided(
                piece, shape=(CHUNK_ROWS, span - 1 + ROW_OUTPUTS), strides=(ROW_OUTPUTS * 4, 4), writeable=False
            )
            return np.abs((rows @ self.row_matrix).reshape(chunk, OVERSAMPLING))

        best, peaks = 0.0, {}
        for index in np.argsort(bound)[::-1]:
            if bound[index] < best * (1.0 - ROUGH_MARGIN):
                break  # sorted: no later chunk can reach it either
            peaks[int(index)] = peak = float(rough(int(index)).max())
            best = max(best, peak)
        if best == 0.0:
            return 0.0
        threshold = best * (1.0 - ROUGH_MARGIN)
        near = np.concatenate(
            [
                index * chunk + np.flatnonzero(rough(index).max(axis=1) >= threshold)
                for index, peak in peaks.items()
                if peak >= threshold
            ]
        )
        # output m's window is samples m - span + 1 .. m (zeros outside the channel)
        at = near[:, None] + np.arange(1 - span, 1)
        inside = (at >= 0) & (at < length)
        windows = np.where(inside, channel[np.clip(at, 0, length - 1)], np.float32(0.0))
        # the candidates again, every product added in a fixed order (:mod:`.fixed_order`): BLAS's last bits
        # depend on its thread count, and the rough margin is far wider than that error, so the true peak is
        # always among them and comes out the same in every process
        return float(np.abs(matrix_products(windows, self.matrix)).max())

    def measure(self, x: np.ndarray) -> dict[str, float | None]:
        """true_peak_dbtp: the largest oversampled peak over all channels (None for silence)."""
        return {"true_peak_dbtp": db(max(self.oversampled_peak(channel) for channel in x))}
