"""Track types: DAW names and aliases map onto the nine canonical types; the unknown is said to be unknown."""

from __future__ import annotations

import pytest

from codette_lab.tracktypes import GENERIC, TRACK_TYPES, resolve_track_type

CASES = [
    ("vocal", "vocal"),
    ("Vocals", "vocal"),
    ("VOX", "vocal"),
    ("voice", "vocal"),
    ("Lead Vocal", "vocal"),
    ("lead_vocal", "vocal"),
    ("BV", "vocal"),
    ("backing-vocals", "vocal"),
    ("drums", "drums"),
    ("Kick", "drums"),
    ("snare", "drums"),
    ("Hats", "drums"),
    ("toms", "drums"),
    ("overheads", "drums"),
    ("percussion", "drums"),
    ("bass", "bass"),
    ("Bass Guitar", "bass"),
    ("sub", "bass"),
    ("808", "bass"),
    ("guitar", "guitar"),
    ("gtr", "guitar"),
    ("Electric Guitar", "guitar"),
    ("acoustic", "guitar"),
    ("keys", "keys"),
    ("piano", "keys"),
    ("Keyboard", "keys"),
    ("organ", "keys"),
    ("Rhodes", "keys"),
    ("synth", "synth"),
    ("instrument", "synth"),
    ("pad", "synth"),
    ("lead", "synth"),
    ("master", "master"),
    ("mix", "master"),
    ("Mastering", "master"),
    ("bus", "bus"),
    ("group", "bus"),
    ("aux", "bus"),
    ("submix", "bus"),
    ("audio", "audio"),
]


@pytest.mark.parametrize(("given", "canonical"), CASES)
def test_aliases_map_to_canonical_types(given: str, canonical: str):
    match = resolve_track_type(given)
    assert (match.canonical, match.recognised, match.given) == (canonical, True, given)


def test_longer_names_find_the_most_specific_alias():
    assert resolve_track_type("Lead Vocal 2").canonical == "vocal"  # not "lead" -> synth
    assert resolve_track_type("Kick In").canonical == "drums"
    assert resolve_track_type("Synth Bass").canonical == "bass"


def test_the_track_name_is_used_when_the_type_says_nothing():
    assert resolve_track_type(None, track_name="Lead Vox").canonical == "vocal"
    assert resolve_track_type("", track_name="Piano L").canonical == "keys"


def test_unknown_types_become_generic_and_unrecognised():
    match = resolve_track_type("didgeridoo", track_name="Track 7")
    assert (match.canonical, match.recognised, match.given) == (GENERIC, False, "didgeridoo")
    assert resolve_track_type(None).recognised is False
    assert resolve_track_type("didgeridoo", track_name="Lead Vocal").canonical == GENERIC  # a given type wins


def test_every_canonical_type_is_listed():
    assert TRACK_TYPES == ("vocal", "drums", "bass", "guitar", "keys", "synth", "master", "bus", "audio")
