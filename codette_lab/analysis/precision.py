"""The precision every metric is reported at, and the one function that applies it.

A measurement's last digits hold the rounding noise of long float32 sums, not
information about the audio: nobody hears 0.001 dB or 0.01 Hz, and a rule
threshold is never set that finely. Each meter module declares, beside its
``OUTPUTS``, the decimal places each of its metrics is meaningful to
(``DECIMALS``: 0.01 dB, 0.1 Hz, 4 places for shares, ratios and correlations;
None for counts, flags and names, kept as measured). :func:`reported` rounds a
measurement to them; :class:`~.analyzer.Analyzer` applies it to everything it
measures, so rules judge, the wire carries, a corpus table stores and a
notebook prints the same numbers. The sums themselves are already the same in
every process (:mod:`.fixed_order`); rounding keeps noise of the 10th digit,
should any remain on another machine's CPU, from reaching a reply. The table
is in docs/protocol.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from . import burial, envelope, levels, loudness, masking, programme, spectral, stereo, transients, true_peak

#: Decimal places of every metric (per-band metrics: of each band's value), gathered from the meters.
METRIC_DECIMALS: Mapping[str, int | None] = MappingProxyType(
    {
        **levels.DECIMALS,
        **true_peak.DECIMALS,
        **loudness.DECIMALS,
        **spectral.DECIMALS,
        **stereo.DECIMALS,
        **transients.DECIMALS,
        **envelope.DECIMALS,
        **programme.DECIMALS,
        **masking.DECIMALS,
        **burial.DECIMALS,
    }
)


def rounded(value: Any, decimals: int | None) -> Any:
    """``value`` to ``decimals`` places (a float; -0.0 becomes 0.0); dicts by entry; anything else as it is."""
    if decimals is None or value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Mapping):
        return {key: rounded(entry, decimals) for key, entry in value.items()}
    return round(float(value), decimals) + 0.0


def reported(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics as they are reported: each one of :data:`METRIC_DECIMALS` rounded to its places,
    any other (a notebook's own) as it is."""
    return {name: rounded(value, METRIC_DECIMALS.get(name)) for name, value in metrics.items()}
