"""Advice a mixing engineer would sign, on the fault corpus (scripts/make_fault_corpus.py, scripts/fault_cases.py).

Every case is rendered in memory (5 s, 44.1 and 48 kHz; each fault checked by an independent measurement at
render time) and analyzed once per session with the built-in ``quality`` type. Each fault must be reported by
the right rule, with a remedy that names the move, frequency and amount the injection calls for (and not the
wrong move); every clean control of every track type and programme must get no finding at all; each fault
must score below the clean control of its stem.
"""

from __future__ import annotations

import dataclasses

import pytest
from corpus_material import project_script

from codette_lab.rules import RuleSet

corpus = project_script("make_fault_corpus")
CASES = corpus.CASES
FAULTS = [case for case in CASES if case.fault != "clean"]
CONTROLS = [case for case in CASES if case.fault == "clean"]

#: A build-up found but placed wrong (docs/advice.md lists it): a +10 dB bell at 400 Hz on a sung vocal whose
#: fundamentals sit at 196-330 Hz is reported (its low mids stand over its presence range), but the cut is
#: put on the fundamentals near 280 Hz. Strict: it fails the suite once it passes.
KNOWN_MISSES = {"mud-vocal-48000"}

#: Faults given up for the realistic corpus (docs/advice.md): the own-envelope harshness rule now needs the
#: upper mids to stand out of the type's reference envelope too (``type.harsh_ref_gate_z``), and these synthetic
#: bells stand no further out of it than clean sampled instruments do (a square lead's and a saw lead's upper
#: mids, a bright voice's formants, a bright master); and the synthetic voice's upper-mid bell and loud S sounds
#: stand no further out of the vocal reference than recorded people's voices do, or their ordinary S sounds
#: (a voice's sibilance threshold sits above those). Strict: each fails the suite once it is found again.
GIVEN_UP = {
    "harsh-pad-44100",
    "harsh-master-48000",
    "presence_peak-vocal-44100",
    "presence_peak-vocal-48000",
    "harsh-vocal-44100",
    "sibilance-vocal-44100",
    "sibilance-vocal-48000",
}


@pytest.fixture(scope="session")
def verdicts() -> dict[str, dict]:
    return {verdict["case"]: verdict for verdict in corpus.run_all()}


def test_the_table_covers_every_fault_kind_track_type_rate_and_programme():
    assert len(CASES) >= 50
    kinds = {case.fault for case in FAULTS}
    assert {
        "dull",
        "mud",
        "harsh",
        "presence_peak",
        "over_widened",
        "polarity",
        "hiss_only",
        "kick_masked",
        "quiet",
        "too_loud",
        "too_quiet",
        "true_peak",
        "clipped",
        "dc",
        "rumble",
        "sibilance",
        "soft_clipped",
    } <= kinds
    assert {case.track_type for case in CONTROLS} == {
        "vocal",
        "drums",
        "bass",
        "guitar",
        "keys",
        "synth",
        "master",
        "bus",
        "audio",
    }
    assert {(case.stem, case.sr) for case in CONTROLS} >= {("master", 44100), ("podcast", 48000)}
    assert {case.sr for case in CASES} == {44100, 48000}


@pytest.mark.parametrize("case", FAULTS, ids=lambda case: case.name)
def test_each_fault_is_reported_with_the_measured_remedy_and_scores_below_its_control(case, verdicts, request):
    if case.name in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="build-up inside the part's own notes"))
    if case.name in GIVEN_UP:
        request.applymarker(pytest.mark.xfail(strict=True, reason="within what clean sampled instruments show"))
    verdict = verdicts[case.name]
    assert verdict["found"], f"{case.name}: expected one of {case.rules}, found {verdict['findings']}"
    assert verdict["remedy_ok"], f"{case.name}: {verdict['remedy_problems']} in {verdict['remedy']!r}"
    assert verdict["below_control"], f"{case.name}: {verdict['score']} not below {verdict['control_score']}"


@pytest.mark.parametrize("case", CONTROLS, ids=lambda case: case.name)
def test_clean_controls_get_no_finding(case, verdicts):
    assert verdicts[case.name]["findings"] == []
    # nothing found: only the tonal balance's lean against real instruments may cost it, never past its cap
    assert verdicts[case.name]["score"] >= 1.0 - RuleSet.default()["general.balance_cost_max"]


def test_the_targets_of_the_issue_are_met(verdicts):
    faults = [verdicts[case.name] for case in FAULTS]
    kept = [v for v in faults if v["case"] not in GIVEN_UP]
    assert [v["case"] for v in faults if not v["found"]] == sorted(GIVEN_UP, key=[v["case"] for v in faults].index)
    assert sum(v["remedy_ok"] for v in kept) / len(kept) >= 0.95
    assert all(v["below_control"] for v in kept if v["case"] not in KNOWN_MISSES)


def test_a_case_whose_fault_is_not_in_the_audio_fails_at_render_time():
    """The render-time checks are real: flipping one channel of a pad whose channels are only loosely related
    does not give the correlation near -1 a polarity case promises, so rendering refuses it."""
    polarity = next(case for case in FAULTS if case.fault == "polarity")
    loose = dataclasses.replace(polarity, stem="pad", track_type="synth", sr=44100)
    with pytest.raises(AssertionError, match=r"fails its check: channel correlation under -0\.8"):
        corpus.render(loose)


def test_the_soft_clipped_stem_is_told_to_lower_the_drive_not_to_re_record(verdicts):
    for case in FAULTS:
        if case.fault == "soft_clipped":
            verdict = verdicts[case.name]
            assert "clipped" not in verdict["findings"]
            assert "drive" in verdict["remedy"] and "re-record" not in verdict["remedy"].lower()


def test_hiss_is_not_judged_as_programme(verdicts):
    for case in FAULTS:
        if case.fault == "hiss_only":
            assert verdicts[case.name]["findings"] == ["no_programme"]
