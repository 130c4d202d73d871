"""The demo session shipped in the package (codette_lab/data/demo/).

Decodable, consistent with session.json, within its size budget, reproducible by its script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codette_lab.resources import demo_folder, demo_session_path

ROOT = Path(__file__).resolve().parents[1]
DATA = demo_folder()
SCRIPT = ROOT / "scripts" / "make_demo_session.py"
SESSION = json.loads(demo_session_path().read_text(encoding="utf-8"))
TRACK_FIELDS = {"track_id", "track_name", "track_type", "file", "muted", "soloed", "volume_db", "pan"}
EXPECTED_CHANNELS = {"drums": 2, "bass": 1, "keys": 2, "vocal": 1}
RENDER_TOOLS = shutil.which("fluidsynth") and shutil.which("espeak-ng")


def band_energy(audio: np.ndarray, sr: int, low: float, high: float) -> float:
    """Share of the (mono-summed) signal's energy between low and high Hz."""
    mono = audio.mean(axis=1) if audio.ndim > 1 else audio
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / sr)
    return float(power[(freqs >= low) & (freqs < high)].sum() / power.sum())


def stem(track_type: str) -> tuple[np.ndarray, int]:
    track = next(t for t in SESSION["tracks"] if t["track_type"] == track_type)
    return sf.read(DATA / track["file"])


def test_session_describes_one_song_with_the_four_expected_tracks() -> None:
    assert {"title", "key", "tempo", "tracks"} <= SESSION.keys()
    assert [t["track_type"] for t in SESSION["tracks"]] == ["drums", "bass", "keys", "vocal"]
    ids = [t["track_id"] for t in SESSION["tracks"]]
    assert len(set(ids)) == len(ids)
    assert SESSION["selected_track_id"] in ids
    for track in SESSION["tracks"]:
        assert track.keys() >= TRACK_FIELDS
        assert isinstance(track["muted"], bool) and isinstance(track["soloed"], bool)
        assert -1.0 <= track["pan"] <= 1.0


@pytest.mark.parametrize("track", SESSION["tracks"], ids=lambda t: t["track_type"])
def test_each_stem_decodes_with_the_channels_and_length_the_session_states(track: dict) -> None:
    path = DATA / track["file"]
    info = sf.info(path)
    assert info.format == "FLAC"
    assert info.samplerate == SESSION["sample_rate"] == 44100
    assert info.channels == track["channels"] == EXPECTED_CHANNELS[track["track_type"]]
    assert info.frames / info.samplerate == pytest.approx(SESSION["duration_s"], abs=1e-3)
    assert 20 <= SESSION["duration_s"] <= 30
    audio, _ = sf.read(path, always_2d=True)
    peak = np.max(np.abs(audio))
    assert 0.1 < peak < 1.0, "audible and not clipped"


def test_the_demo_folder_stays_within_its_size_budget() -> None:
    total = sum(path.stat().st_size for path in DATA.rglob("*") if path.is_file())
    assert total < 6_000_000


def test_the_mix_has_the_faults_the_lessons_look_for() -> None:
    vocal, sr = stem("vocal")
    keys, _ = stem("keys")
    bass, _ = stem("bass")
    assert band_energy(vocal, sr, 20, 80) > 0.03, "rumble under the vocal"
    assert band_energy(keys, sr, 250, 500) > band_energy(keys, sr, 500, 2000), "keys heavy in the low mids"
    assert band_energy(bass, sr, 250, 500) > 0.1, "bass reaching into the low mids"


def test_the_script_reproduces_the_committed_samples(tmp_path: Path) -> None:
    assert RENDER_TOOLS, "fluidsynth and espeak-ng re-render the demo session: run scripts/install-test-deps.sh"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True, capture_output=True)
    assert json.loads((tmp_path / "session.json").read_text(encoding="utf-8")) == SESSION
    for track in SESSION["tracks"]:
        committed, _ = sf.read(DATA / track["file"], dtype="int16")
        fresh, _ = sf.read(tmp_path / track["file"], dtype="int16")
        np.testing.assert_array_equal(fresh, committed, err_msg=track["file"])


def test_the_script_says_which_tools_are_missing(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path / "out")], capture_output=True, text=True, env=env
    )
    assert result.returncode == 2
    assert "fluidsynth" in result.stderr and "espeak-ng" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_built_in_analysis_finds_the_planted_faults() -> None:
    import codette_lab

    def problems(track_type: str, kind: str = "quality", **options) -> set[str]:
        y, sr = stem(track_type)
        wire = codette_lab.analyze(y.T, sr, kind=kind, track_type=track_type, **options).to_wire()
        return {problem["rule"] for problem in wire["problems_detected"]}

    assert "rumble" in problems("vocal")
    assert "low_mid_buildup" in problems("keys") and "low_mid_buildup" in problems("bass")
    bass, _ = stem("bass")
    assert "masking" in problems("keys", kind="masking", other=bass, other_track_type="bass")
    assert "rumble" not in problems("keys") and "masking" not in problems("vocal", kind="masking", other=bass)
