"""Audio in analyze requests: base64 samples and files under the audio roots, read back for real."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from codette_lab.analysis import measure
from codette_lab.audio_input import AudioRoots, decode_samples, load_audio, read_audio_file
from codette_lab.errors import AudioError
from codette_lab.protocol import AudioData
from codette_lab.resources import demo_session_path

SR = 48000


def stereo_tone(seconds: float = 1.0) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 880 * t)]).astype(np.float32)


def encode(x: np.ndarray) -> str:
    """(channels, n) -> base64 of interleaved little-endian float32."""
    return base64.b64encode(np.ascontiguousarray(x.T).astype("<f4").tobytes()).decode("ascii")


def test_base64_samples_round_trip() -> None:
    x = stereo_tone()
    audio, rate = decode_samples(encode(x), channels=2, sample_rate=48000.0)
    assert rate == SR and audio.dtype == np.float32 and audio.shape == x.shape
    np.testing.assert_array_equal(audio, x)
    loaded = load_audio(AudioData(samples=encode(x[:1]), sample_rate=SR), roots=AudioRoots([]))
    np.testing.assert_array_equal(loaded[0], x[:1])
    assert load_audio(AudioData(peak_level=-3.0), roots=AudioRoots([])) is None


@pytest.mark.parametrize(
    ("payload", "channels", "rate", "field", "words"),
    [
        ("not base64!!", 1, SR, "audio_data.samples", "not base64"),
        (base64.b64encode(b"\x00" * 6).decode(), 1, SR, "audio_data.samples", "6 bytes"),
        (
            base64.b64encode(np.zeros(5, "<f4").tobytes()).decode(),
            2,
            SR,
            "audio_data.samples",
            "5 samples do not divide into 2",
        ),
        ("", 1, SR, "audio_data.samples", "at least one sample"),
        (
            base64.b64encode(np.array([0, np.nan], "<f4").tobytes()).decode(),
            1,
            SR,
            "audio_data.samples",
            "sample 1 of channel 0 is nan",
        ),
        (
            base64.b64encode(np.array([0, 0, np.inf, 0], "<f4").tobytes()).decode(),
            2,
            SR,
            "audio_data.samples",
            "sample 1 of channel 0 is infinity",
        ),
        (
            base64.b64encode(np.array([0, 32767], "<f4").tobytes()).decode(),
            1,
            SR,
            "audio_data.samples",
            "not integer pcm",
        ),
        (base64.b64encode(np.zeros(4, "<f4").tobytes()).decode(), 1, 0, "audio_data.sample_rate", "got 0"),
        (
            base64.b64encode(np.zeros(4, "<f4").tobytes()).decode(),
            1,
            1_000_000,
            "audio_data.sample_rate",
            "between 8000 and 384000",
        ),
        (base64.b64encode(np.zeros(4, "<f4").tobytes()).decode(), 1, 44100.5, "audio_data.sample_rate", "whole number"),
    ],
)
def test_bad_samples_are_named(payload: str, channels: int, rate: float, field: str, words: str) -> None:
    with pytest.raises(AudioError) as caught:
        decode_samples(payload, channels=channels, sample_rate=rate)
    text = str(caught.value)
    assert f"'{field}'" in text
    assert words in text.lower()


@pytest.mark.parametrize(
    ("suffix", "subtype"), [(".wav", "FLOAT"), (".flac", "PCM_24"), (".ogg", "VORBIS"), (".aiff", "PCM_16")]
)
def test_files_read_back_through_the_roots(tmp_path: Path, suffix: str, subtype: str) -> None:
    x = stereo_tone()
    soundfile.write(tmp_path / f"tone{suffix}", x.T, SR, subtype=subtype)
    roots = AudioRoots([tmp_path])
    audio, rate = read_audio_file(tmp_path / f"tone{suffix}", roots=roots)
    assert rate == SR and audio.shape[0] == 2 and audio.dtype == np.float32
    lossless = subtype != "VORBIS"
    assert audio.shape[1] == x.shape[1] if lossless else abs(audio.shape[1] - x.shape[1]) < 2048
    if lossless:
        np.testing.assert_allclose(audio, x, atol=1e-4)
    relative, _ = load_audio(AudioData(file_path=f"tone{suffix}"), roots=roots)
    np.testing.assert_array_equal(relative, audio)
    metrics = measure(audio, sr=rate, kinds=["levels"])
    assert metrics["peak_dbfs"] == pytest.approx(-6.02, abs=0.2)


def test_paths_leaving_the_roots_are_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    soundfile.write(outside / "secret.wav", stereo_tone().T, SR)
    soundfile.write(root / "sub" / "fine.wav", stereo_tone().T, SR)
    os.symlink(outside / "secret.wav", root / "link.wav")
    os.symlink(outside, root / "linked_dir")
    os.symlink(root / "sub" / "fine.wav", root / "inner_link.wav")
    roots = AudioRoots([root])

    refused = [
        str(outside / "secret.wav"),  # absolute, elsewhere
        "../outside/secret.wav",  # climbing out
        str(root / "sub" / ".." / ".." / "outside" / "secret.wav"),  # climbing out from an absolute path
        "sub/../fine.wav",  # '..' is refused even when it would stay inside
        "link.wav",  # a symlink leading out
        "linked_dir/secret.wav",  # a symlinked directory leading out
    ]
    for path in refused:
        with pytest.raises(AudioError) as caught:
            load_audio(AudioData(file_path=path), roots=roots)
        text = str(caught.value)
        assert "'audio_data.file_path'" in text and path in text and "'root'" in text  # the root by name only
        assert str(root.resolve()) not in text.replace(path, "")  # no absolute path of the server's own
    assert load_audio(AudioData(file_path="inner_link.wav"), roots=roots)[1] == SR
    assert read_audio_file("sub/fine.wav", roots=[root])[1] == SR
    second = tmp_path / "second_root"
    second.mkdir()
    with pytest.raises(AudioError, match="outside the allowed audio roots"):  # not 'missing' in the second root
        read_audio_file("link.wav", roots=[root, second])
    soundfile.write(second / "link.wav", stereo_tone().T, SR)  # an allowed file of that name in another root
    assert read_audio_file("link.wav", roots=[root, second])[1] == SR


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    roots = AudioRoots([tmp_path])
    (tmp_path / "notes.wav").write_text("this is not audio")
    with pytest.raises(AudioError, match=r"no audio file at 'missing\.wav'"):
        read_audio_file("missing.wav", roots=roots)
    with pytest.raises(AudioError, match=r"cannot read 'notes\.wav' as audio"):
        read_audio_file("notes.wav", roots=roots)
    with pytest.raises(AudioError, match=r"'other_track\.audio_data\.file_path'"):
        load_audio(AudioData(file_path="missing.wav"), roots=roots, field="other_track.audio_data")


def test_default_root_is_the_demo_sessions_folder() -> None:
    roots = AudioRoots(None)
    assert roots.roots == (demo_session_path().parent.resolve(),)
    samples, sample_rate = read_audio_file("stems/vocal.flac", roots=roots)  # the demo stems, as the session names them
    assert samples.ndim == 2 and samples.shape[1] > 0 and sample_rate > 0
