"""Timbre judged against what is normal for the track's type (codette_lab/rules/tone.py, issue 19).

The committed reference envelopes (codette_lab/rules/tone_references.json, written by
scripts/fit_tone_references.py from the realistic corpus's fit split) are whole and disjoint from the
validation split; a shape equal to a type's mean is unremarkable; a bell, a low-pass and loud S sounds stand
out of the range by the amounts the rules judge; the cut a ``*_for_type`` rule names is how far the build-up
stands above the mean, no deeper than the rules allow; and on real audio the analysis's tone shape carries
through to the findings, with a type without a reference of its own judged against the pooled one.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest
from corpus_material import project_script

from codette_lab.analysis import measure
from codette_lab.analysis.envelope import SHAPE_BANDS
from codette_lab.analysis_types import analyze
from codette_lab.rules import RuleSet
from codette_lab.rules.evaluate import REFERENCE_BELL_Q
from codette_lab.rules.tone import OUTPUTS, POOLED, SPREAD_FLOOR_DB, VIEWS, judge_shape, judge_tone, references

SR = 44100


def document() -> dict:
    return json.loads(resources.files("codette_lab.rules").joinpath("tone_references.json").read_text())


def flat(shape: np.ndarray) -> dict[str, float]:
    return {f"tone_shape_db.{band}": float(value) for band, value in zip(SHAPE_BANDS, shape, strict=True)}


def mean_shape(track_type: str) -> np.ndarray:
    return np.nan_to_num(references()[track_type].mean["shape"], nan=-90.0)


def scores(shape: np.ndarray, track_type: str) -> dict:
    return dict(zip(OUTPUTS, judge_tone(flat(shape), track_type), strict=True))


def test_the_references_are_whole_and_fitted_on_the_fit_split_only():
    data = document()
    assert data["bands_hz"] == list(SHAPE_BANDS)
    sources = project_script("fault_real_sources").SOURCES
    assert set(data["types"]) == {"vocal", "drums", "bass", "guitar", "keys", "synth", "master", POOLED}
    for name, entry in data["types"].items():
        assert len(entry["sources"]) >= (3 if name == "master" else 5), name
        assert all(sources[source].split == "fit" for source in entry["sources"]), name
        for view in VIEWS:
            assert len(entry[view]["mean_db"]) == len(entry[view]["spread_db"]) == len(SHAPE_BANDS)
            spreads = [value for value in entry[view]["spread_db"] if value is not None]
            assert min(spreads) >= SPREAD_FLOOR_DB
    assert len(data["types"][POOLED]["sources"]) == sum(spec.split == "fit" for spec in sources.values())


@pytest.mark.parametrize("track_type", ["vocal", "guitar", "keys", "synth", "master"])
def test_the_normal_shape_of_a_type_stands_out_nowhere(track_type):
    rules = RuleSet.default().snapshot().lookup_for(track_type)
    normal = scores(mean_shape(track_type), track_type)
    assert normal["tone_reference"] == track_type
    assert normal["mud_ref_z"] < rules("type.mud_ref_z_max") and normal["harsh_ref_z"] < rules("type.harsh_ref_z_max")
    assert normal["dark_ref_z"] < rules("type.dark_ref_z_max")


def bump(shape: np.ndarray, hz: float, gain_db: float, octaves: float = 0.5) -> np.ndarray:
    """``shape`` with a smooth bell of ``gain_db`` at ``hz`` (Gaussian over log frequency)."""
    centres = 1000.0 * 2.0 ** (np.arange(-13, 13) / 3.0)
    return shape + gain_db * np.exp(-0.5 * (np.log2(centres / hz) / octaves) ** 2)


def test_a_bell_stands_out_where_it_is_and_the_cut_is_what_it_adds_no_deeper_than_the_rules_allow():
    snapshot = RuleSet.default().snapshot()
    lookup = snapshot.lookup_for("vocal")
    normal = mean_shape("vocal")

    def for_type(shape: np.ndarray, rule: str):
        """The finding of ``rule`` on a shape alone (no own-envelope metrics: the original rules cannot judge)."""
        findings = snapshot.evaluate(flat(shape), track_type="vocal", analysis_type="spectrum", track_name="Lead")
        return next(finding for finding in findings if finding.rule_id == rule)

    muddy = scores(bump(normal, 315.0, 20.0), "vocal")
    assert muddy["mud_ref_hz"] == 315.0 and muddy["mud_ref_z"] > lookup("type.mud_ref_z_max")
    assert muddy["mud_ref_db"] == pytest.approx(20.0, abs=1.5)
    cut = f"Cut {lookup('general.eq_cut_max_db'):.0f} dB around 315 Hz"  # 20 dB over the normal: the limit
    mud = for_type(bump(normal, 315.0, 20.0), "low_mid_buildup_for_type")
    assert cut in mud.suggestion and f"Q about {REFERENCE_BELL_Q['mud']:.1f}" in mud.suggestion
    # voices differ by a few dB in their upper mids (recorded people, Festival's and espeak-ng's voices), so a
    # bell there stands out of them at 15 dB, and the cut stops at the limit too
    harsh = scores(bump(normal, 3150.0, 15.0), "vocal")
    assert harsh["harsh_ref_hz"] == 3150.0 and harsh["harsh_ref_z"] > lookup("type.harsh_ref_z_max")
    assert harsh["harsh_ref_db"] == pytest.approx(15.0, abs=1.0)
    cut = f"Cut {lookup('general.eq_cut_max_db'):.0f} dB around 3150 Hz"
    harsh_finding = for_type(bump(normal, 3150.0, 15.0), "harshness_for_type")
    assert cut in harsh_finding.suggestion and f"Q about {REFERENCE_BELL_Q['harsh']:.1f}" in harsh_finding.suggestion


@pytest.mark.parametrize("own_peak_hz", [2000.0, 4000.0])
def test_harshness_is_cut_at_its_own_peak_only_where_that_peak_stands_out_of_the_types_normal(own_peak_hz):
    snapshot = RuleSet.default().snapshot()
    lookup = snapshot.lookup_for("guitar")
    shape = bump(mean_shape("guitar"), 4000.0, 20.0, octaves=0.25)  # guitars differ widely up there
    metrics = flat(shape) | {
        "harsh_hz": own_peak_hz,  # where the upper mids peak over the guitar's own envelope
        "harsh_q": 3.5,
        "harsh_excess_db": lookup("type.harsh_excess_max_db") + 2.0,
    }
    standing = scores(shape, "guitar") | dict(zip(OUTPUTS, judge_tone(metrics, "guitar"), strict=True))
    assert standing["harsh_ref_hz"] == 4000.0 and standing["harsh_ref_z"] > lookup("type.harsh_ref_gate_z")
    findings = snapshot.evaluate(metrics, track_type="guitar", analysis_type="spectrum", track_name="Gtr")
    (harsh,) = [finding for finding in findings if finding.rule_id == "harshness"]
    if own_peak_hz == 4000.0:  # the own peak is the bell: cut there, as deep and as wide as measured
        assert standing["harsh_own_z"] >= lookup("general.harsh_own_z_min")
        assert "around 4000 Hz" in harsh.suggestion and "Q about 3.5" in harsh.suggestion
    else:  # a 2 kHz peak is the guitar's usual one: cut where it stands out of the normal, by that much
        assert standing["harsh_own_z"] < lookup("general.harsh_own_z_min")
        cut = f"Cut {min(standing['harsh_ref_db'], lookup('general.eq_cut_max_db')):.0f} dB around 4000 Hz"
        assert cut in harsh.suggestion and f"Q about {REFERENCE_BELL_Q['harsh']:.1f}" in harsh.suggestion
        assert "2000" not in harsh.problem


def test_the_local_view_continues_past_one_edge_and_does_not_judge_a_band_with_an_edge_on_both_sides():
    from codette_lab.rules.tone import EDGE_DB, OCTAVE, views

    flat_shape = np.zeros(len(SHAPE_BANDS))
    at = SHAPE_BANDS.index("500")
    lowest_note = flat_shape.copy()
    lowest_note[:at] = -(EDGE_DB + 10.0)  # nothing under the part's lowest notes
    lowest_note[at] = 6.0
    assert views(lowest_note)["local"][at] == pytest.approx(6.0)  # against the octave above only
    isolated = lowest_note.copy()
    isolated[at + OCTAVE] = -(EDGE_DB + 10.0)  # and a gap an octave up (a square wave's missing 2nd harmonic)
    assert np.isnan(views(isolated)["local"][at])


def test_a_low_pass_is_dark_for_its_type_and_loud_s_sounds_stand_above_other_voices():
    rules = RuleSet.default().snapshot().lookup_for("vocal")
    normal = mean_shape("vocal")
    centres = 1000.0 * 2.0 ** (np.arange(-13, 13) / 3.0)
    low_passed = normal - np.where(centres > 4000.0, 48.0 * np.log2(centres / 4000.0), 0.0)
    assert scores(low_passed, "vocal")["dark_ref_z"] > rules("type.dark_ref_z_max")
    sibilant = bump(normal, 8000.0, 16.0, octaves=0.3)  # recorded voices' S sounds vary by several dB
    assert scores(sibilant, "vocal")["sibilance_ref_z"] > rules("vocal.sibilance_ref_z_max")
    assert scores(normal, "vocal")["sibilance_ref_z"] < rules("vocal.sibilance_ref_z_max")


def test_a_clean_source_the_dull_rule_already_calls_dull_does_not_set_the_darkness_threshold():
    fitting = project_script("fit_tone_references")
    voices = [name for name, spec in project_script("fault_real_sources").SOURCES.items() if spec.split == "fit"]
    names = [name for name in voices if name.startswith("voice-")][:5]
    rng = np.random.default_rng(19)
    normal = mean_shape("vocal")
    shapes = {name: np.vstack([normal + rng.normal(0.0, 1.0, normal.shape)] * 2) for name in names}
    centres = 1000.0 * 2.0 ** (np.arange(-13, 13) / 3.0)
    shapes[names[0]] = shapes[names[0]] - np.where(centres > 4500.0, 48.0 * np.log2(centres / 4500.0), 0.0)
    heard = {name: [False, False] for name in names}
    dark = fitting.JUDGEMENTS["dark"]
    with_it = fitting.left_out_scores(names, shapes, heard)[dark]
    without_it = fitting.left_out_scores(names, shapes, heard | {names[0]: [True, True]})[dark]
    assert with_it > 3.0 > without_it  # the dull source alone set it (it still counts in the others' references)


@pytest.mark.parametrize("cutoff_hz, dull", [(2500.0, True), (None, False)])
def test_called_dull_is_what_the_dull_rule_says(cutoff_hz, dull):
    from scipy.signal import butter, sawtooth, sosfilt

    t = np.arange(3 * SR) / SR
    pitch = 220.0 * 2.0 ** (np.floor(t * 2) % 5 / 12)  # a line of notes, rich in harmonics up to the top
    y = 0.2 * sawtooth(2 * np.pi * np.cumsum(pitch) / SR) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2)
    if cutoff_hz is not None:
        y = sosfilt(butter(8, cutoff_hz, "lowpass", fs=SR, output="sos"), y)
    result = analyze(y.astype(np.float32), SR, kind="quality", track_type="vocal")
    called = project_script("fit_tone_references").called_dull(result.metrics["top_end_db"], "vocal")
    assert called is dull
    assert ("dull" in {finding.rule_id for finding in result.problems}) is dull


def test_a_voice_is_dull_when_its_presence_falls_away_not_when_it_only_lacks_the_air_above_8_khz():
    threshold = RuleSet.default().snapshot().lookup_for("vocal")("type.dark_ref_z_max")
    centres = 1000.0 * 2.0 ** (np.arange(-13, 13) / 3.0)

    def stopping_at(hz: float) -> float:
        voice = mean_shape("vocal") - np.where(centres > hz, 48.0 * np.log2(centres / hz), 0.0)
        return scores(voice, "vocal")["dark_ref_z"]

    assert stopping_at(8000.0) < 1.0  # recorded at 16 kHz: its presence and S sounds are all there
    assert stopping_at(5000.0) > threshold + 1.0  # a 5 kHz low-pass takes them away


def test_a_type_without_a_reference_is_judged_against_the_pooled_one_and_levels_alone_are_not_judged():
    assert scores(mean_shape(POOLED), "bus")["tone_reference"] == POOLED
    assert judge_tone({"peak_dbfs": -10.0}, "vocal") == (None,) * len(OUTPUTS)


def test_judging_a_shape_is_the_same_as_judging_its_flat_metrics():
    shape = bump(mean_shape("keys"), 250.0, 9.0)
    assert judge_shape(shape, references()["keys"]) == judge_tone(flat(shape), "keys")


def test_on_real_audio_the_tone_shape_reaches_the_findings():
    """Pink noise as a stereo master (a smooth tilt, as mastered mixes have): no judgement of timbre; low-passed
    steeply at 6 kHz, darker than any master of the fit split, and told so, not called harsh for the pass
    band under the filter's cliff."""
    from scipy.signal import butter, sosfilt

    n = 4 * SR
    white = np.fft.rfft(np.random.default_rng(3).standard_normal(n))
    pink = np.fft.irfft(white / np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / SR), 20.0)), n)
    timbre = {"low_mid_buildup", "harshness", "dull", "sibilance"}
    timbre |= {f"{rule}_for_type" for rule in ("low_mid_buildup", "harshness", "dull")}

    def findings(y: np.ndarray) -> set[str]:
        y = 0.3 * y / np.abs(y).max()
        stereo = np.vstack([y, 0.9 * np.roll(y, 300) + 0.1 * y])
        wire = analyze(stereo, SR, kind="quality", track_type="master", track_name="Mix").to_wire()
        return {problem["rule"] for problem in wire["problems_detected"]} & timbre

    shape = measure(pink, sr=SR, kinds=("envelope",))["tone_shape_db"]
    assert list(shape) == list(SHAPE_BANDS)
    assert findings(pink) == set()
    assert findings(sosfilt(butter(8, 6000.0, "lowpass", fs=SR, output="sos"), pink)) == {"dull_for_type"}


def test_a_speech_master_is_not_judged_against_the_masters_of_music():
    speech = RuleSet.default()["general.speech_pause_fraction"]
    podcast = {**flat(mean_shape("vocal")), "pause_fraction": speech + 0.1}
    assert judge_tone(podcast, "master", speech) == (None,) * len(OUTPUTS)
    assert judge_tone(podcast, "vocal", speech)[0] == "vocal"  # a voice pauses by nature: still judged
    assert judge_tone({**podcast, "pause_fraction": 0.0}, "master", speech)[0] == "master"
