"""The simulator's Session: tracks of a session file, their audio and meter levels, no server needed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codette_lab.daw import SILENCE_FLOOR_DBFS, Session, audio_levels
from codette_lab.errors import DAWError


def test_the_demo_session_loads_with_its_four_tracks() -> None:
    session = Session.load()
    assert session.title == "Low Tide"
    assert [track.track_type for track in session.tracks] == ["drums", "bass", "keys", "vocal"]
    assert all(track.file.is_file() and track.file.is_absolute() for track in session.tracks)
    assert session.selected is not None and session.selected.track_type == "vocal"


@pytest.mark.parametrize("wanted", ["track_002", "Bass", "bass", "BASS"])
def test_a_track_is_found_by_id_name_or_type(wanted: str) -> None:
    assert Session.load().track(wanted).track_id == "track_002"


def test_an_unknown_track_names_the_ones_there_are() -> None:
    with pytest.raises(DAWError) as caught:
        Session.load().track("Tuba")
    assert "'Tuba'" in str(caught.value) and "'Lead Vocal' (track_004)" in str(caught.value)


def test_track_audio_has_the_stems_channels_and_rate() -> None:
    session = Session.load()
    drums, sr = session.track("drums").audio()
    vocal, _ = session.track("vocal").audio()
    assert sr == 44100 and drums.shape == (2, 20 * 44100) and vocal.shape == (20 * 44100,)
    assert drums.dtype == np.float32


def test_levels_are_measured_from_the_stem() -> None:
    track = Session.load().track("drums")
    y, _sr = track.audio()
    levels = track.levels()
    assert levels["peak_level"] == pytest.approx(20 * np.log10(np.max(np.abs(y))), abs=0.01)
    assert levels["peak_level"] == pytest.approx(-0.8, abs=0.05)  # the script sets the drums' peak there
    assert levels["rms_level"] < levels["peak_level"] - 10
    assert levels["duration"] == 20.0 and levels["sample_rate"] == 44100


def test_levels_of_a_sine_and_of_silence() -> None:
    sr = 48000
    sine = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(sr) / sr)
    levels = audio_levels(sine, sr)
    assert levels["peak_level"] == pytest.approx(-6.02, abs=0.01)
    assert levels["rms_level"] == pytest.approx(-9.03, abs=0.01)
    silent = audio_levels(np.zeros((2, sr)), sr)
    assert silent["peak_level"] == silent["rms_level"] == SILENCE_FLOOR_DBFS
    assert silent["duration"] == 1.0


def test_levels_follow_an_edited_file(tmp_path: Path) -> None:
    stem = tmp_path / "tone.wav"
    sr = 8000
    tone = np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    (tmp_path / "session.json").write_text(
        json.dumps({"title": "t", "tracks": [{"track_id": "1", "track_name": "Tone", "track_type": "synth",
                                                "file": "tone.wav"}]}),
        encoding="utf-8",
    )  # fmt: skip
    sf.write(stem, 0.5 * tone, sr)
    track = Session.load(tmp_path / "session.json").track("Tone")
    assert track.levels()["peak_level"] == pytest.approx(-6.02, abs=0.01)
    sf.write(stem, 0.25 * tone[: sr // 2], sr)
    assert track.levels()["peak_level"] == pytest.approx(-12.04, abs=0.01)
    assert track.levels()["duration"] == 0.5


def test_the_chat_context_lists_every_track_and_the_selected_ones_levels() -> None:
    session = Session.load()
    context = session.daw_context(session.track("keys"))
    assert [track["track_name"] for track in context["tracks"]] == ["Drums", "Bass", "Keys", "Lead Vocal"]
    selected = context["selected_track"]
    assert selected["track_id"] == "track_003" and selected["track_type"] == "keys"
    assert selected["peak_level"] == session.track("keys").levels()["peak_level"]
    json.dumps(context, allow_nan=False)  # what goes on the wire is plain, finite JSON


def test_session_file_problems_are_named(tmp_path: Path) -> None:
    with pytest.raises(DAWError, match=r"Cannot read session file .*missing.json"):
        Session.load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(DAWError, match="not valid JSON"):
        Session.load(broken)
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text(json.dumps({"tracks": [{"track_id": "1"}]}), encoding="utf-8")
    with pytest.raises(DAWError, match=r"tracks\[0\] needs the strings track_id, track_name, track_type, file"):
        Session.load(incomplete)


def test_an_unreadable_stem_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.flac").write_bytes(b"not audio at all")
    (tmp_path / "session.json").write_text(
        json.dumps({"tracks": [{"track_id": "1", "track_name": "Bad", "track_type": "audio", "file": "bad.flac"}]}),
        encoding="utf-8",
    )
    track = Session.load(tmp_path / "session.json").track("Bad")
    with pytest.raises(DAWError, match=r"Track 'Bad': cannot read audio file .*bad.flac"):
        track.audio()
