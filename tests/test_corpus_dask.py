"""Corpus analysis on a real Dask cluster: the demo stems, a corrupt file, the same answers as in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from distributed import Client, LocalCluster

import codette_lab
from codette_lab.corpus import analyze_corpus, audio_files

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Two single-threaded worker processes, as analyze_corpus makes for itself (shared to save start-up)."""
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as connected,
    ):
        yield connected


@pytest.fixture
def corpus(tmp_path: Path) -> list[Path]:
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


def test_each_file_gets_a_result_in_order_and_bad_files_get_errors(client: Client, corpus: list[Path]) -> None:
    results = analyze_corpus(corpus, kind="quality", track_type="vocal", client=client)
    assert [result["path"] for result in results] == [str(path) for path in corpus]
    healthy, corrupt, rumbly, missing = results
    for good in (healthy, rumbly):
        assert good["error"] is None
        assert 0.0 <= good["quality_score"] <= 1.0
        assert good["metrics"]["duration_s"] == pytest.approx(2.0, abs=1e-3)
        assert good["kind"] == "quality" and good["track_type"] == "vocal"
    for bad in (corrupt, missing):
        assert bad["quality_score"] is None and bad["metrics"] == {} and bad["suggestions"] == bad["problems"] == []
        assert bad["error"].startswith(f"cannot read audio file {bad['path']}")
    assert rumbly["quality_score"] < healthy["quality_score"], "rumble under a vocal costs quality"


def flat(metrics: dict, prefix: str = "") -> dict:
    """Nested metrics (``band_energy_db``) as one level, for pytest.approx."""
    out = {}
    for name, value in metrics.items():
        out.update(flat(value, f"{prefix}{name}.") if isinstance(value, dict) else {f"{prefix}{name}": value})
    return out


def test_the_cluster_gives_the_same_answer_as_analyze_in_the_notebook(client: Client) -> None:
    """Equal up to float rounding: worker processes run BLAS/FFT single-threaded, which sums in another order."""
    stems = sorted((DATA / "stems").glob("*.flac"))
    results = analyze_corpus(stems, kind="spectrum", track_type="keys", client=client)
    for path, result in zip(stems, results):
        y, sr = sf.read(path, dtype="float32")
        local = codette_lab.analyze(y.T, sr, kind="spectrum", track_type="keys").to_wire()
        assert result["error"] is None
        assert result["quality_score"] == pytest.approx(local["quality_score"], rel=1e-6)
        assert result["suggestions"] == local["mixing_suggestions"]
        assert flat(result["metrics"]) == pytest.approx(flat(local["metrics"]), rel=1e-6, abs=1e-9)
        assert result["problems"] == local["problems_detected"]


def test_an_unknown_analysis_kind_is_an_error_per_file_not_a_crash(client: Client, corpus: list[Path]) -> None:
    results = analyze_corpus(corpus[:1], kind="no_such_kind", client=client)
    assert "no_such_kind" in results[0]["error"]


def test_without_a_client_a_local_cluster_is_made_and_closed(corpus: list[Path]) -> None:
    results = analyze_corpus(corpus[:2], kind="dynamics")
    assert results[0]["error"] is None and results[1]["error"] is not None


def test_an_empty_corpus_needs_no_cluster() -> None:
    assert analyze_corpus([]) == []


def test_audio_files_finds_the_demo_stems() -> None:
    found = audio_files(DATA)
    assert [path.name for path in found] == ["bass.flac", "drums.flac", "keys.flac", "vocal.flac"]


def test_tuned_rules_reach_the_worker_processes(client: Client) -> None:
    vocal = DATA / "stems" / "vocal.flac"
    tuned = codette_lab.RuleSet.default()
    tuned["vocal.highpass_hz"] = 123
    default_run, tuned_run = (
        analyze_corpus([vocal], kind="quality", track_type="vocal", client=client, rules=rules)[0]
        for rules in (None, tuned)
    )
    assert any("at 80 Hz" in text for text in default_run["suggestions"])
    assert any("at 123 Hz" in text for text in tuned_run["suggestions"])
    assert not any("at 80 Hz" in text for text in tuned_run["suggestions"])
