"""How far a track's tonal balance leans past what is normal for its type: the part of the score no finding says.

The rules find a fault once it stands clearly out of what clean tracks of the type do; a smaller one (a +6 dB
bell on an instrument whose clean neighbours span a wide range) fires nothing. The score still follows it: five
balances, each read from the analysis's own measures and moving one way with one kind of fault, are compared
with the middle and spread of the clean ``fit`` sources of the track's type (``balance`` in
``tone_references.json``, written by scripts/fit_tone_references.py beside the reference envelopes):

- ``low_mid``: the low mids' energy over the mids' (``band_energy_db``): a low-mid bell lifts it;
- ``upper_mid``: the upper mids' energy over the mids': an upper-mid bell lifts it;
- ``dark``: how far the energy above 5 kHz sits under the rest (``-top_end_db``): a low-pass deepens it;
- ``top_edge``: where the top end stops (``top_end_hz``: a filter's cliff, or 40 dB under the loudest part), in
  semitones under 1 kHz: a low-pass lowers it, and S sounds, which brighten a voice's top end and so ease
  ``dark``, do not raise it;
- ``sibilance``: the S sounds against the loud frames (``sibilance_db``), fitted on voices only.

Each becomes a standard score ``z`` (the spread floored at ``SPREAD_FLOOR_DB``) and costs
``softplus(z - COST_FROM_Z)``: a balance inside the normal costs little and moving further into it gains almost
nothing, while from one spread past the middle on each step towards the fault costs about the same (a clean
track keeps about 0.97 of its score; chosen on the ``fit`` split, see docs/advice.md). The score keeps
``1 - cap * (1 - exp(-rate * sum))`` of what the findings left (``general.balance_cost_max`` is the cap,
``general.balance_cost_rate`` the rate): never more than the cap, so one finding still weighs more than a lean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from .tone import POOLED, reference_document

#: A balance's spread (dB) is never taken below this: a few sources agreeing closely is no licence to call a
#: 1 dB difference a lean.
SPREAD_FLOOR_DB = 1.0
#: Where a balance's cost starts to count (standard scores past the middle of the type's clean sources): where
#: the insights start to name it (:data:`MENTION_Z`).
COST_FROM_Z = 1.0
#: The analysis types whose score includes the balance (those that judge the tone).
ANALYSIS_TYPES = frozenset({"spectrum", "quality"})


def _over_mids(band: str) -> Callable[[Mapping[str, Any]], float | None]:
    """A band's energy over the mids' (dB): the mids sit between the two bells' ranges, so a low-mid bell
    moves the upper mids' balance no more than an upper-mid bell moves the low mids'."""

    def read(flat: Mapping[str, Any]) -> float | None:
        level, mids = flat.get(f"band_energy_db.{band}"), flat.get("band_energy_db.mids")
        return None if level is None or mids is None else float(level) - float(mids)

    return read


def _dark(flat: Mapping[str, Any]) -> float | None:
    top = flat.get("top_end_db")
    return None if top is None else -float(top)


def _edge(flat: Mapping[str, Any]) -> float | None:
    edge = flat.get("top_end_hz")
    return None if edge is None or float(edge) <= 0 else 12.0 * math.log2(EDGE_REFERENCE_HZ / float(edge))


#: The top end's edge is read in semitones under this frequency (higher: the top stops lower).
EDGE_REFERENCE_HZ = 1000.0


def _metric(name: str) -> Callable[[Mapping[str, Any]], float | None]:
    def read(flat: Mapping[str, Any]) -> float | None:
        value = flat.get(name)
        return None if value is None else float(value)

    return read


#: Each balance and how it is read from the flat metrics (a fault of one kind moves its own balance one way).
BALANCES: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "low_mid": _over_mids("low_mids"),
    "upper_mid": _over_mids("upper_mids"),
    "dark": _dark,
    "top_edge": _edge,
    "sibilance": _metric("sibilance_db"),
}

#: The metrics :func:`judge_balance` derives: each balance's standard score, and the share of the score the
#: balance costs (before the cap).
OUTPUTS = (*(f"balance_{name}_z" for name in BALANCES), "balance_lean")


def values(flat: Mapping[str, Any]) -> dict[str, float]:
    """The balances a track's flat metrics give (those measured), in dB."""
    found = {name: read(flat) for name, read in BALANCES.items()}
    return {name: value for name, value in found.items() if value is not None and math.isfinite(value)}


@lru_cache(maxsize=1)
def anchors() -> dict[str, dict[str, tuple[float, float]]]:
    """Per track type, each balance's middle and spread (dB) over the clean ``fit`` sources."""
    return {
        track_type: {
            name: (float(entry["median_db"]), max(float(entry["spread_db"]), SPREAD_FLOOR_DB))
            for name, entry in document.get("balance", {}).items()
        }
        for track_type, document in reference_document()["types"].items()
    }


def softplus(x: float) -> float:
    """``log(1 + e^x)``, without overflow: about ``x`` above zero, about ``e^x`` well below it."""
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def judge_balance(flat: Mapping[str, Any], track_type: str) -> tuple[Any, ...]:
    """The values of :data:`OUTPUTS`: each balance's standard score against the type's clean sources (the
    pooled ones for a type without its own; None where not measured or not fitted) and their summed cost."""
    table = anchors()
    own = table.get(track_type) or table.get(POOLED, {})
    measured = values(flat)
    scores = {
        name: (measured[name] - own[name][0]) / own[name][1] for name in BALANCES if name in measured and name in own
    }
    result = [None if name not in scores else round(scores[name], 3) for name in BALANCES]
    return (*result, round(sum(softplus(z - COST_FROM_Z) for z in scores.values()), 4) if scores else None)


#: How each balance's lean is put in words (the insight's ``leaning``).
LEANINGS: dict[str, str] = {
    "low_mid": "heavy in the low mids",
    "upper_mid": "forward in the upper mids",
    "dark": "dark on top",
    "top_edge": "cut off low on top",
    "sibilance": "strong on its S sounds",
}
#: A balance this many spreads past the middle of the type's clean sources is named in the insights.
MENTION_Z = COST_FROM_Z


def strongest(measures: Mapping[str, Any]) -> tuple[str, float] | None:
    """The balance leaning furthest past the middle (its words and standard score), when at least
    :data:`MENTION_Z` spreads; None otherwise."""
    scores = [
        (float(measures[f"balance_{name}_z"]), name)
        for name in BALANCES
        if measures.get(f"balance_{name}_z") is not None
    ]
    if not scores or max(scores)[0] < MENTION_Z:
        return None
    z, name = max(scores)
    return LEANINGS[name], z


def kept(lean: float | None, *, rate: float, cap: float) -> float:
    """The share of the score a track with this lean keeps: 1 without one, never under ``1 - cap``."""
    if lean is None:
        return 1.0
    return 1.0 - cap * (1.0 - math.exp(-rate * lean))
