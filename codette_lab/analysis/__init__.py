"""Layer 2: arrays in, metrics out. Knows nothing of messages.

``measure(y, sr=..., kinds=...)`` answers levels, true peak, BS.1770-4
loudness and EBU loudness range, spectral shape and band energies, stereo
image and transients; ``measure_masking`` compares two tracks; the
``*_curve`` / ``waveform_envelope`` functions feed plots. An :class:`Analyzer`
holds the filters and windows of one sample rate and is reused by every call
at that rate. scipy and librosa are imported when the first Analyzer is
created, so importing this package costs only numpy.
"""

from .analyzer import (
    WARM_UP_RATES,
    Analyzer,
    analyzer_for,
    loudness_curve,
    measure,
    measure_masking,
    single_threaded,
    spectrum_curve,
    warm_up,
    waveform_envelope,
)
from .bands import ALL_KINDS, BANDS

__all__ = [
    "ALL_KINDS",
    "BANDS",
    "WARM_UP_RATES",
    "Analyzer",
    "analyzer_for",
    "loudness_curve",
    "measure",
    "measure_masking",
    "single_threaded",
    "spectrum_curve",
    "warm_up",
    "waveform_envelope",
]
