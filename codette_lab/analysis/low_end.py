"""How a track's energy under 250 Hz divides between the sub-bass (20-60 Hz) and the bass (60-250 Hz), measured
finely enough to tell them apart.

The STFT's bins are 10.8 Hz wide at 44.1 kHz and 11.7 Hz at 48 kHz, and a Hann window spreads a tone over
two bins either side: a voice's or a guitar's fundamentals at 65-80 Hz spill into the bins under 60 Hz. A
70 Hz sine read -7 dB of "sub-bass" at 48 kHz (-17 dB at 44.1 kHz), and real voices and guitars read 4-15 dB
more sub-bass at 48 kHz than at 44.1 kHz, enough to be called rumble. The sub-bass band is only four bins
wide, so no choice of bins mends this.

:class:`LowEndSplit` takes the mono mix down to under 1 kHz (a box average, whose nulls fall where its
aliases would land, then a Butterworth low-pass and a plain decimation), and its Welch spectrum in two-second
segments (bins of 0.4 Hz) divides the low end. The STFT still measures how much energy lies under 250 Hz;
this only says how it divides (:meth:`codette_lab.analysis.spectral.SpectrumAnalyzer.band_energy_db`).
"""

from __future__ import annotations

import numpy as np

from .bands import BANDS
from .fixed_order import row_products

#: The rate (Hz) the box average brings the signal to, at least: its nulls sit on multiples of it, so what
#: would fold into 20-60 Hz (within 60 Hz of a multiple) is at least 38 dB down. (Half this rate costs a third
#: less, but a voice's 2.5 kHz presence folded into it moved the sub-bass of the same voice 1 dB between 44.1 and
#: 48 kHz.)
BOX_RATE_HZ = 5000.0
#: The low-pass before the last decimation (Hz, Butterworth order): flat to 250 Hz, and what would fold
#: into 20-60 Hz (within 60 Hz of the final rate) at least 50 dB down.
LOW_PASS_HZ, LOW_PASS_ORDER = 300.0, 8
#: The final rate, at least (Hz): its Nyquist frequency clears the low-pass.
FINAL_RATE_HZ = 700.0
#: Welch segment length (seconds, rounded up to a power of two in samples): bins of 0.4 Hz, so a 62 Hz note's
#: window leaves the sub-bass alone (one-second segments still let it add 2 dB to a rumble 40 dB under it).
SEGMENT_S = 2.0
#: Decimated samples made per block (the block of input behind them is never longer than about 2 MB).
BLOCK_OUTPUTS = 4096
#: Fewer decimated samples than this and the STFT's own division stands (a clip too short to resolve it).
MIN_SAMPLES = 64


class LowEndSplit:
    """The decimation and Welch set-up of one sample rate, reused by every measurement."""

    def __init__(self, sr: float) -> None:
        from scipy.signal import butter

        self.box = max(1, int(sr // BOX_RATE_HZ))
        box_rate = sr / self.box
        self.step = max(1, int(box_rate // FINAL_RATE_HZ))
        self.rate = box_rate / self.step
        self.sos = butter(LOW_PASS_ORDER, LOW_PASS_HZ, fs=box_rate, output="sos")
        self.box_weights = np.full(self.box, 1.0 / self.box, dtype=np.float32)
        self.segment = 1 << int(np.ceil(np.log2(SEGMENT_S * self.rate)))
        self.sub_range = BANDS["sub_bass"]
        self.low_range = (BANDS["sub_bass"][0], BANDS["bass"][1])

    def decimated(self, x: np.ndarray) -> np.ndarray:
        """The channels of ``x`` ((channels, n) float32) mixed and taken to :attr:`rate`, a block at a time (the
        filter's state carried over) so a long track is never copied whole. Only shares are read from it, so
        the mix is a sum, not an average."""
        from scipy.signal import sosfilt

        whole = x.shape[1] // self.box * self.box
        block = BLOCK_OUTPUTS * self.step * self.box
        state = np.zeros((len(self.sos), 2))
        kept = []
        for start in range(0, whole, block):
            stretch = x[:, start : min(start + block, whole)]
            boxed = np.zeros(stretch.shape[1] // self.box)
            for channel in stretch:
                boxed += row_products(channel.reshape(-1, self.box), self.box_weights)
            filtered, state = sosfilt(self.sos, boxed, zi=state)
            kept.append(filtered[:: self.step])
        return np.concatenate(kept) if kept else np.zeros(0)

    def sub_bass_fraction(self, x: np.ndarray) -> float | None:
        """The share of the 20-250 Hz energy that lies at 20-60 Hz (0..1); None when the clip is too short
        to resolve it or holds nothing there."""
        from scipy.signal import welch

        low = self.decimated(x)
        if len(low) < MIN_SAMPLES:
            return None
        freqs, power = welch(low, fs=self.rate, nperseg=min(self.segment, len(low)), detrend=False)
        low_end = power[(freqs >= self.low_range[0]) & (freqs < self.low_range[1])].sum()
        if not low_end > 0:
            return None
        sub = power[(freqs >= self.sub_range[0]) & (freqs < self.sub_range[1])].sum()
        return float(sub / low_end)
