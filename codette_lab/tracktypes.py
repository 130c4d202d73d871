"""Track types and instruments: the one table of the names DAWs and people give a track's sound.

A DAW may send ``"Vocals"``, ``"lead vox"``, ``"808"`` or ``"Kick In"``; the
rules are written for nine canonical track types (``vocal``, ``drums``,
``bass``, ...), while chat tells finer instruments apart (``kick``, ``snare``,
``cymbals`` are all ``drums``). :data:`INSTRUMENTS` is the single table both
read: each instrument, the track type it belongs to and every other name it
goes by. :func:`resolve_track_type` maps a type (or, failing that, a track
name) onto it and says when it could not, so the analysis can tell the user
that generic advice was given; chat's question vocabulary is built from
:func:`spoken_aliases`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

#: The generic type, used for anything not recognised.
GENERIC = "audio"

#: Instrument -> (its track type, the other names it is known by: lower case, words separated by spaces).
#: The nine track types come first, in the order the rules document them; each is an instrument of itself.
INSTRUMENT_TABLE: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "vocal": ("vocal", (
        "vocals", "vox", "voice", "voices", "lead vocal", "lead vocals", "lead vox", "vocal lead", "bv", "bvs",
        "backing vocal", "backing vocals", "backing vox", "background vocals", "harmony vocals", "backingvocal",
        "harmony", "harmonies", "choir", "singer", "singers", "singing", "vocalist", "rap", "rapper", "adlibs",
        "dialogue", "voiceover", "voice over", "narration", "speech", "podcast voice",
    )),
    "drums": ("drums", (
        "drum", "kit", "kits", "drum kit", "percussion", "perc", "clap", "claps", "shaker", "beat", "loop",
        "drum loop",
    )),
    "bass": ("bass", (
        "basses", "bass guitar", "electric bass", "sub", "sub bass", "808", "808s", "synth bass", "bassline",
        "basslines", "bass line", "upright bass", "double bass", "contrabass", "di bass", "base",
    )),
    "guitar": ("guitar", (
        "guitars", "gtr", "gtrs", "gt", "electric guitar", "acoustic", "acoustic guitar", "rhythm guitar",
        "lead guitar", "clean guitar", "distorted guitar", "ukulele", "banjo", "mandolin",
    )),
    "keys": ("keys", (
        "key", "keyboard", "keyboards", "epiano", "e piano", "electric piano", "ep", "organ", "organs",
        "hammond", "b3", "rhodes", "wurlitzer", "wurli", "clavinet", "clav", "harpsichord",
    )),
    "synth": ("synth", (
        "synths", "synthesizer", "synthesizers", "synthesiser", "instrument", "instruments", "pad", "pads",
        "lead", "synth lead", "arp", "arps", "arpeggio", "pluck", "plucks", "strings", "string", "brass",
        "horns", "horn", "fx", "sfx", "texture",
    )),
    "master": ("master", (
        "masters", "mastering", "mastered", "mix", "master bus", "master fader", "mix bus", "mix buss", "mixbus",
        "stereo bus", "2 bus", "two bus", "main", "main out", "output", "stereo out", "final mix", "mixdown",
    )),
    "bus": ("bus", (
        "buss", "buses", "busses", "group", "groups", "aux", "auxiliary", "submix", "submixes", "sub mix",
        "stem", "return", "send", "fx return", "drum bus", "drum buss", "drumbus", "vocal bus", "folder",
    )),
    "audio": ("audio", ("generic", "track", "audio track", "other", "unknown")),
    "kick": ("drums", ("kicks", "kick drum", "bass drum", "bd", "kik")),
    "snare": ("drums", ("snares", "snare drum", "rimshot")),
    "toms": ("drums", ("tom", "floor tom", "rack tom")),
    "overheads": ("drums", ("overhead", "oh", "ohs", "room", "rooms", "room mic", "room mics", "roommic")),
    "cymbals": ("drums", (
        "cymbal", "hihat", "hihats", "hi hat", "hi hats", "high hat", "hats", "hat", "ride", "ride cymbal",
        "crash", "crash cymbal",
    )),
    "piano": ("keys", ("pianos", "grand piano", "upright piano")),
}  # fmt: skip

#: Names that mark a track's type in a DAW but mean something else in a sentence ("mix the vocals", "the
#: lead", "room acoustics", "a reverb send"; "strings" and "brass" are an orchestra's, not a synth's, in a
#: question): chat does not read them as instruments in a question.
NAME_ONLY: frozenset[str] = frozenset({
    "mix", "main", "output", "main out", "stereo out", "final mix", "mixdown", "instrument", "instruments", "lead",
    "texture", "fx", "sfx", "sub", "sub bass", "sub mix", "key", "acoustic", "gt", "room", "rooms", "ride", "beat",
    "loop", "send", "return", "stem", "folder", "harmony", "harmonies", "speech", "generic", "track", "audio track",
    "other", "unknown", "strings", "string", "brass", "horns", "horn",
})  # fmt: skip

#: Every canonical type, in the order the rules document them.
TRACK_TYPES: tuple[str, ...] = tuple(dict.fromkeys(track_type for track_type, _ in INSTRUMENT_TABLE.values()))

#: Instrument -> its track type (``kick`` -> ``drums``, ``vocal`` -> ``vocal``).
INSTRUMENTS: Mapping[str, str] = {name: track_type for name, (track_type, _) in INSTRUMENT_TABLE.items()}

_LOOKUP: dict[str, str] = {
    **{alias: name for name, (_, aliases) in INSTRUMENT_TABLE.items() for alias in aliases},
    **{name: name for name in INSTRUMENT_TABLE},
}
#: Aliases tried inside longer names ("Lead Vocal 2", "Kick In"): more words first, so "lead vocal" beats
#: "lead", then longer, then in table order. A name is read by looking up its word runs (a few per name),
#: so the cost does not grow with the table.
_RANK = {
    alias: rank for rank, alias in enumerate(sorted(_LOOKUP, key=lambda alias: (-len(alias.split()), -len(alias))))
}
_MOST_WORDS = max(len(alias.split()) for alias in _LOOKUP)


@dataclass(frozen=True)
class TrackTypeMatch:
    """How a track's type was read: ``canonical`` always names one of :data:`TRACK_TYPES`.

    ``given`` is what the request said (None when nothing was said);
    ``recognised`` is False when neither the type nor the name matched anything
    (the analysis then gives generic advice and says so); ``instrument`` is the
    instrument matched (``kick`` for a track named "Kick In"), None for the
    generic type and when nothing was recognised.
    """

    canonical: str
    given: str | None
    recognised: bool
    instrument: str | None = None


_SEPARATORS = re.compile(r"[\s_\-./()\[\]#:]+")


def normalise(name: str) -> str:
    """Lower case, with words split on spaces, dashes, underscores, dots, slashes and brackets."""
    return " ".join(_SEPARATORS.split(name.strip().lower())).strip()


@lru_cache(maxsize=4096)  # a DAW sends the same few dozen names with every request
def _match(name: str, *, unambiguous: bool = False) -> str | None:
    """The instrument a type or name says: its best-ranked alias (``unambiguous``: none of :data:`NAME_ONLY`)."""
    words = normalise(name).split()
    for size in range(min(_MOST_WORDS, len(words)), 0, -1):
        runs = (" ".join(words[start : start + size]) for start in range(len(words) - size + 1))
        found = [run for run in runs if run in _LOOKUP and not (unambiguous and run in NAME_ONLY)]
        if found:
            return _LOOKUP[min(found, key=_RANK.__getitem__)]
    return None


def resolve_track_type(track_type: str | None, *, track_name: str | None = None) -> TrackTypeMatch:
    """The canonical type for ``track_type`` (aliases accepted), else generic.

    The name is read when the request gives no type at all ("Lead Vox" ->
    vocal), and when it gives the generic type itself, then only for a name
    that says an instrument unambiguously ("Audio" tracks named "Lead Vox" are
    vocals, one named "Lead" stays generic). A type that is given but unknown
    stays unknown, and a name that matches only the generic type ("Track 7")
    says nothing either.
    """
    given = _match(track_type) if track_type else None
    if given is not None and INSTRUMENTS[given] != GENERIC:
        return TrackTypeMatch(canonical=INSTRUMENTS[given], given=track_type, recognised=True, instrument=given)
    if track_name and (not track_type or given is not None):
        named = _match(track_name, unambiguous=bool(track_type))
        if named is not None and INSTRUMENTS[named] != GENERIC:
            return TrackTypeMatch(canonical=INSTRUMENTS[named], given=track_type, recognised=True, instrument=named)
    if given is not None:
        return TrackTypeMatch(canonical=GENERIC, given=track_type, recognised=True)
    return TrackTypeMatch(canonical=GENERIC, given=track_type, recognised=False)


def canonical_track_type(track_type: str | None, *, track_name: str | None = None) -> str:
    """Just the canonical name: ``canonical_track_type("Vox")`` is ``"vocal"``."""
    return resolve_track_type(track_type, track_name=track_name).canonical


def spoken_aliases() -> dict[str, str]:
    """Alias -> instrument for the names that mean an instrument in a sentence too (not :data:`NAME_ONLY`).

    The generic type is no instrument to talk about, so none of its names are included.
    """
    return {
        alias: name
        for name, (track_type, aliases) in INSTRUMENT_TABLE.items()
        if track_type != GENERIC
        for alias in (name, *aliases)
        if alias not in NAME_ONLY
    }


def page_table() -> dict[str, object]:
    """This table as the join page reads it (``page/static/tracktypes.json``): the canonical types,
    instrument -> type, and every ``[alias, instrument]`` pair, best ranked first (the order :func:`_match`
    prefers among word runs of the same length)."""
    return {
        "generic": GENERIC,
        "track_types": list(TRACK_TYPES),
        "instruments": dict(INSTRUMENTS),
        "aliases": [[alias, _LOOKUP[alias]] for alias in sorted(_LOOKUP, key=_RANK.__getitem__)],
    }
