"""Track types: the nine kinds of track the rules know, and the many names DAWs give them.

A DAW may send ``"Vocals"``, ``"lead vox"``, ``"808"`` or ``"Kick In"``; the
rules are written for canonical types (``vocal``, ``drums``, ``bass``, ...).
:func:`resolve_track_type` maps a type (or, failing that, a track name) onto
one of them, and says when it could not, so the analysis can tell the user
that generic advice was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The generic type, used for anything not recognised.
GENERIC = "audio"

#: Canonical track type -> the other names it is known by (lower case, words separated by spaces).
ALIASES: dict[str, tuple[str, ...]] = {
    "vocal": (
        "vocals", "vox", "voice", "voices", "lead vocal", "lead vocals", "lead vox", "vocal lead", "bv",
        "bvs", "backing vocal", "backing vocals", "backing vox", "harmony", "harmonies", "choir", "singer",
        "rap", "dialogue", "voiceover", "voice over", "narration", "speech", "podcast voice",
    ),
    "drums": (
        "drum", "kick", "kick drum", "bass drum", "snare", "snare drum", "hats", "hat", "hihat", "hi hat",
        "hi hats", "hihats", "toms", "tom", "overheads", "overhead", "oh", "room", "rooms", "cymbals",
        "cymbal", "ride", "crash", "percussion", "perc", "clap", "claps", "shaker", "drum kit", "kit",
        "beat", "loop", "drum loop",
    ),
    "bass": (
        "bass guitar", "electric bass", "sub", "sub bass", "808", "synth bass", "bassline", "bass line",
        "upright bass", "double bass", "contrabass", "di bass",
    ),
    "guitar": (
        "guitars", "gtr", "gtrs", "gt", "electric guitar", "acoustic", "acoustic guitar", "rhythm guitar",
        "lead guitar", "clean guitar", "distorted guitar", "ukulele", "banjo", "mandolin",
    ),
    "keys": (
        "key", "keyboard", "keyboards", "piano", "grand piano", "upright piano", "epiano", "e piano",
        "electric piano", "organ", "hammond", "b3", "rhodes", "wurlitzer", "wurli", "clavinet", "clav",
        "harpsichord",
    ),
    "synth": (
        "synths", "synthesizer", "synthesiser", "instrument", "instruments", "pad", "pads", "lead",
        "synth lead", "arp", "arpeggio", "pluck", "plucks", "strings", "string", "brass", "horns", "horn",
        "fx", "sfx", "texture",
    ),
    "master": ("mix", "master bus", "mix bus", "mixbus", "stereo bus", "2 bus", "two bus", "mastering", "main",
               "main out", "output", "stereo out", "final mix", "mixdown"),
    "bus": ("buss", "group", "aux", "auxiliary", "submix", "sub mix", "stem", "return", "send", "fx return",
            "drum bus", "vocal bus", "folder"),
    "audio": ("generic", "track", "audio track", "other", "unknown"),
}

#: Every canonical type, in the order the rules document them.
TRACK_TYPES: tuple[str, ...] = tuple(ALIASES)

_LOOKUP: dict[str, str] = {
    **{alias: canonical for canonical, aliases in ALIASES.items() for alias in aliases},
    **{canonical: canonical for canonical in ALIASES},
}
#: Aliases tried inside longer names ("Lead Vocal 2", "Kick In"), longest first so "lead vocal" beats "lead".
_BY_LENGTH = sorted(_LOOKUP, key=lambda alias: (-len(alias.split()), -len(alias)))


@dataclass(frozen=True)
class TrackTypeMatch:
    """How a track's type was read: ``canonical`` always names one of :data:`TRACK_TYPES`.

    ``given`` is what the request said (None when nothing was said) and
    ``recognised`` is False when neither the type nor the name matched anything
    (the analysis then gives generic advice and says so).
    """

    canonical: str
    given: str | None
    recognised: bool


def normalise(name: str) -> str:
    """Lower case, with words split on spaces, dashes, underscores, dots, slashes and brackets."""
    return " ".join(re.split(r"[\s_\-./()\[\]#:]+", name.strip().lower())).strip()


def _match(name: str) -> str | None:
    words = normalise(name)
    if not words:
        return None
    if words in _LOOKUP:
        return _LOOKUP[words]
    padded = f" {words} "
    for alias in _BY_LENGTH:
        if f" {alias} " in padded:
            return _LOOKUP[alias]
    return None


def resolve_track_type(track_type: str | None, *, track_name: str | None = None) -> TrackTypeMatch:
    """The canonical type for ``track_type`` (aliases accepted), else generic.

    Only when the request gives no type at all is it guessed from ``track_name``
    ("Lead Vox" -> vocal); a type that is given but unknown stays unknown.
    """
    if track_type:
        canonical = _match(track_type)
        if canonical is not None:
            return TrackTypeMatch(canonical=canonical, given=track_type, recognised=True)
    if track_name and not track_type:
        canonical = _match(track_name)
        if canonical is not None and canonical != GENERIC:  # "Track 7" says nothing about the type
            return TrackTypeMatch(canonical=canonical, given=track_type, recognised=True)
    return TrackTypeMatch(canonical=GENERIC, given=track_type, recognised=False)


def canonical_track_type(track_type: str | None, *, track_name: str | None = None) -> str:
    """Just the canonical name: ``canonical_track_type("Vox")`` is ``"vocal"``."""
    return resolve_track_type(track_type, track_name=track_name).canonical
