"""Files under the audio roots are read safely: no link out, no FIFO, no huge file, no absolute path shown."""

from __future__ import annotations

import json
import os
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile

from codette_lab.audio_input import NAME_MAX, PATH_MAX, READ_BLOCK_FRAMES, AudioRoots, read_audio_file
from codette_lab.engine import Engine
from codette_lab.errors import AudioError

SR = 44100


def tone(seconds: float, frequency: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def test_a_fifo_is_refused_at_once_instead_of_blocking_a_worker(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "stuck.wav")  # nothing ever writes to it: opening it to read would block for good
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_audio_file("stuck.wav", roots=[tmp_path])
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(30)  # a deadline against a hang, not a speed target (that is in benchmarks/bench_responsiveness.py)
    assert not reader.is_alive(), "reading a FIFO blocked"
    [error] = outcome
    assert isinstance(error, AudioError) and "cannot open 'stuck.wav': not a regular file" in str(error)
    with pytest.raises(AudioError, match="not a regular file"):
        (tmp_path / "folder").mkdir()
        read_audio_file("folder", roots=[tmp_path])


def test_a_folder_swapped_for_a_link_out_of_the_root_is_never_read_through(tmp_path: Path) -> None:
    """The race of the issue: while requests read root/sub/a.wav, sub flips between a folder and a link out."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "real").mkdir(parents=True)
    outside.mkdir()
    soundfile.write(root / "real" / "a.wav", tone(0.1), SR)
    soundfile.write(outside / "a.wav", tone(0.3), SR)  # three times longer: told apart by its length
    os.symlink(root / "real", root / "sub")
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            os.replace(root / "sub", root / "old") if (root / "sub").exists() else None
            os.symlink(outside, root / "tmp_link")
            os.replace(root / "tmp_link", root / "sub")
            os.unlink(root / "sub")
            os.symlink(root / "real", root / "sub")
            if (root / "old").is_symlink():
                os.unlink(root / "old")

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    lengths = set()
    try:
        for _ in range(300):
            try:
                samples, _ = read_audio_file("sub/a.wav", roots=[root])
            except AudioError as error:
                assert "outside the allowed audio roots" in str(error) or "no audio file" in str(error)
                continue
            lengths.add(samples.shape[1])
    finally:
        stop.set()
        swapper.join()
    assert lengths <= {int(0.1 * SR)}  # the outside file was never read


def test_links_inside_the_root_are_followed_and_loops_refused(tmp_path: Path) -> None:
    (tmp_path / "stems").mkdir()
    soundfile.write(tmp_path / "stems" / "vox.wav", tone(0.1), SR)
    os.symlink("stems/vox.wav", tmp_path / "relative.wav")
    os.symlink("../stems/vox.wav", tmp_path / "stems" / "up_and_back.wav")
    os.symlink("loop_b", tmp_path / "loop_a")
    os.symlink("loop_a", tmp_path / "loop_b")
    assert read_audio_file("relative.wav", roots=[tmp_path])[0].shape[1] == int(0.1 * SR)
    assert read_audio_file("stems/up_and_back.wav", roots=[tmp_path])[0].shape[1] == int(0.1 * SR)
    with pytest.raises(AudioError, match="loop_a"):
        read_audio_file("loop_a", roots=[tmp_path])


def test_unusable_paths_get_a_field_error_not_an_os_error(tmp_path: Path) -> None:
    roots = AudioRoots([tmp_path])
    cases = {
        "n" * (NAME_MAX + 1) + ".wav": f"at most {NAME_MAX} bytes",
        "/".join(["d" * 200] * 25): f"at most {PATH_MAX} bytes",
        "bad\udc80name.wav": "lone surrogate",
    }
    for path, expected in cases.items():
        with pytest.raises(AudioError) as caught:
            read_audio_file(path, roots=roots)
        assert "'audio_data.file_path'" in str(caught.value) and expected in str(caught.value)


def test_errors_name_paths_relative_to_the_root_never_the_servers_own(tmp_path: Path) -> None:
    engine = Engine(audio_roots=[tmp_path])
    soundfile.write(tmp_path / "short.wav", tone(0.1), SR)
    (tmp_path / "notes.wav").write_text("not audio")
    for name in ("no-such.wav", "notes.wav", "../x.wav", "/etc/passwd"):
        reply = engine.respond(
            json.dumps({"type": "analyze", "track_data": {"track_id": 1}, "audio_data": {"file_path": name}})
        )
        assert reply["type"] == "error" and "'audio_data.file_path'" in reply["message"]
        assert str(tmp_path) not in reply["message"]
        if name != "notes.wav":  # where it looked: the root by its folder name
            assert f"'{tmp_path.name}'" in reply["message"]


def bytes_read_by_this_process() -> int:
    """Bytes this process has read through read() calls so far (``rchar`` of /proc/self/io), sparse zeros too."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("/proc/self/io has no rchar line")


def _stretch_wav(path: Path, size: int) -> None:
    """Make ``path`` (a 16-bit WAV) claim and hold ``size`` bytes, as a sparse file (nothing written)."""
    data = bytearray(path.read_bytes()[:44])
    assert data[36:40] == b"data"
    struct.pack_into("<I", data, 4, size - 8)
    struct.pack_into("<I", data, 40, size - 44)
    with path.open("r+b") as handle:
        handle.write(data)
        handle.truncate(size)


def test_a_file_longer_than_the_limit_is_refused_before_its_samples_are_read(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "huge.wav", tone(0.1), SR, subtype="PCM_16")
    _stretch_wav(tmp_path / "huge.wav", 256 * 2**20)  # 50 minutes of mono, sparse on disk
    before = bytes_read_by_this_process()
    with pytest.raises(AudioError, match=r"'huge\.wav' lasts 30\d\d s; the server reads files of at most 600 s"):
        read_audio_file("huge.wav", roots=AudioRoots([tmp_path]))
    assert bytes_read_by_this_process() - before < 2**20, "the samples were read before the length was checked"
    soundfile.write(tmp_path / "two.wav", tone(2.0), SR)
    with pytest.raises(AudioError, match="at most 1 s"):
        read_audio_file("two.wav", roots=AudioRoots([tmp_path], max_seconds=1))
    reply = Engine(audio_roots=[tmp_path], max_audio_seconds=1).respond(
        '{"type": "analyze", "track_data": {"track_id": 1}, "audio_data": {"file_path": "two.wav"}}'
    )
    assert reply["type"] == "error" and "max_audio_seconds" in reply["message"]


def test_files_are_read_in_blocks_into_channel_rows_exactly(tmp_path: Path) -> None:
    """Lengths around the block size, mono to 6 channels: the samples are those soundfile reads."""
    rng = np.random.default_rng(7)
    block = READ_BLOCK_FRAMES
    for channels, frames in ((1, 1), (2, block), (2, block + 1), (6, 3 * block - 5)):
        name = f"c{channels}_{frames}.flac"
        noise = (rng.standard_normal((frames, channels)) * 0.2).clip(-1, 1)
        soundfile.write(tmp_path / name, noise, 48000, subtype="PCM_24")
        audio, rate = read_audio_file(name, roots=[tmp_path])
        expected, _ = soundfile.read(tmp_path / name, dtype="float32", always_2d=True)
        assert rate == 48000 and audio.flags.c_contiguous and audio.dtype == np.float32
        np.testing.assert_array_equal(audio, expected.T)


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_16_bit_files_give_the_floats_libsndfile_gives(tmp_path: Path, channels: int) -> None:
    """16-bit PCM is scaled by the reader itself: every value, the extremes included, over several blocks."""
    rng = np.random.default_rng(channels)
    stored = rng.integers(-32768, 32768, size=(READ_BLOCK_FRAMES * 2 + 17, channels)).astype(np.int16)
    stored[:2] = [[-32768] * channels, [32767] * channels]
    soundfile.write(tmp_path / "take.wav", stored, 44100, subtype="PCM_16")
    samples, rate = read_audio_file("take.wav", roots=[tmp_path])
    expected = soundfile.read(tmp_path / "take.wav", dtype="float32", always_2d=True)[0].T
    assert rate == 44100 and samples.dtype == np.float32 and samples.shape == (channels, len(stored))
    np.testing.assert_array_equal(samples, expected)
    assert samples[:, 0].tolist() == [-1.0] * channels
