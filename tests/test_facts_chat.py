"""Chat and analysis read the same facts: level thresholds and trims from the rules, track types from one table.

Each test asks both sides about the same track through a real Engine (chat
with ``engine.chat``, analysis with an ``analyze`` frame through
``engine.respond``) and fails if they disagree, or if a rule change moves one
and not the other.
"""

from __future__ import annotations

import json
import re

import pytest

from codette_lab.chat import LEVEL_ANALYSIS_TYPE, DawContext
from codette_lab.engine import Engine
from codette_lab.knowledge import KnowledgeBase
from codette_lab.tracktypes import INSTRUMENT_TABLE, INSTRUMENTS, NAME_ONLY, TRACK_TYPES, resolve_track_type

NUMBER = r"(\d+(?:\.\d+)?) dB"


def chat_about(engine: Engine, track: dict) -> str:
    """Chat's answer about the selected track (a fresh session each time, so no follow-up wording)."""
    reply = engine.chat("What should I do with this track?", daw_context={"selected_track": track}, session=str(track))
    return reply.response


def analysis_of(engine: Engine, track: dict) -> dict:
    """The wire analysis of the same track's levels, for the analysis type chat's verdicts follow."""
    message = {
        "type": "analyze",
        "analysis_type": LEVEL_ANALYSIS_TYPE,
        "track_data": {"track_id": "t1", "track_name": track["name"], "track_type": track["type"]},
        "audio_data": {"peak_level": track["peak"], "rms_level": track["rms"], "duration": 60.0, "sample_rate": 48000},
    }
    return engine.respond(json.dumps(message))["analysis"]


def rules_fired(analysis: dict) -> set[str]:
    return {problem["rule"] for problem in analysis["problems_detected"]}


def test_chat_verdict_on_the_crest_factor_follows_the_rules():
    engine = Engine()
    track = {"name": "Lead Vox", "type": "vocal", "peak": -10.0, "rms": -29.0}  # crest 19 dB
    assert "a normal amount of dynamics" in chat_about(engine, track)
    assert "very_dynamic" not in rules_fired(analysis_of(engine, track))

    engine.rules["general.crest_max_db"] = 18.0
    assert "very dynamic" in chat_about(engine, track) and "over 18 dB" in chat_about(engine, track)
    assert "very_dynamic" in rules_fired(analysis_of(engine, track))

    dense = {"name": "Lead Vox", "type": "vocal", "peak": -10.0, "rms": -24.0}  # crest 14 dB
    assert "a normal amount of dynamics" in chat_about(engine, dense)
    engine.rules["general.crest_min_db"] = 15.0
    assert "already dense" in chat_about(engine, dense)
    assert "over_compressed" in rules_fired(analysis_of(engine, dense))


@pytest.mark.parametrize(
    ("track", "rule", "chat_words", "analysis_words"),
    [
        ({"name": "Lead Vox", "type": "vocal", "peak": -2.5, "rms": -20.0}, "headroom", "trimming about", "by about"),
        ({"name": "Vox", "type": "vocal", "peak": -0.4, "rms": -14.0}, "clipping_risk", "by about", "by about"),
        ({"name": "Gtr", "type": "Acoustic", "peak": 0.7, "rms": -12.0}, "clipping_risk", "by about", "by about"),
        ({"name": "Pad", "type": "keys", "peak": -30.0, "rms": -46.0}, "level_too_low", "by about", "by about"),
        ({"name": "Drum Bus", "type": "bus", "peak": -1.8, "rms": -14.0}, "bus_headroom", "by about", "by about"),
    ],
)
def test_chat_trims_by_the_figure_the_analysis_gives(track, rule, chat_words, analysis_words):
    engine = Engine()
    analysis = analysis_of(engine, track)
    assert rule in rules_fired(analysis)
    suggestion = next(text for text in analysis["mixing_suggestions"] if analysis_words in text)
    analysis_trim = re.search(rf"{analysis_words} {NUMBER}", suggestion).group(1)
    chat_trim = re.search(rf"{chat_words} {NUMBER}", chat_about(engine, track)).group(1)
    assert chat_trim == analysis_trim


def test_a_per_type_threshold_moves_chat_for_that_type_only():
    engine = Engine()
    bus = {"name": "Drum Bus", "type": "bus", "peak": -5.0, "rms": -17.0}
    vocal = {"name": "Lead Vox", "type": "vocal", "peak": -7.0, "rms": -19.0}
    assert "hot" not in chat_about(engine, bus) and "healthy" in chat_about(engine, vocal)

    engine.rules["bus.headroom_peak_dbfs"] = -8.0
    assert "a little hot for a bus" in chat_about(engine, bus) and "by about 3.0 dB" in chat_about(engine, bus)
    assert "bus_headroom" in rules_fired(analysis_of(engine, bus))
    assert "healthy" in chat_about(engine, vocal)  # the general headroom mark did not move


def test_a_quiet_peak_without_rms_follows_its_rule_parameter():
    engine = Engine()
    track = {"name": "Gtr L", "type": "guitar", "peak": -30.0}
    answer = chat_about(engine, track)
    assert "sits low" in answer and "by about 24.0 dB to peak around -6 dBFS" in answer
    engine.rules["general.quiet_peak_dbfs"] = -40.0
    assert "healthy" in chat_about(engine, track)


@pytest.mark.parametrize("levels", [{"peak": -120.0, "rms": -120.0}, {"peak": -1000.0}])
def test_an_empty_track_is_told_as_the_analysis_tells_it_with_no_headroom_or_gain_figures(levels):
    """A DAW's meter at its floor (an empty track, the transport stopped): chat says what the analysis says
    (no programme: check the routing) and none of "120 dB of headroom", "raise its clip gain by 994 dB"."""
    engine = Engine()
    track = {"name": "Vox", "type": "vocal", "rms": None, **levels}
    answer = chat_about(engine, track)
    assert "no_programme" in rules_fired(analysis_of(engine, track))
    assert "holds no programme material, no signal" in answer and "check its input routing" in answer
    assert not re.search(r"headroom|raise its|crest factor|sits low", answer), answer


# -- one table of track-type names ---------------------------------------------------------------------


ALIASES = [(alias, name) for name, (_, aliases) in INSTRUMENT_TABLE.items() for alias in (name, *aliases)]


@pytest.mark.parametrize(("alias", "instrument"), ALIASES)
def test_every_alias_is_the_same_track_type_for_chat_and_analysis(alias, instrument):
    analysis = resolve_track_type(alias)
    assert analysis.canonical == INSTRUMENTS[instrument]
    for field in ("type", "name"):
        track = DawContext.from_mapping({"selected_track": {field: alias.title()}}).selected_track
        assert track.track_type == analysis.canonical, (field, alias)
        assert track.instrument == (instrument if analysis.canonical in TRACK_TYPES[:-1] else None)
    if alias not in NAME_ONLY and INSTRUMENTS[instrument] != "audio":
        named = KnowledgeBase.builtin().parse(f"how should I mix the {alias}?").instruments
        assert named == (instrument,), alias


def test_the_names_the_two_tables_used_to_disagree_on():
    expected = {"Acoustic": ("guitar", "guitar"), "Strings": ("synth", "synth"), "Hi Hat": ("cymbals", "drums")}
    for name, (instrument, track_type) in expected.items():
        track = DawContext.from_mapping({"selected_track": {"name": "Track 3", "type": name}}).selected_track
        assert (track.instrument, track.track_type) == (instrument, track_type)
        assert resolve_track_type(name).canonical == track_type
    # in a question "strings" are an orchestra's (the entry on strings and brass answers), no synth
    assert KnowledgeBase.builtin().parse("how do I EQ strings and a hi-hat?").instruments == ("cymbals",)


@pytest.mark.parametrize(
    ("levels", "read"),
    [
        ({"peak": -1e308}, (-1000.0, None)),  # silence, however deep
        ({"peak": 1e308, "rms": -20.0}, (None, -20.0)),  # no meter shows that peak
        ({"peak": -20.0, "rms": -6.0}, (-20.0, None)),  # an RMS over the peak: one of them is wrong
        ({"peak": -6.0, "rms": -3.5}, (-6.0, -3.5)),  # an AES-17 meter reads a square wave 3 dB over its peak
    ],
)
def test_daw_context_levels_are_read_leniently_as_an_analysis_would_read_them(levels, read):
    """Chat reads daw_context leniently: what an analyze request would refuse is left out or floored, never
    quoted as a 300-digit peak or judged as a crest factor of -14 dB."""
    track = DawContext.from_mapping({"selected_track": {"name": "Vox", "type": "vocal", **levels}}).selected_track
    assert (track.peak_db, track.rms_db) == read


@pytest.mark.parametrize(("levels", "source"), [({"lufs": -9.5}, "measured"), ({}, "estimated from RMS")])
def test_a_masters_loudness_is_judged_against_the_target_as_the_analysis_judges_it(levels, source):
    """Asked "Is my master loud enough for Spotify?" with a master selected, chat says how far it is from the
    streaming target and by how much to lower the limiter, the figure a levels-only analysis gives, from the
    loudness the DAW reports or else estimated from its RMS."""
    engine = Engine()
    track = {"name": "Mix", "type": "master", "peak": -1.2, "rms": -9.0, **levels}
    answer = engine.chat("Is my master loud enough for Spotify?", daw_context={"selected_track": track}).response
    message = {
        "type": "analyze",
        "analysis_type": "loudness",
        "track_data": {"track_name": "Mix", "track_type": "master"},
        "audio_data": {"peak_level": -1.2, "rms_level": -9.0},
    }
    analysis = engine.respond(json.dumps(message))["analysis"]
    if "lufs" not in levels:  # the analysis estimates from the RMS as chat does
        assert "too_loud" in rules_fired(analysis)
        lower = re.search(r"Lower the limiter input by about (\d+\.\d) dB", " ".join(analysis["mixing_suggestions"]))
        assert lower and f"by about {lower.group(1)} dB" in answer
    assert "Mix is too loud for the streaming target" in answer and f"({source})" in answer
    assert "Lower the limiter input by about" in answer
