"""Every metric name analysis/ outputs, gathered from the meters' own ``OUTPUTS`` declarations.

Each meter module says what it outputs beside the code that computes it;
this module only collects those declarations, so a rule file (see
``rules/schema.py``) and anything else that needs the vocabulary reads it
from the measurements themselves. Light to import: the meter modules import
numpy at the top and scipy/librosa only when first used.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import burial, envelope, levels, loudness, masking, programme, spectral, stereo, transients, true_peak

#: What ``measure(y, sr=..., kinds=[kind])`` outputs for each measurement kind (``bands.ALL_KINDS``).
KIND_OUTPUTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "levels": levels.OUTPUTS,
        "true_peak": true_peak.OUTPUTS,
        "loudness": loudness.OUTPUTS,
        "spectral": spectral.OUTPUTS + spectral.PER_BAND_OUTPUTS,
        "stereo": stereo.OUTPUTS,
        "transients": transients.OUTPUTS,
        "envelope": envelope.OUTPUTS,
        "programme": programme.OUTPUTS,
    }
)

#: What ``measure_masking`` outputs.
MASKING_OUTPUTS: tuple[str, ...] = (
    masking.OUTPUTS + masking.PER_BAND_OUTPUTS + masking.BAND_NAME_OUTPUTS + burial.OUTPUTS
)

#: Metrics whose value is a {band name: number} dict (a rule names one band as ``metric.band``).
PER_BAND_METRICS: tuple[str, ...] = spectral.PER_BAND_OUTPUTS + masking.PER_BAND_OUTPUTS

#: The flat names of the tone shape's bands (``tone_shape_db.250``): a metric label may name one; the rules'
#: tone judgement reads them all (codette_lab.rules.tone).
TONE_SHAPE_NAMES: tuple[str, ...] = tuple(f"tone_shape_db.{band}" for band in envelope.SHAPE_BANDS)

#: Outputs that name a band rather than measure anything.
BAND_NAME_METRICS: tuple[str, ...] = masking.BAND_NAME_OUTPUTS

#: Every metric with one number per track, in measurement order.
METRIC_NAMES: tuple[str, ...] = tuple(
    name
    for names in (*KIND_OUTPUTS.values(), MASKING_OUTPUTS)
    for name in names
    if name not in PER_BAND_METRICS and name not in BAND_NAME_METRICS
)
