"""Facts the measurements and the rule files share: metric names and band edges, each with one home.

The meters declare what they output (``analysis.outputs``) and ``analysis.bands`` holds the band
edges; rule files read both from there. These tests measure real audio (the demo stems) and fail
when a meter outputs something undeclared, declares something it never outputs, or when the rules'
vocabulary or bands drift from what is measured.
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import soundfile

from codette_lab.analysis import ALL_KINDS, BANDS, measure, measure_masking
from codette_lab.analysis.envelope import SHAPE_BANDS
from codette_lab.analysis.outputs import (
    BAND_NAME_METRICS,
    KIND_OUTPUTS,
    MASKING_OUTPUTS,
    METRIC_NAMES,
    PER_BAND_METRICS,
)
from codette_lab.errors import RulesError
from codette_lab.resources import demo_folder
from codette_lab.rules import RuleSet
from codette_lab.rules.evaluate import DERIVED_METRICS, FINDING_VALUES, SITUATION_VALUES
from codette_lab.rules.vocabulary import TRACK_STATE_METRICS


def stem(name: str) -> tuple[np.ndarray, int]:
    """A demo stem as (channels, n) float32 and its sample rate (vocal and bass are mono, drums and keys stereo)."""
    data, sr = soundfile.read(demo_folder() / "stems" / f"{name}.flac", dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T[:, : 6 * sr]), sr


@pytest.fixture(scope="module")
def drums_and_bass() -> tuple[np.ndarray, np.ndarray, int]:
    drums, sr = stem("drums")
    bass, bass_sr = stem("bass")
    assert sr == bass_sr
    return drums, bass, sr


def test_the_declared_kinds_are_the_measured_kinds():
    assert tuple(KIND_OUTPUTS) == ALL_KINDS


@pytest.mark.parametrize("name", ["vocal", "drums"])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_each_kind_outputs_exactly_what_its_meter_declares(name: str, kind: str):
    y, sr = stem(name)
    metrics = measure(y, sr=sr, kinds=[kind])
    assert set(metrics) == set(KIND_OUTPUTS[kind])
    for metric in PER_BAND_METRICS:
        if metric in metrics:
            assert list(metrics[metric]) == list(BANDS)


def test_masking_outputs_exactly_what_its_meter_declares(drums_and_bass):
    drums, bass, sr = drums_and_bass
    metrics = measure_masking(drums, bass, sr=sr)
    assert set(metrics) == set(MASKING_OUTPUTS)
    assert list(metrics["masking_band_overlap"]) == list(BANDS)
    assert all(metrics[name] is None or metrics[name] in BANDS for name in BAND_NAME_METRICS)


def _flat_names(metrics: dict) -> list[str]:
    names = []
    for metric, value in metrics.items():
        if metric in BAND_NAME_METRICS:
            continue
        if isinstance(value, dict):
            names.extend(f"{metric}.{band}" for band in value)
        else:
            names.append(metric)
    return names


def test_a_rule_file_may_label_every_metric_measured_on_real_audio(drums_and_bass):
    """``metric_labels`` refuses unknown metrics, so a label for each measured output proves the rules know it."""
    drums, bass, sr = drums_and_bass
    measured = {**measure(drums, sr=sr), **measure_masking(drums, bass, sr=sr)}
    data = RuleSet.default().to_dict()
    data["metric_labels"] = {name: f"{name} {{value}}" for name in _flat_names(measured)}
    assert "stereo_balance" in data["metric_labels"]
    rules = RuleSet.from_dict(data)
    assert set(rules.snapshot().document.metric_labels) == set(_flat_names(measured))
    data["metric_labels"]["stereo_balanse"] = "{value}"
    with pytest.raises(RulesError, match=r"field 'metric_labels\.stereo_balanse': unknown metric"):
        RuleSet.from_dict(data)


def test_every_metric_the_default_rules_judge_is_measured_derived_or_track_state():
    known = {*METRIC_NAMES, *DERIVED_METRICS, *TRACK_STATE_METRICS}
    known |= {f"{metric}.{band}" for metric in PER_BAND_METRICS for band in BANDS}
    document = RuleSet.default().snapshot().document
    judged = {condition.metric for rule in document.rules for condition in (rule.condition, *rule.when)}
    assert judged <= known, judged - known


def test_every_value_evaluation_declares_is_accepted_by_rule_files_and_filled_in():
    """Evaluation declares the derived metrics and the finding's and request's values; the rule-file checks read
    those declarations. A template naming each one loads and, on a masking request, renders no "n/a"."""
    names = [*DERIVED_METRICS, *FINDING_VALUES, *SITUATION_VALUES]
    data = RuleSet.default().to_dict()
    data["rules"].append(
        {
            "id": "probe",
            "analysis_types": ["*"],
            "track_types": ["*"],
            "metric": "peak_dbfs",
            "op": ">",
            "threshold": -100,
            "severity": "info",
            "penalty": 0,
            "problem": " ".join(f"{name}={{{name}}}" for name in names),
            "suggestion": "-",
        }
    )
    snapshot = RuleSet.from_dict(data).snapshot()
    metrics = {
        "peak_dbfs": -1.0,
        "rms_dbfs": -12.0,
        "true_peak_dbtp": -0.5,
        "dc_offset": -0.01,
        "noise_only": 0.0,  # programme, as the audio of a masking request measures
        "stereo_width": 0.5,
        "masked_band": "bass",
        "buried_by_db": 4.0,
        "burying_by_db": 5.0,
        "mud_excess_db": 6.0,
        "harsh_excess_db": 14.0,
        "harsh_hz": 3150.0,
        "harsh_q": 1.4,
        # what the tonal balances read (codette_lab.rules.balance)
        "band_energy_db": {"low_mids": -3.0, "mids": -6.0, "upper_mids": -12.0},
        "top_end_db": -20.0,
        "top_end_hz": 6000.0,
        "sibilance_db": -10.0,
        # a flat shape but for a 20 dB bump at 3.15 kHz, judged against the vocal reference
        "tone_shape_db": {**dict.fromkeys(SHAPE_BANDS, 0.0), "3150": 20.0},
    }
    situation = {"track_type": "vocal", "analysis_type": "masking", "track_name": "Lead"}
    other = {"other_track_name": "Bass", "other_track_type": "bass"}
    findings = snapshot.evaluate(metrics, **situation, **other)
    probe = next(finding for finding in findings if finding.rule_id == "probe")
    assert "n/a" not in probe.problem, probe.problem
    # the cuts go as deep as the build-ups stand out (of the track's own envelope, of the type's reference), never
    # deeper than general.eq_cut_max_db
    values = {**dict(re.findall(r"(\w+)=(\S+)", probe.problem)), "mud_excess_db": "6", "harsh_excess_db": "14"}
    pairs = ("mud_cut_db", "mud_excess_db"), ("harsh_cut_db", "harsh_excess_db"), ("harsh_ref_cut_db", "harsh_ref_db")
    for cut, above in (*pairs, ("mud_ref_cut_db", "mud_ref_db")):
        assert float(values[cut]) == pytest.approx(min(float(values[above]), 12.0), abs=0.01), (cut, values)
    assert float(values["harsh_ref_cut_db"]) == 12.0 and float(values["harsh_cut_db"]) == 12.0
    assert "band_label=bass band_low_hz=60" in probe.problem and "cut_track=Bass keep_track=Lead" in probe.problem
    target = snapshot.loudness_target()
    assert set(snapshot.situation(**situation, **other, target=target)) == set(SITUATION_VALUES)


def test_stereo_balance_can_be_judged_by_a_rule_and_fires_on_a_hard_panned_stem():
    data = RuleSet.default().to_dict()
    data["rules"].append(
        {
            "id": "left_heavy",
            "analysis_types": ["stereo"],
            "track_types": ["*"],
            "metric": "stereo_balance",
            "op": "<",
            "threshold": -0.5,
            "severity": "warning",
            "penalty": 0.1,
            "problem": "{track} leans left (balance {stereo_balance:.2f})",
            "suggestion": "Pan {track} towards the centre",
        }
    )
    snapshot = RuleSet.from_dict(data).snapshot()
    vocal, sr = stem("vocal")
    left_only = np.concatenate([vocal, np.zeros_like(vocal)])
    for audio, fires in ((left_only, True), (np.concatenate([vocal, vocal]), False)):
        metrics = measure(audio, sr=sr, kinds=["stereo"])
        findings = snapshot.evaluate(metrics, track_type="vocal", analysis_type="stereo", track_name="Lead")
        assert ("left_heavy" in {finding.rule_id for finding in findings}) is fires
    findings = snapshot.evaluate(
        measure(left_only, sr=sr, kinds=["stereo"]), track_type="vocal", analysis_type="stereo", track_name="Lead"
    )
    fired = next(finding for finding in findings if finding.rule_id == "left_heavy")
    assert fired.problem == "Lead leans left (balance -1.00)"


# -- band edges ------------------------------------------------------------------------------------------


def test_the_rules_bands_are_the_measured_bands_with_their_edges():
    bands = RuleSet.default().snapshot().document.bands
    assert list(bands) == list(BANDS)
    assert {name: (band.low_hz, band.high_hz) for name, band in bands.items()} == dict(BANDS)


@pytest.mark.parametrize("band", list(BANDS))
def test_a_sine_at_a_bands_centre_in_the_rules_is_measured_in_that_band(band: str):
    """The centre a masking text names for a band (where to cut) lies in the band the meter measures."""
    centre = RuleSet.default().snapshot().document.bands[band].centre_hz
    sr = 48000
    t = np.arange(2 * sr) / sr
    metrics = measure(0.5 * np.sin(2 * np.pi * centre * t).astype(np.float32), sr=sr, kinds=["spectral"])
    energies = metrics["band_energy_db"]
    assert max(energies, key=lambda name: energies[name] if energies[name] is not None else -1e9) == band


def test_a_file_exported_with_the_edges_still_loads_and_answers_the_same():
    rules = RuleSet.default()
    data = rules.to_dict()
    for name, (low, high) in BANDS.items():
        data["bands"][name] = {**data["bands"][name], "low_hz": int(low), "high_hz": high}
    loaded = RuleSet.from_dict(data)
    assert loaded.snapshot().document.bands == rules.snapshot().document.bands


def _with(data: dict, change) -> dict:
    data = copy.deepcopy(data)
    change(data)
    return data


BAD_BANDS = [
    (lambda d: d["bands"]["bass"].update(low_hz=55), "field 'bands.bass.low_hz': expected 60 (the edge the band is"),
    (lambda d: d["bands"]["air"].update(high_hz=16000), "field 'bands.air.high_hz': expected 20000"),
    (lambda d: d["bands"].update(presence={"label": "presence"}), "field 'bands.presence': unknown band"),
    (lambda d: d["bands"].pop("mids"), "field 'bands.mids': missing (expected an object)"),
    (lambda d: d["bands"]["mids"].pop("label"), "field 'bands.mids.label': missing"),
    (lambda d: d["bands"]["mids"].update(low_hz="500"), "field 'bands.mids.low_hz': expected a number, got '500'"),
]


@pytest.mark.parametrize(("change", "message"), BAD_BANDS, ids=[message.split("'")[1] for _, message in BAD_BANDS])
def test_bands_that_disagree_with_the_measurement_are_refused_naming_the_field(change, message):
    with pytest.raises(RulesError) as caught:
        RuleSet.from_dict(_with(RuleSet.default().to_dict(), change), source="bands.json")
    assert str(caught.value).startswith("Invalid rules in bands.json: ")
    assert message in str(caught.value)
