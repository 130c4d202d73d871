"""The bound on what thresholds on the timbre rules' own measures could find (scripts/fault_real_bound.py).

A fault counts as within reach when thresholds on the measures (each exceeded at once) could single it out with
no clean track of its type above them all, that is when no clean track matches or passes it in every measure.
"""

from __future__ import annotations

from corpus_material import project_script

bound = project_script("fault_real_bound")

MUD = (("mud_ref_z", 1), ("mud_tilt_db", 1))
CLEAN = [{"mud_ref_z": 3.0, "mud_tilt_db": 15.0}, {"mud_ref_z": 1.0, "mud_tilt_db": 20.0}]


def test_a_fault_some_clean_track_matches_in_every_measure_is_out_of_reach():
    inside = {"mud_ref_z": 2.5, "mud_tilt_db": 15.0}  # the first clean track is as far out in both
    assert bound.separable([inside], CLEAN, MUD) == 0
    assert bound.separable([{"mud_ref_z": 3.0, "mud_tilt_db": 15.0}], CLEAN, MUD) == 0  # a tie is no separation


def test_a_fault_past_every_clean_track_in_one_measure_is_within_reach_of_that_measure_alone():
    fault = {"mud_ref_z": 3.5, "mud_tilt_db": 10.0}
    assert bound.separable([fault], CLEAN, MUD[:1]) == 1
    assert bound.separable([fault], CLEAN, MUD[1:]) == 0


def test_a_fault_between_the_clean_tracks_needs_both_measures_at_once():
    fault = {"mud_ref_z": 2.0, "mud_tilt_db": 18.0}  # under the first in one measure, the second in the other
    assert bound.separable([fault], CLEAN, MUD[:1]) == 0
    assert bound.separable([fault], CLEAN, MUD[1:]) == 0
    assert bound.separable([fault], CLEAN, MUD) == 1


def test_a_measure_a_fault_lowers_counts_downwards_and_a_missing_one_never_lies_above():
    darker = (("top_end_db", -1),)
    clean = [{"top_end_db": -20.0}, {"top_end_db": None}]
    assert bound.separable([{"top_end_db": -30.0}], clean, darker) == 1
    assert bound.separable([{"top_end_db": -10.0}], clean, darker) == 0
    assert bound.separable([{"top_end_db": None}], clean, darker) == 0


def test_an_instrument_is_every_bank_s_rendering_of_one_program_and_other_sources_stand_alone():
    validation_gm = [s for s in bound.SOURCES.values() if s.family == "gm" and s.split == "validation"]
    banks: dict[str, set[str]] = {}
    for source in validation_gm:
        banks.setdefault(bound.by_instrument(source), set()).add(source.bank)
    assert banks and all(len(held) == 3 for held in banks.values())
    voice = next(s for s in bound.SOURCES.values() if s.family == "espeak")
    assert bound.by_instrument(voice) == voice.name and bound.by_type(voice) == "vocal"
