"""The score follows a fault too small for a finding: the tonal balance's lean (codette_lab.rules.balance).

Real sampled instruments, voices and a mastered song of the realistic corpus's validation split (rendered by
scripts/fault_real.py; the balances were fitted on the other split only): a +6 dB bell, a 5 kHz low-pass or
+12 dB S sounds that no rule calls out still score below the clean track. Without the audio, for an analysis
that does not judge the tone, with the lean's cap at 0, or with a rule file written before the balance
existed, the score follows the findings alone, as it always did.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from corpus_material import needs_realistic_renderers, project_script

from codette_lab.analysis_types import analyze
from codette_lab.rules import RuleSet
from codette_lab.rules.balance import kept

real = project_script("fault_real")
needs_renderers = needs_realistic_renderers()
CASES = {rc.name: rc for rc in real.cases()}
#: Faults of the validation split that no rule finds (one of each kind the balance follows).
UNFOUND = (
    "mud6-gm-steel-44100",
    "harsh6-gm-strings-44100",
    "dull5k-gm-strings-44100",
    "sibilance12-voice-us-annie-44100",
    "mud6-song-val3-streaming-44100",
)


def _wire(rc, rules=None) -> dict:
    case = rc.case
    return analyze(
        real.render(rc), case.sr, kind="quality", track_type=case.track_type, target=rc.target, rules=rules
    ).to_wire()


@needs_renderers
@pytest.mark.parametrize("name", UNFOUND)
def test_a_fault_too_small_for_a_finding_still_scores_below_its_clean_version(name):
    rc = CASES[name]
    assert rc.split == "validation"
    fault, clean = _wire(rc), _wire(CASES[rc.control])
    assert fault["problems_detected"] == [] and clean["problems_detected"] == []
    assert fault["quality_score"] < clean["quality_score"], (fault["quality_score"], clean["quality_score"])
    cap = RuleSet.default()["general.balance_cost_max"]
    assert 1.0 - cap <= fault["quality_score"] < 1.0


@needs_renderers
def test_the_lean_is_one_setting_away_from_a_score_that_follows_the_findings_only():
    rc = CASES["mud6-gm-steel-44100"]
    findings_only = RuleSet.default().snapshot().with_values({"general.balance_cost_max": 0.0})
    assert _wire(rc, findings_only)["quality_score"] == 1.0
    # a rule file exported before the balance existed loads and scores by its findings
    data = RuleSet.default().to_dict()
    names = {"general.balance_cost_max", "general.balance_cost_rate"}
    data["parameters"] = [entry for entry in data["parameters"] if entry["name"] not in names]
    older = RuleSet.from_dict(data)
    assert _wire(rc, older.snapshot())["quality_score"] == 1.0


def test_without_the_audio_or_for_an_analysis_that_does_not_judge_the_tone_nothing_leans():
    sr = 44100
    t = np.arange(2 * sr) / sr
    dark = (0.3 * np.sin(2 * np.pi * 110 * t) + 0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    quality = analyze(dark, sr, kind="quality", track_type="keys").to_wire()
    assert quality["metrics"]["top_end_db"] is not None and quality["quality_score"] < 1.0
    for kind in ("dynamics", "loudness", "stereo", "transients"):
        wire = analyze(dark, sr, kind=kind, track_type="keys").to_wire()
        if not wire["problems_detected"]:
            assert wire["quality_score"] == 1.0, kind


def test_a_lean_never_costs_more_than_its_cap_and_grows_with_the_lean():
    leans = [0.0, 0.5, 1.0, 5.0, 50.0, 1e6]
    shares = [kept(lean, rate=0.1, cap=0.2) for lean in leans]
    assert shares[0] == 1.0 and kept(None, rate=0.1, cap=0.2) == 1.0
    assert all(later < earlier for earlier, later in itertools.pairwise(shares[:-1]))
    assert min(shares) >= 0.8
