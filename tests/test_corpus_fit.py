"""Rules fitted to reference tracks, and how far a mix sits from the reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from corpus_material import render_corpus
from distributed import Client

import codette_lab
from codette_lab.corpus import analyze, distance_from_reference, fit_report, fit_rules
from codette_lab.rules import RuleSet


def reference_table(values: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """A corpus table by hand: {track type: {metric: one value per track}}."""
    rows = []
    for track_type, metrics in values.items():
        count = len(next(iter(metrics.values())))
        for index in range(count):
            row = {"path": f"/ref/{track_type}/{index}.wav", "track_type": track_type, "error": None}
            row.update({metric: series[index] for metric, series in metrics.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def test_upper_bounds_take_the_high_percentile_and_lower_bounds_the_low_one() -> None:
    sub_bass = list(np.linspace(-40.0, -20.0, 21))  # 5th percentile -39, 95th -21
    table = reference_table({"vocal": {"band_energy_db.sub_bass": sub_bass, "stereo_width": [0.0] * 21}})
    report = fit_report(table, percentiles=(5, 95)).set_index("parameter")
    assert report.loc["vocal.rumble_max_db", "measured"] == pytest.approx(-21.0)
    assert report.loc["vocal.rumble_max_db", "value"] == -21.0 and report.loc["vocal.rumble_max_db", "op"] == ">"
    assert report.loc["vocal.rumble_max_db", "tracks"] == 21
    fitted = fit_rules(table, percentiles=(10, 90))
    assert fitted["vocal.rumble_max_db"] == -22.0
    assert RuleSet.default()["vocal.rumble_max_db"] == -30.0, "the built-in rules are left alone"
    assert "bass.rumble_max_db" not in report.index, "no bass tracks, no bass fit"


def test_fitted_values_are_rounded_to_the_step_and_clipped_into_the_range() -> None:
    table = reference_table({"bass": {"stereo_width": [0.0, 0.0, 0.0, 0.123, 0.125, 0.126]}})
    low = fit_report(table, percentiles=(0, 100)).set_index("parameter")
    assert low.loc["bass.width_max", "value"] == pytest.approx(0.13)  # step 0.01
    loud = reference_table({"vocal": {"band_energy_db.sub_bass": [5.0, 6.0, 7.0]}})  # impossible shares: > 0 dB
    clipped = fit_report(loud).set_index("parameter").loc["vocal.rumble_max_db"]
    assert clipped["value"] == 0.0 and bool(clipped["clipped"])  # the parameter's maximum


def test_a_shared_parameter_is_fitted_on_every_type_it_serves_and_few_tracks_fit_nothing() -> None:
    crest = {"keys": {"crest_factor_db": [10.0, 11.0, 12.0]}, "guitar": {"crest_factor_db": [20.0, 21.0, 22.0]}}
    report = fit_report(reference_table(crest), percentiles=(0, 100)).set_index("parameter")
    assert report.loc["general.crest_min_db", "track_types"] == "guitar, keys"
    assert report.loc["general.crest_min_db", "value"] == 10.0
    assert report.loc["general.crest_max_db", "value"] == 22.0
    two = reference_table({"keys": {"crest_factor_db": [10.0, 11.0]}})
    assert fit_report(two).empty and fit_rules(two).changed() == {}
    with pytest.raises(ValueError, match=r"percentiles: expected \(low, high\)"):
        fit_report(two, percentiles=(95, 5))


def test_a_rule_on_a_derived_measure_is_fitted_on_the_measure_as_the_rules_derive_it() -> None:
    # "very dynamic" judges the crest factor while the part sounds: vocals pausing half the time are fitted on
    # their crest factor 3 dB under the whole track's, as the rule will judge them
    table = reference_table({"vocal": {"crest_factor_db": [18.0, 20.0, 24.0], "pause_fraction": [0.5, 0.5, 0.5]}})
    report = fit_report(table, percentiles=(0, 100)).set_index("parameter")
    assert report.loc["general.crest_max_db", "metric"] == "sounding_crest_db"
    assert report.loc["general.crest_max_db", "measured"] == pytest.approx(24.0 - 3.01, abs=0.01)
    assert report.loc["general.crest_min_db", "measured"] == 18.0  # over-compression: the whole track's


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, dask_client: Client) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("reference")
    render_corpus(folder)
    return analyze(folder, track_type="from-folder", client=dask_client, progress=False)


def test_rules_fitted_to_rendered_stems_are_saved_loaded_and_replayed(reference: pd.DataFrame, tmp_path: Path) -> None:
    fitted = fit_rules(reference)
    assert fitted.changed(), "the reference moves some thresholds"
    for parameter in fitted.parameters():
        assert parameter.minimum <= parameter.value <= parameter.maximum
    saved = tmp_path / "fitted.json"
    fitted.export(saved)
    assert RuleSet.load(saved).values() == fitted.values()

    vocal = reference[reference["track_type"] == "vocal"].iloc[0]
    import soundfile as sf

    y, sr = sf.read(vocal["path"], dtype="float32", always_2d=True)
    replayed = codette_lab.analyze(y.T, sr, kind="quality", track_type="vocal", rules=RuleSet.load(saved))
    assert "rumble" not in {finding.rule_id for finding in replayed.problems}, "its own reference is no rumble"


def test_distance_from_reference_ranks_a_mix_against_its_type(reference: pd.DataFrame, tmp_path: Path) -> None:
    vocals = reference[reference["track_type"] == "vocal"]
    own = distance_from_reference(reference, vocals.iloc[0])
    assert {"metric", "value", "low", "median", "high", "rank", "outside", "spread"} <= set(own.columns)
    assert {"duration_s", "muted", "channels"}.isdisjoint(own["metric"])
    assert "band_energy_db.sub_bass" in set(own["metric"])
    row = own.set_index("metric").loc["peak_dbfs"]
    assert row["value"] == pytest.approx(vocals.iloc[0]["peak_dbfs"])
    assert row["low"] <= row["median"] <= row["high"]

    import soundfile as sf

    sr = 22050
    t = np.arange(3 * sr) / sr
    mix = tmp_path / "student.wav"
    sf.write(mix, 0.9 * np.sin(2 * np.pi * 35 * t), sr)  # nothing but sub-bass, near full scale
    far = distance_from_reference(reference, mix, track_type="vocal").set_index("metric")
    assert far.loc["band_energy_db.sub_bass", "outside"] > 0 and far.loc["band_energy_db.sub_bass", "rank"] == 1.0
    assert far["spread"].abs().is_monotonic_decreasing


def test_fit_between_sets_thresholds_halfway_between_clean_tracks_and_faults_with_their_margins():
    import pandas as pd

    from codette_lab.corpus import fit_between

    clean = pd.DataFrame({"track_type": ["vocal", "vocal", "guitar"], "harsh_excess_db": [3.0, 4.0, 7.0]})
    faults = pd.DataFrame(
        {"track_type": ["vocal", "vocal", "guitar"], "rule": ["harshness"] * 3, "harsh_excess_db": [8.0, 10.0, 6.0]}
    )
    report = fit_between(clean, faults).set_index("parameter")
    vocal = report.loc["vocal.harsh_excess_max_db"]
    assert (vocal["clean_extreme"], vocal["weakest_fault"], vocal["value"]) == (4.0, 8.0, 6.0)
    assert vocal["clean_margin"] == 2.0 and vocal["fault_margin"] == 2.0
    guitar = report.loc["guitar.harsh_excess_max_db"]  # overlap: one step past the clean side, the fault missed
    assert guitar["value"] == 7.5 and guitar["fault_margin"] < 0 < guitar["clean_margin"]
