"""The realistic fault corpus (scripts/fault_real.py): sampled instruments, recorded kits, voices of every kind.

``make advice`` runs all of it and writes its figures into docs/advice.md; this test runs the cases whose
behaviour holds on material no threshold was tuned on, and checks the corpus itself: every source renders
with the installed tools, every injected fault passes its independent check, a track of hiss (white, pink,
or with mains hum) is a routing problem and never a gain move, no cut goes deeper than the rules' limit, and
every answer on the corpus passes the consistency check of tests/consistency.py.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from consistency import crest_problems, eq_problems, gain_direction_problems
from corpus_material import needs_realistic_renderers, project_script

from codette_lab.rules import RuleSet

real = project_script("fault_real")
clipping = project_script("fault_real_clipping")
pytestmark = needs_realistic_renderers()

CASES = real.cases()
SUBSET = [
    rc
    for rc in CASES
    if rc.case.fault in ("hiss_only", "too_loud", "too_quiet", "rumble")
    or (rc.case.fault in ("mud", "harsh", "dull", "sibilance") and rc.case.sr == 44100)
]


def test_the_corpus_is_split_by_source_and_covers_every_family_rate_and_layout():
    sources = real.SOURCES
    assert {source.split for source in sources.values()} == {"fit", "validation"}
    for family in ("gm", "hydrogen", "espeak", "festival", "recorded", "song"):
        splits = {source.split for source in sources.values() if source.family == family}
        assert splits == {"fit", "validation"}, family
    assert {rc.case.sr for rc in CASES} == {44100, 48000}
    faults = {rc.case.fault for rc in CASES if rc.case.fault != "clean"}
    assert {"mud", "harsh", "dull", "sibilance", "hiss_only", "too_loud", "too_quiet", "rumble"} <= faults
    severities = {rc.name.split("-")[0] for rc in CASES if rc.case.fault == "mud"}
    assert severities == {"mud9", "mud6"}


def test_validation_instruments_come_from_three_banks_and_the_fitting_hears_one():
    """Another bank's piano is another recording of the same instrument: a validation program is rendered from
    every bank (is what was fitted on FluidR3 right about TimGM6mb's and MuseScore's instruments?), a fit program
    from FluidR3 alone, so no validation instrument reaches the fitting through a second bank."""
    sources = project_script("fault_real_sources")
    banks: dict[tuple[str, str], set[str]] = {}
    for source in real.SOURCES.values():
        if source.family == "gm":
            banks.setdefault((source.instrument, source.split), set()).add(source.bank)
    assert len({instrument for instrument, _ in banks}) == len(banks)  # one split per program
    for (_, split), found in banks.items():
        assert found == (set(sources.BANKS) if split == "validation" else {""})
    assert len(sources.BANKS) == 3


def test_the_corpus_answers_the_same_on_a_dask_cluster():
    """``make advice`` spreads the cases over a local Dask cluster (codette_lab.corpus's, a worker process per
    core): its workers import the scripts, render what is not cached yet and answer as this process does."""
    from codette_lab.corpus.run import connected

    chosen = [rc for rc in CASES if rc.source == "gm-sitar-timgm" and rc.case.sr == 44100][:3]
    here = real.answers(chosen)
    with connected(None) as client:
        there = real.answers(chosen, client=client)
    assert there.keys() == here.keys()
    for name, wire in here.items():
        assert there[name]["problems_detected"] == wire["problems_detected"], name
        assert there[name]["quality_score"] == pytest.approx(wire["quality_score"], abs=1e-3), name
    sources = project_script("fault_real_sources")
    assert sources.CACHE.name == sources.RENDERS_FINGERPRINT  # renders of other code are never read
    assert not list(sources.CACHE.glob("*.part"))  # every render written whole


@pytest.fixture(scope="module")
def verdicts() -> dict[str, dict]:
    return {v["case"]: v for v in real.run(SUBSET)}


def test_every_fault_is_rendered_and_checked_by_an_independent_measurement(verdicts):
    assert len(verdicts) == len(SUBSET)  # render() raises when a fault fails its check


@pytest.mark.parametrize("name", [rc.name for rc in SUBSET if rc.case.fault == "hiss_only"])
def test_hiss_alone_is_a_routing_problem_never_a_gain_move(verdicts, name):
    verdict = verdicts[name]
    assert verdict["findings"] == ["no_programme"], verdict
    assert re.search("routing|record", verdict["remedy"]) and not re.search(r"\braise\b", verdict["remedy"], re.I)


@pytest.mark.parametrize("name", [rc.name for rc in SUBSET if rc.case.fault in ("too_loud", "too_quiet", "rumble")])
def test_level_loudness_and_rumble_faults_are_found_with_the_right_remedy(verdicts, name):
    verdict = verdicts[name]
    assert verdict["found"] and verdict["remedy_ok"], verdict


def test_no_cut_is_deeper_than_the_rules_allow_and_every_answer_is_consistent(verdicts):
    limit = RuleSet.default()["general.eq_cut_max_db"]
    for rc in SUBSET:
        suggestions = verdicts[rc.name]["suggestions"]
        text = " ".join(suggestions)
        for amount in re.findall(r"\bCut (\d+(?:\.\d+)?) dB", text):
            assert float(amount) <= limit, (rc.name, text)
        problems = eq_problems(suggestions, track=rc.source.title()) + gain_direction_problems(text)
        if rc.case.track_type != "master":
            problems += crest_problems(text, verdicts[rc.name]["metrics"].get("crest_factor_db"))
        assert not problems, (rc.name, problems)


def test_a_source_clipped_at_the_source_is_told_apart_from_the_clean_controls():
    t = np.arange(44100) / 44100
    sine = 0.9 * np.sin(2 * np.pi * 100 * t)
    assert clipping.flat_at_peak(sine) == 0
    assert clipping.flat_at_peak(np.clip(1.5 * sine, -0.9, 0.9)) > 10000  # every crest flat
    clipped = clipping.clipped_sources((rc.source, rc.case.sr) for rc in CASES)
    assert clipped, "the corpus holds a loop recorded clipped"
    for (source, sr), flat in clipped.items():
        rc = next(rc for rc in CASES if rc.source == source and rc.case.sr == sr and rc.case.fault == "clean")
        wire = real.analyze_case(rc)
        assert {problem["rule"] for problem in wire["problems_detected"]} & clipping.SOURCE_CLIP_RULES
        assert wire["metrics"]["clipped_samples"] >= clipping.FLAT_SAMPLES_MIN and flat >= clipping.FLAT_SAMPLES_MIN


#: The timbre rules (fitted on the fit split): what a clean voice must never be told.
TIMBRE_RULES = real.FITTED_RULES


#: The clean recordings of people the fitting never heard.
RECORDED_PEOPLE = [
    rc.name
    for rc in CASES
    if rc.case.fault == "clean" and rc.split == "validation" and real.SOURCES[rc.source].family == "recorded"
]


@pytest.mark.parametrize("name", RECORDED_PEOPLE)
def test_a_recorded_persons_clean_voice_is_called_neither_muddy_harsh_dull_nor_sibilant(name):
    """People the fitting never heard (a native speaker per language, a studio recording), each with their own
    microphone and room: their ordinary formants and S sounds are what a voice is, not faults. (Fitted on
    espeak-ng's voices alone, the references called most of them sibilant, harsh, dull or muddy.)"""
    wire = real.analyze_case(real.CASES_BY_NAME[name])
    found = {problem["rule"] for problem in wire["problems_detected"]}
    assert not found & TIMBRE_RULES, (name, found)


@pytest.mark.parametrize("name", RECORDED_PEOPLE)
def test_a_recorded_person_pausing_between_words_is_not_called_very_dynamic(name):
    """Letters and words said one at a time with silence between them: the silence pulls the RMS down and the
    crest factor of the whole recording up (24.5 dB for one of them), not the dynamics of the voice. (Judged on
    the whole recording's crest factor, two of these were told to compress.)"""
    wire = real.analyze_case(real.CASES_BY_NAME[name])
    assert "very_dynamic" not in {problem["rule"] for problem in wire["problems_detected"]}
