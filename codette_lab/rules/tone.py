"""A track's tone judged against what is normal for its type: the reference envelopes.

The analysis measures the tone shape (``tone_shape_db``: the smoothed long-term spectrum at 1/3-octave
centres, level-normalised). ``tone_references.json`` holds, per track type, the mean and spread of three
views of it over many clean instruments, kits and voices of that type (written by
scripts/fit_tone_references.py from the corpus's ``fit`` split; ``audio`` pools them all for types without a
reference of their own):

- ``shape``: the shape itself, offset by the median difference to the reference (a broad judgement: a voice's
  low mids sit within a few dB of other voices', so a bell on its fundamentals stands out);
- ``local``: each band against the mean of the bands an octave either side (a bell is a local bump, a natural
  slope is not; a side that drops away, an edge, is left out, and a band with an edge on both sides is not
  judged);
- ``slope``: the drop (dB) over the next octave up (a low-pass falls off a cliff, a dark instrument slopes).

Each view is turned into standard scores (difference to the reference mean over the reference spread, the
spread floored so a tight reference does not call a small difference huge); the rules compare the largest
with their thresholds. Where a build-up stands and how far above the normal it is (the cut) come from the
same comparison.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

#: The view names, and how many 1/3-octave steps an octave is.
VIEWS = ("shape", "local", "slope")
OCTAVE = 3
#: A neighbour this far (dB) under a band is an edge in the local view (as the analysis's own envelope has it
#: for the upper mids: only a filter's cliff or the part's range drops that far within an octave).
EDGE_DB = 20.0
#: A reference's spread (dB) is never taken below this: a few sources agreeing closely is no licence to
#: call a 1 dB difference an anomaly.
SPREAD_FLOOR_DB = 2.0
#: The pooled reference, for track types without their own.
POOLED = "audio"
#: Where each judgement looks (Hz, inclusive): low-mid build-ups, upper-mid harshness, the top end.
MUD_RANGE_HZ = (125.0, 500.0)
HARSH_RANGE_HZ = (2000.0, 5000.0)
TOP_RANGE_HZ = (2500.0, 10000.0)
#: Where a dull track's top end must also sit low against the reference (Hz): a steep fall alone may be a
#: bright instrument's own edge.
LOW_TOP_RANGE_HZ = (5000.0, 12500.0)
#: The same for a type whose brilliance stops lower: a voice's presence and S sounds lie under 8 kHz, above it is
#: breath and air, and many a voice recording stops there (speech recorded at 16 kHz). Chosen on the fit split.
LOW_TOP_RANGE_BY_TYPE_HZ = {"vocal": (5000.0, 8000.0)}
#: Where S sounds lift a voice's tone shape (Hz): a sibilant voice stands above its type's normal there.
SIBILANT_RANGE_HZ = (5000.0, 10000.0)
#: The offset between a shape and its reference is the median difference over these bands (Hz).
OFFSET_RANGE_HZ = (100.0, 8000.0)


def views(shape: np.ndarray) -> dict[str, np.ndarray]:
    """The three views of a tone shape (NaN where a band or its neighbours are missing). In the local view a
    neighbour more than EDGE_DB under the band is an edge (nothing under a part's lowest note, a low-pass
    filter's cliff), not a shoulder: the line continues flat from the other side, so the pass band just under
    a filter's cliff does not read as a build-up. A band with an edge on both sides is an isolated line (a part
    confined to a narrow range, a square lead's fundamentals between an empty octave and its missing second
    harmonic): no EQ bell stands EDGE_DB out of both neighbours, so the local view does not judge it."""
    n = len(shape)
    local = np.full(n, np.nan)
    slope = np.full(n, np.nan)
    centre, below, above = shape[OCTAVE:-OCTAVE], shape[: -2 * OCTAVE], shape[2 * OCTAVE :]
    below_edge, above_edge = below < centre - EDGE_DB, above < centre - EDGE_DB
    line = np.where(
        below_edge & above_edge,
        np.nan,
        np.where(below_edge, above, np.where(above_edge, below, 0.5 * (below + above))),
    )
    local[OCTAVE:-OCTAVE] = centre - line
    slope[:-OCTAVE] = shape[OCTAVE:] - shape[:-OCTAVE]
    return {"shape": shape, "local": local, "slope": slope}


@dataclass(frozen=True)
class Reference:
    """One track type's reference: band centres and, per view, the mean and spread of each band."""

    name: str
    bands_hz: np.ndarray  # exact centres
    labels_hz: np.ndarray  # nominal (what a remedy names: 250 Hz, 3150 Hz)
    mean: Mapping[str, np.ndarray]
    spread: Mapping[str, np.ndarray]


#: The committed file of reference envelopes (beside the built-in rules).
REFERENCES_FILE = "tone_references.json"


@lru_cache(maxsize=1)
def reference_document() -> dict[str, Any]:
    """The committed references file as read (loaded once): band labels, and per track type its envelopes and
    the balances of :mod:`.balance`."""
    return json.loads(resources.files(__package__).joinpath(REFERENCES_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def references() -> dict[str, Reference]:
    """The committed reference envelopes, loaded once (band centres: exact 1/3-octave steps from 1 kHz)."""
    document = reference_document()
    labels = np.array(document["bands_hz"], dtype=float)
    centres = 1000.0 * 2.0 ** (np.round(3.0 * np.log2(labels / 1000.0)) / 3.0)
    return {
        name: Reference(
            name,
            centres,
            labels,
            {view: np.array(entry[view]["mean_db"], dtype=float) for view in VIEWS},
            {view: np.maximum(np.array(entry[view]["spread_db"], dtype=float), SPREAD_FLOOR_DB) for view in VIEWS},
        )
        for name, entry in document["types"].items()
    }


def band_names() -> list[str]:
    """The nominal band labels of the tone shape the references were fitted on."""
    return list(reference_document()["bands_hz"])


def _shape_of(flat: Mapping[str, Any], names: list[str]) -> np.ndarray | None:
    values = [flat.get(f"tone_shape_db.{name}") for name in names]
    if all(value is None for value in values):
        return None
    return np.array([np.nan if value is None else float(value) for value in values])


#: Nominal band labels differ from the exact centres by up to 3 %; ranges are widened by this factor.
BAND_SLACK = 1.06


def _largest(z: np.ndarray, bands: np.ndarray, low: float, high: float) -> int | None:
    inside = np.flatnonzero(_within(bands, low, high) & np.isfinite(z))
    return int(inside[np.argmax(z[inside])]) if len(inside) else None


#: The metrics :func:`judge_tone` derives (None when the track has no tone shape).
OUTPUTS = (
    "tone_reference",
    "mud_ref_z",
    "mud_ref_hz",
    "mud_ref_db",
    "harsh_ref_z",
    "harsh_ref_hz",
    "harsh_ref_db",
    "dark_ref_z",
    "sibilance_ref_z",
    "harsh_own_z",
)


#: The track type whose reference is of music only: a speech programme on it (a podcast master) is not judged
#: against it.
MUSIC_ONLY = "master"


def judge_tone(flat: Mapping[str, Any], track_type: str, speech_pause_fraction: float | None = None) -> tuple[Any, ...]:
    """The tone against the type's reference (the pooled one for a type without its own): see :func:`judge_shape`;
    all None when the track has no tone shape, or when it is a master whose programme pauses in more than
    ``speech_pause_fraction`` of its frames (speech: the master references are of mixed music)."""
    refs = references()
    ref = refs.get(track_type) or refs.get(POOLED)
    shape = _shape_of(flat, band_names()) if ref is not None else None
    pauses = flat.get("pause_fraction")
    speech = (
        track_type == MUSIC_ONLY
        and pauses is not None
        and speech_pause_fraction is not None
        and float(pauses) >= speech_pause_fraction
    )
    if ref is None or shape is None or speech:
        return (None,) * len(OUTPUTS)
    harsh_hz = flat.get("harsh_hz")
    return judge_shape(shape, ref, harsh_hz=float(harsh_hz) if harsh_hz is not None else None)


def judge_shape(shape: np.ndarray, ref: Reference, *, harsh_hz: float | None = None) -> tuple[Any, ...]:
    """The values of :data:`OUTPUTS` for one tone shape: the largest low-mid and upper-mid standard scores
    (where, and how many dB above the reference mean), how much darker than normal the top end falls, how
    far the S-sound range (5-10 kHz) stands above normal, and how far the band of ``harsh_hz`` (the peak of
    the upper mids over the track's own envelope, when measured) stands above normal: an own peak that is the
    instrument's usual one (an overdriven guitar's 2 kHz) is not where its harshness is to be cut."""
    shape = shape - np.nanmedian((shape - ref.mean["shape"])[_within(ref.bands_hz, *OFFSET_RANGE_HZ)])
    seen = views(shape)
    diff = {view: seen[view] - ref.mean[view] for view in VIEWS}
    z = {view: diff[view] / ref.spread[view] for view in VIEWS}
    bump = np.fmax(z["shape"], z["local"])
    result: list[Any] = [ref.name]
    for low, high in (MUD_RANGE_HZ, HARSH_RANGE_HZ):
        at = _largest(bump, ref.bands_hz, low, high)
        if at is None:
            result += [None, None, None]
        else:
            above = diff["shape"][at] if z["shape"][at] >= z["local"][at] else diff["local"][at]
            result += [float(bump[at]), float(ref.labels_hz[at]), float(max(above, 0.0))]
    result.append(_darkness(z, ref.bands_hz, LOW_TOP_RANGE_BY_TYPE_HZ.get(ref.name, LOW_TOP_RANGE_HZ)))
    sibilant = z["shape"][_within(ref.bands_hz, *SIBILANT_RANGE_HZ)]
    result.append(float(np.nanmax(sibilant)) if np.isfinite(sibilant).any() else None)
    own = None
    if harsh_hz is not None and harsh_hz > 0:
        nearest = int(np.argmin(np.abs(np.log2(ref.bands_hz / harsh_hz))))
        own = float(bump[nearest]) if np.isfinite(bump[nearest]) else None
    result.append(own)
    return tuple(result)


def fitted(name: str, labels: list[str], shapes: np.ndarray) -> Reference:
    """A reference fitted on clean shapes (sources x bands, NaN where a band is not measured): each shape is
    offset to the others' median as :func:`judge_shape` offsets a track's, then each view's mean and spread."""
    label_hz = np.array(labels, dtype=float)
    centres = 1000.0 * 2.0 ** (np.round(3.0 * np.log2(label_hz / 1000.0)) / 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a band no source reaches stays NaN
        centre = np.nanmean(shapes, axis=0)
        middle = _within(centres, *OFFSET_RANGE_HZ)
        shapes = shapes - np.nanmedian((shapes - centre)[:, middle], axis=1, keepdims=True)
        seen = [views(shape) for shape in shapes]
        stacks = {view: np.vstack([s[view] for s in seen]) for view in VIEWS}
        mean = {view: np.nanmean(stack, axis=0) for view, stack in stacks.items()}
        spread = {view: np.nanstd(stack, axis=0) for view, stack in stacks.items()}
    floored = {view: np.maximum(values, SPREAD_FLOOR_DB) for view, values in spread.items()}
    return Reference(name, centres, label_hz, mean, floored)


def to_document(ref: Reference, sources: list[str]) -> dict[str, Any]:
    """One reference as the file stores it (rounded, NaN as null)."""

    def numbers(values: np.ndarray) -> list[float | None]:
        return [round(float(v), 2) if np.isfinite(v) else None for v in values]

    return {"sources": sources} | {
        view: {"mean_db": numbers(ref.mean[view]), "spread_db": numbers(ref.spread[view])} for view in VIEWS
    }


def _darkness(z: Mapping[str, np.ndarray], bands: np.ndarray, low_range: tuple[float, float]) -> float | None:
    """How much steeper the top end falls than normal (the steepest drop's standard score) and, both at once,
    how much lower it sits (the lowest band's, within ``low_range``): the smaller of the two, so a bright
    instrument's own edge (steep, not low) or a dark instrument's gentle slope (low, not steep) does not count
    as dull."""
    steep = -z["slope"][_within(bands, *TOP_RANGE_HZ)]
    low = -z["shape"][_within(bands, *low_range)]
    if not (np.isfinite(steep).any() and np.isfinite(low).any()):
        return None
    return float(min(np.nanmax(steep), np.nanmax(low)))


def _within(bands: np.ndarray, low: float, high: float) -> np.ndarray:
    """The bands whose centres lie in ``low``..``high`` Hz (nominal edges: 1/3-octave centres are not round)."""
    return (bands >= low / BAND_SLACK) & (bands <= high * BAND_SLACK)
