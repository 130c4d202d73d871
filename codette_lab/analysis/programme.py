"""What kind of material a track holds: programme (music, speech) or only noise, and how much of it pauses.

Judgements about a mix need programme material: a track of hiss alone must not be told to raise its gain
or to de-ess its hiss. Noise is told from programme by two things at once: it is steady (its frame levels
stay within a few dB) and it has no tonal structure: within every third of an octave its power spectrum
is as flat as noise's (the flatness, geometric over arithmetic mean of the bins, reads about 0.56 for
noise of any colour, white, pink or brown, since the slope across one third-octave is small), where the
partials of a note, a chord or a voice make most bands far from flat. The measure is taken per band, as a
median over the bands that carry sound, so a coloured hiss or a hiss with mains hum on a few low bands is
still noise, where a measure over the whole spectrum would see pink hiss as "not flat". Speech pauses
between phrases where music carries on, so the share of frames far below the loud ones tells a podcast
from a song. Digital silence has none of these (None).

Both are judged from BAND_LOW_HZ up: what lies under it (a rumble, a hum's fundamental) is the rumble rule's,
and a loud rumble under a voice must not make the voice's track read as steady noise ("check the routing").
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .spectral import Spectrogram

#: The metrics :meth:`ProgrammeAnalyzer.measure` outputs (gathered in :mod:`.outputs`).
OUTPUTS = ("noise_only", "pause_fraction")
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {"noise_only": None, "pause_fraction": 4}

#: Noise is steady: its loud and quiet frames (these percentiles) lie within NOISE_SPREAD_DB...
SPREAD_PERCENTILES = (10.0, 95.0)
NOISE_SPREAD_DB = 6.0
#: ...and without tonal structure: the median over bands of the band-local flatness reaches NOISE_FLATNESS
#: (noise of any colour about 0.57; sampled instruments and voices 0.01-0.46, recorded drum kits up to 0.55,
#: but those are not steady).
NOISE_FLATNESS = 0.56
#: The bands flatness is taken in: thirds of an octave from BAND_LOW_HZ, each holding at least BAND_MIN_BINS bins.
BANDS_PER_OCTAVE = 3
BAND_LOW_HZ = 50.0
BAND_MIN_BINS = 4
#: Bands this far (dB) under the loudest band carry no sound worth judging.
BAND_RANGE_DB = 30.0
#: Flatness is taken on every FLATNESS_FRAME_STEP-th active frame: the median needs no more, and it is costly...
FLATNESS_FRAME_STEP = 8
#: ...but a clip that would leave fewer than this many judged frames has every frame judged: a clip of under a
#: second was judged on its first frame alone, the onset's broadband splatter, and a voice read as steady noise.
FLATNESS_MIN_FRAMES = 4
#: Floor of a bin's power before its logarithm (digital silence in a bin).
POWER_FLOOR = 1e-20
#: Frames this far (dB) under the loudest are read at this level (digital silence has no finite level).
SILENT_FRAME_DB = 150.0
#: A pause: a frame this far (dB) below the loud frames (the upper of SPREAD_PERCENTILES).
PAUSE_DB = 30.0


class ProgrammeAnalyzer:
    """The third-octave bands of one sample rate and STFT size."""

    def __init__(self, freqs: np.ndarray) -> None:
        top = float(freqs[-1])
        edges = BAND_LOW_HZ * 2.0 ** (
            np.arange(0, np.log2(top / BAND_LOW_HZ) * BANDS_PER_OCTAVE + 1) / BANDS_PER_OCTAVE
        )
        bands = [
            slice(int(np.searchsorted(freqs, low)), int(np.searchsorted(freqs, high)))
            for low, high in itertools.pairwise(edges)
        ]
        #: Bin slices of every band (their levels tell which bands sound) ...
        self.bands = [band for band in bands if band.stop > band.start]
        #: ... and whether each is wide enough to judge flatness in.
        self.judged = np.array([band.stop - band.start >= BAND_MIN_BINS for band in self.bands])

    def band_flatness(self, power: np.ndarray) -> float:
        """Median over the sounding bands wide enough to judge of each band's median (over frames) flatness;
        0.0 without frames or without such a band (the sound sits where bands are too narrow to judge)."""
        if not len(power) or not self.bands:
            return 0.0
        energy = np.array([float(power[:, band].sum(dtype=np.float64)) for band in self.bands])
        sounding = (energy >= energy.max() * 10.0 ** (-BAND_RANGE_DB / 10.0)) & self.judged
        if not sounding.any():
            return 0.0
        flatness = []
        for band in (band for band, chosen in zip(self.bands, sounding, strict=True) if chosen):
            part = np.maximum(power[:, band].astype(np.float64), POWER_FLOOR)
            flatness.append(float(np.median(np.exp(np.log(part).mean(axis=1)) / part.mean(axis=1))))
        return float(np.median(flatness))

    def frame_rows(self, power: np.ndarray) -> np.ndarray:
        """Each frame's power under BAND_LOW_HZ (float64; a :data:`~.stft.RowFeature` of the first pass: a few
        bins, where the power from BAND_LOW_HZ up would sum nearly all of them again)."""
        stop = self.bands[0].start if self.bands else power.shape[1]
        return power[:, :stop].sum(axis=1, dtype=np.float64)

    def measure(self, spec: Spectrogram) -> dict[str, Any]:
        """noise_only (1.0 for steady noise without tonal structure, 0.0 for programme) and pause_fraction
        (0..1), both from BAND_LOW_HZ up; None for silence."""
        energy = np.maximum(spec.frame_energy - spec.feature("programme"), 0.0)
        if not spec.active.any() or energy.max() <= 0:
            return {"noise_only": None, "pause_fraction": None}
        level = 10.0 * np.log10(np.maximum(energy, energy.max() * 10.0 ** (-SILENT_FRAME_DB / 10.0)))
        quiet, loud = np.percentile(level, SPREAD_PERCENTILES)
        steady = loud - quiet < NOISE_SPREAD_DB
        active = np.flatnonzero(spec.active)  # indices: no copy of every active frame
        judged = active[:: FLATNESS_FRAME_STEP if len(active) >= FLATNESS_FRAME_STEP * FLATNESS_MIN_FRAMES else 1]
        noise = steady and self.band_flatness(spec.rows(judged)) >= NOISE_FLATNESS
        return {"noise_only": 1.0 if noise else 0.0, "pause_fraction": float(np.mean(level < loud - PAUSE_DB))}
