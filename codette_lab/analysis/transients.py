"""Transients: onset rate (librosa's onset detector on the shared spectrogram), how far the attacks
stand above the sound that follows them, and how fast they rise.

Onsets come from ``librosa.onset.onset_strength`` on a log-power mel
spectrogram built from the shared STFT and ``librosa.onset.onset_detect``.
Around each onset a 1 ms RMS envelope of the mono mix gives the attack: the
10 %-to-90 % rise time of the envelope to its local peak, and the transient
crest, that 1 ms peak against the RMS of the 100 ms that follow it (about 0 dB
for a steady tone, 10 dB and more for a drum hit), each the median over the main
hits (within 10 dB of the loud ones: a kit's ghost notes and hats are not what
sounds squashed or soft).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .fixed_order import row_products
from .signal import mono_mix
from .spectral import Spectrogram

#: The metrics :meth:`TransientAnalyzer.measure` outputs (gathered in :mod:`.outputs`).
OUTPUTS = ("onsets_per_second", "transient_crest_db", "attack_time_ms")
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {"onsets_per_second": 3, "transient_crest_db": 2, "attack_time_ms": 1}

ENVELOPE_S = 0.001
#: Envelope blocks mixed to mono per step (about 1 s of audio at a time).
ENVELOPE_CHUNK_BLOCKS = 1000
#: How far around an onset frame the attack peak is searched, and how far before it the rise may start.
PEAK_SEARCH_S = 0.06
RISE_SEARCH_S = 0.1
#: The window after the attack peak the transient crest compares it with.
BODY_S = 0.1
RISE_FROM, RISE_TO = 0.1, 0.9
#: The transient crest and attack time are the medians over the main hits: those whose peak is within
#: MAIN_HITS_RANGE_DB of the loud hits (this percentile of the hits' peaks).
MAIN_HITS_PERCENTILE = 90.0
MAIN_HITS_RANGE_DB = 10.0
N_MELS = 128
#: librosa's default peak-picking window and minimum gap between onsets.
PEAK_PICK_S = 0.03


class TransientAnalyzer:
    """Mel filter bank for the onset envelope, set up once per sample rate and STFT size."""

    def __init__(self, sr: float, *, n_fft: int) -> None:
        import librosa

        self.sr = sr
        self.n_fft = n_fft
        self.mel_basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=N_MELS).astype(np.float32).T
        self.envelope_block = max(1, round(ENVELOPE_S * sr))
        covered = self.mel_basis != 0
        first = covered.argmax(axis=0)
        last = len(covered) - covered[::-1].argmax(axis=0)
        #: (mel band, the bins its filter covers) of every filter that covers any: the bank is over 95 %
        #: zeros, so :meth:`mel_power` weighs only those bins.
        self.mel_spans = [
            (band, slice(int(first[band]), int(last[band]))) for band in range(N_MELS) if covered[:, band].any()
        ]

    def mel_rows(self, power: np.ndarray) -> np.ndarray:
        """(frames, mels) mel-band power of a batch of frames: ``power @ mel_basis``, each filter over its own
        bins, summed in a fixed order (:mod:`.fixed_order`: onsets found are the same whatever BLAS's
        threads). A per-frame value the spectrogram's one pass gathers (registered as ``"mel"``)."""
        mel = np.zeros((N_MELS, len(power)), dtype=np.float32)
        for band, rows in self.mel_spans:
            mel[band] = row_products(power[:, rows], self.mel_basis[rows, band])
        return mel.T

    def mel_power(self, spec: Spectrogram) -> np.ndarray:
        """(frames, mels) mel-band power of every frame, laid out (mels, frames) in memory."""
        if "mel" in spec.features:
            rows = spec.feature("mel")
        else:
            rows = np.concatenate([self.mel_rows(batch) for _, batch in spec.batches()])
        return np.ascontiguousarray(rows.T).T

    def onset_frames(self, spec: Spectrogram) -> np.ndarray:
        import librosa

        mel_db = librosa.power_to_db(self.mel_power(spec).T)
        strength = librosa.onset.onset_strength(S=mel_db, sr=self.sr, hop_length=spec.hop)
        # librosa's peak-picking windows are given in frames; at this hop its defaults round to zero
        # frames, which lets one hit count twice, so they are kept at least one frame wide.
        frames_per_30_ms = max(1, round(PEAK_PICK_S * self.sr / spec.hop))
        return librosa.onset.onset_detect(
            onset_envelope=strength, sr=self.sr, hop_length=spec.hop, pre_max=frames_per_30_ms, wait=frames_per_30_ms
        )

    def measure(self, x: np.ndarray, spec: Spectrogram) -> dict[str, Any]:
        """onsets_per_second, transient_crest_db (median), attack_time_ms (median); None without onsets.

        ``x`` is the (channels, n) signal ``spec`` was taken from (its mono mix gives the attacks).
        """
        duration = x.shape[1] / self.sr
        if not spec.active.any():
            return {"onsets_per_second": None, "transient_crest_db": None, "attack_time_ms": None}
        frames = self.onset_frames(spec)
        result: dict[str, Any] = {
            "onsets_per_second": len(frames) / duration,
            "transient_crest_db": None,
            "attack_time_ms": None,
        }
        if len(frames):
            crest, attack = self._attacks(self.power_envelope(x), frames, hop=spec.hop)
            result["transient_crest_db"] = crest
            result["attack_time_ms"] = attack
        return result

    def power_envelope(self, x: np.ndarray) -> np.ndarray:
        """Mean power of the mono mix of ``x`` (channels, n) in every whole block of ``envelope_block``
        samples; mixed ENVELOPE_CHUNK_BLOCKS blocks at a time, never the whole mono signal at once."""
        block = self.envelope_block
        usable = x.shape[1] // block
        power_env = np.empty(usable, dtype=np.float32)
        for first in range(0, usable, ENVELOPE_CHUNK_BLOCKS):
            last = min(usable, first + ENVELOPE_CHUNK_BLOCKS)
            blocks = mono_mix(x[:, first * block : last * block]).reshape(last - first, block)
            power_env[first:last] = np.einsum("ij,ij->i", blocks, blocks) / np.float32(block)
        return power_env

    def _attacks(self, power_env: np.ndarray, frames: np.ndarray, *, hop: int) -> tuple[float | None, float | None]:
        block = self.envelope_block
        usable = len(power_env)
        level_env = np.sqrt(power_env)
        seconds_per_block = block / self.sr

        def to_blocks(seconds: float) -> int:
            return max(1, round(seconds / seconds_per_block))

        # An onset frame k covers samples k*hop .. k*hop + n_fft; its newest part (where the onset is)
        # ends the frame, so the attack peak is searched from the frame centre on.
        centres = (frames * hop + self.n_fft // 2) // block
        search, rise, body = to_blocks(PEAK_SEARCH_S), to_blocks(RISE_SEARCH_S), to_blocks(BODY_S)
        starts = np.maximum(0, centres - search // 2)
        stops = np.minimum(usable, centres + search)
        starts, stops = starts[stops > starts], stops[stops > starts]
        # All onsets at once, each a row: its search window, then the body after and the rise before its peak.
        search_at = starts[:, None] + np.arange(search + search // 2)
        in_search = search_at < stops[:, None]
        peak_at = starts + np.argmax(np.where(in_search, level_env[np.minimum(search_at, usable - 1)], -np.inf), axis=1)
        peak_at = peak_at[power_env[peak_at] > 0]
        if not len(peak_at):
            return None, None
        peak_power, peak = power_env[peak_at], level_env[peak_at]
        body_at = peak_at[:, None] + np.arange(body)
        in_body = body_at < usable
        body_power = np.where(in_body, power_env[np.minimum(body_at, usable - 1)], 0.0).sum(axis=1)
        crests = 10.0 * np.log10(peak_power / (body_power / in_body.sum(axis=1)))
        width = rise + 1
        before_at = peak_at[:, None] - rise + np.arange(width)
        in_before = before_at >= 0
        before = level_env[np.maximum(before_at, 0)]
        floor = np.where(in_before, before, np.inf).min(axis=1)
        low, high = floor + RISE_FROM * (peak - floor), floor + RISE_TO * (peak - floor)
        # the rise starts at the last block at or under 10 % (the floor itself is one) and ends at the first
        # block from there at or over 90 % (the peak itself is one)
        rise_start = width - 1 - np.argmax((in_before & (before <= low[:, None]))[:, ::-1], axis=1)
        reached = in_before & (before >= high[:, None]) & (np.arange(width) >= rise_start[:, None])
        rise_blocks = np.where(reached.any(axis=1), np.argmax(reached, axis=1) - rise_start, width - 1 - rise_start)
        attacks = rise_blocks * seconds_per_block
        # the main hits: ghost notes and hats under them rise less by nature, and with about as many of them as
        # main hits, a median over all swung between the two kinds with where the frames happened to fall
        level = 20.0 * np.log10(peak)
        main = level >= np.percentile(level, MAIN_HITS_PERCENTILE) - MAIN_HITS_RANGE_DB
        return float(np.median(crests[main])), float(np.median(attacks[main]) * 1000.0)
