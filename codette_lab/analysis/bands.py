"""The names every measurement shares: frequency bands and measurement kinds."""

from __future__ import annotations

from types import MappingProxyType

#: Frequency bands (name -> (low Hz, high Hz), low edge included, high edge excluded), low to high.
BANDS = MappingProxyType(
    {
        "sub_bass": (20.0, 60.0),
        "bass": (60.0, 250.0),
        "low_mids": (250.0, 500.0),
        "mids": (500.0, 2000.0),
        "upper_mids": (2000.0, 4000.0),
        "highs": (4000.0, 8000.0),
        "air": (8000.0, 20000.0),
    }
)

#: The audible range band energies are measured against (Hz).
AUDIBLE_RANGE = (20.0, 20000.0)

#: What :func:`codette_lab.analysis.measure` can measure, in the order it reports them.
ALL_KINDS = ("levels", "true_peak", "loudness", "spectral", "stereo", "transients", "envelope", "programme")
