"""Corpus analysis on a real Dask cluster: a table per file, bad files recorded, the same answers as in-process."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from corpus_material import render_corpus
from distributed import Client

import codette_lab
from codette_lab.corpus import analyze, audio_files, read_results
from codette_lab.corpus.files import FileKey
from codette_lab.corpus.run import MAX_BATCH_FILES, batches
from codette_lab.resources import demo_folder

STEMS = demo_folder() / "stems"


@pytest.fixture
def odd_files(tmp_path: Path) -> list[Path]:
    """Two short synthetic tracks, a corrupt file and a missing one (the test writes the audio)."""
    sr = 22050
    t = np.arange(2 * sr) / sr
    rng = np.random.default_rng(1)
    healthy = tmp_path / "healthy.wav"
    sf.write(healthy, 0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size), sr)
    rumbly = tmp_path / "rumbly.flac"
    sf.write(rumbly, 0.3 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 30 * t), sr)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(200))
    return [healthy, corrupt, rumbly, tmp_path / "missing.flac"]


def test_one_row_per_file_in_order_with_bad_files_recorded(dask_client: Client, odd_files: list[Path]) -> None:
    table = analyze(odd_files, kinds="quality", track_type="vocal", client=dask_client, progress=False)
    assert isinstance(table, pd.DataFrame)
    assert list(table["path"]) == [str(path) for path in odd_files]
    healthy, corrupt, rumbly, missing = (row for _, row in table.iterrows())
    for good in (healthy, rumbly):
        assert pd.isna(good["error"])
        assert 0.0 <= good["score.quality"] <= 1.0
        assert good["duration_s"] == pytest.approx(2.0, abs=1e-3)
        assert good["track_type"] == "vocal"
    for bad in (corrupt, missing):
        assert pd.isna(bad["score.quality"]) and pd.isna(bad["peak_dbfs"])
        assert bad["findings"] == bad["suggestions"] == bad["problems"] == []
        assert bad["error"].startswith(f"cannot read audio file {bad['path']}")
    assert rumbly["score.quality"] < healthy["score.quality"], "rumble under a vocal costs quality"
    assert "rumble" in rumbly["findings"] and "rumble" not in healthy["findings"]
    assert list(table.loc[table["finding.rumble"], "path"]) == [str(odd_files[2])]


def test_metrics_are_flat_columns_named_as_the_rules_name_them(dask_client: Client) -> None:
    """Equal up to float rounding: the workers' BLAS/FFT may sum in another order."""
    stems = sorted(STEMS.glob("*.flac"))
    table = analyze(STEMS, kinds=["spectrum", "dynamics"], track_type="keys", client=dask_client, progress=False)
    assert list(table["path"]) == [str(path) for path in stems]
    for path, (_, row) in zip(stems, table.iterrows(), strict=True):
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        local = codette_lab.analyze(y.T, sr, kind="spectrum", track_type="keys")
        assert row["score.spectrum"] == pytest.approx(local.quality_score, rel=1e-6)
        assert 0.0 <= row["score.dynamics"] <= 1.0
        for band, value in local.metrics["band_energy_db"].items():
            assert row[f"band_energy_db.{band}"] == pytest.approx(value, rel=1e-6, abs=1e-9)
        assert row["spectral_centroid_hz"] == pytest.approx(local.metrics["spectral_centroid_hz"], rel=1e-6)
        assert set(local.suggestions) <= set(row["suggestions"])
        assert [finding.rule_id for finding in local.problems if finding.rule_id not in row["findings"]] == []


def test_an_unknown_analysis_kind_is_an_error_per_file_not_a_crash(dask_client: Client, odd_files: list[Path]) -> None:
    table = analyze(odd_files[:1], kinds="no_such_kind", client=dask_client, progress=False)
    assert "no_such_kind" in table.loc[0, "error"]


def test_files_longer_than_the_limit_are_refused_before_reading(dask_client: Client, odd_files: list[Path]) -> None:
    table = analyze(odd_files[:1], client=dask_client, progress=False, max_seconds=1.0)
    assert "lasts 2 s, longer than the 1 s a task reads" in table.loc[0, "error"]


def test_track_types_from_folders_and_globs(dask_client: Client, tmp_path: Path) -> None:
    render_corpus(tmp_path, per_type=1)
    table = analyze(str(tmp_path / "**" / "*.flac"), track_type="from-folder", client=dask_client, progress=False)
    assert sorted(table["track_type"]) == ["bass", "drums", "keys", "master", "vocal"]
    assert table["error"].isna().all()
    assert {Path(path).parent.name for path in table["path"]} == set(table["track_type"])


def test_a_scheduler_address_runs_the_same_work(dask_client: Client, odd_files: list[Path]) -> None:
    by_client = analyze(odd_files[:1], client=dask_client, progress=False)
    by_address = analyze(odd_files[:1], client=dask_client.scheduler.address, progress=False)
    assert by_address.loc[0, "peak_dbfs"] == by_client.loc[0, "peak_dbfs"]


def test_without_a_client_a_local_cluster_of_processes_is_made_and_closed(odd_files: list[Path]) -> None:
    """Worker processes give what the notebook gets (up to float rounding)."""
    table = analyze(odd_files[:2], kinds="dynamics", progress=False)
    assert pd.isna(table.loc[0, "error"]) and not pd.isna(table.loc[1, "error"])
    y, sr = sf.read(odd_files[0], dtype="float32")
    local = codette_lab.analyze(y, sr, kind="dynamics")
    assert table.loc[0, "crest_factor_db"] == pytest.approx(local.metrics["crest_factor_db"], rel=1e-6)


def test_an_empty_corpus_needs_no_cluster(tmp_path: Path) -> None:
    table = analyze([], progress=False)
    assert table.empty and {"path", "error", "findings"} <= set(table.columns)
    assert read_results(tmp_path / "nothing.parquet").empty


def test_audio_files_finds_the_demo_stems() -> None:
    assert [path.name for path in audio_files(demo_folder())] == ["bass.flac", "drums.flac", "keys.flac", "vocal.flac"]


def test_tuned_rules_reach_the_workers(dask_client: Client, tmp_path: Path) -> None:
    vocal = STEMS / "vocal.flac"
    tuned = codette_lab.RuleSet.default()
    tuned["vocal.highpass_hz"] = 123
    rule_file = tmp_path / "tuned.json"
    tuned.export(rule_file)
    default_run, tuned_run, from_file = (
        analyze([vocal], track_type="vocal", client=dask_client, rules=rules, progress=False).loc[0, "suggestions"]
        for rules in (None, tuned, rule_file)
    )
    assert any("at 80 Hz" in text for text in default_run)
    assert any("at 123 Hz" in text for text in tuned_run)
    assert not any("at 80 Hz" in text for text in tuned_run)
    assert from_file == tuned_run


def test_tasks_take_several_files_largest_first_and_single_files_at_the_end() -> None:
    keys = [FileKey(f"/corpus/{index}.flac", size=1000 + 7 * index, mtime_ns=0) for index in range(50)]
    cut = batches(keys, workers=2)
    assert sorted(key.path for batch in cut for key in batch) == sorted(key.path for key in keys)  # each once
    assert [key.size for batch in cut for key in batch] == sorted((key.size for key in keys), reverse=True)
    assert max(len(batch) for batch in cut) == MAX_BATCH_FILES and len(cut[0]) == MAX_BATCH_FILES
    assert [len(batch) for batch in cut[-3:]] == [1, 1, 1]
    assert all(len(later) <= len(earlier) for earlier, later in pairwise(cut))
    assert batches(keys[:3], workers=8) == [[key] for key in sorted(keys[:3], key=lambda key: -key.size)]
    assert batches([], workers=2) == []


def test_a_batch_on_a_cluster_gives_each_of_its_files_a_row_in_order(dask_client: Client, tmp_path: Path) -> None:
    """Twenty files go out in tasks of several files; every file comes back once, in the order given."""
    sr = 22050
    t = np.arange(sr) / sr
    files = []
    for index in range(20):
        path = tmp_path / f"tone{index:02}.wav"
        sf.write(path, 0.2 * np.sin(2 * np.pi * (100 + 50 * index) * t)[: sr // 2 + 500 * index], sr)
        files.append(path)
    table = analyze(files[::-1], client=dask_client, progress=False)
    assert list(table["path"]) == [str(path) for path in files[::-1]]
    assert table["error"].isna().all()
    assert table["duration_s"].round(3).tolist() == [round((sr // 2 + 500 * i) / sr, 3) for i in range(19, -1, -1)]
