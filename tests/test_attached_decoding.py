"""A long attached FLAC decoded in two halves at once gives the very samples one pass gives.

Real FLAC files encoded by libsndfile in the test, decoded by ``decode_attachment`` (which splits them)
and, as the reference, by one pass of ``read_channels`` over the same bytes; also files cut short (a
bounce that did not finish uploading), before and after the middle, where one pass decides what comes out;
and what a server's parsing process hands back of such files (16-bit ones cross its pipe as int16).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from codette_lab.attached_audio import SPLIT_DECODE_FRAMES, MemoryFile, decode_attachment
from codette_lab.audio_input import read_channels
from codette_lab.errors import AudioError

RATE = 44100
#: Not a multiple of any block size: the middle falls inside a FLAC frame.
FRAMES = SPLIT_DECODE_FRAMES + 12_345


def flac(channels: int, *, frames: int = FRAMES, subtype: str = "PCM_16") -> bytes:
    """Noise with a slow sweep in it (every part of the file differs), encoded as FLAC in memory."""
    rng = np.random.default_rng(channels)
    t = np.arange(frames) / RATE
    tone = 0.3 * np.sin(2 * np.pi * (50 + 20 * t) * t)
    audio = tone[:, None] + 0.05 * rng.standard_normal((frames, channels))
    buffer = io.BytesIO()
    soundfile.write(buffer, audio.astype("float32"), RATE, format="FLAC", subtype=subtype)
    return buffer.getvalue()


def one_pass(data: bytes) -> np.ndarray:
    with soundfile.SoundFile(MemoryFile(memoryview(data))) as audio_file:
        return read_channels(audio_file, audio_file.frames)


def decoded(data: bytes) -> np.ndarray:
    audio, rate = decode_attachment(memoryview(data), name="mix.flac", field="audio_data", max_seconds=600)
    assert rate == RATE
    return audio


@pytest.mark.parametrize(("channels", "subtype"), [(2, "PCM_16"), (1, "PCM_16"), (2, "PCM_24")])
def test_a_long_flac_decoded_in_two_halves_is_the_one_pass_decoding(channels: int, subtype: str) -> None:
    data = flac(channels, subtype=subtype)
    audio = decoded(data)
    assert audio.shape == (channels, FRAMES) and audio.dtype == np.float32 and audio.flags.c_contiguous
    np.testing.assert_array_equal(audio, one_pass(data))
    assert np.abs(audio[:, FRAMES // 2 - 5 : FRAMES // 2 + 5]).max() > 0  # the seam holds sound, not zeros


def outcome(decode, data: bytes) -> np.ndarray | str:
    """The samples ``decode(data)`` gives, or the text of what it raised."""
    try:
        return decode(data)
    except (soundfile.SoundFileError, RuntimeError, AudioError) as failure:
        return str(failure)


@pytest.mark.parametrize("kept", [0.3, 0.7])
def test_a_flac_cut_short_gives_what_one_pass_gives(kept: float) -> None:
    """Cut before the middle (this thread meets the cut) or after it (the helper does, and the second half
    is read again on from the first): the samples, or libsndfile's complaint, are those of one pass."""
    whole = flac(2)
    data = whole[: int(len(whole) * kept)]
    reference, got = outcome(one_pass, data), outcome(decoded, data)
    if isinstance(reference, str):
        assert isinstance(got, str) and reference.strip() in got, (reference, got)
    else:
        assert not isinstance(got, str), got
        np.testing.assert_array_equal(got, reference)


def wav(subtype: str, frames: int = RATE * 3) -> bytes:
    rng = np.random.default_rng(11)
    buffer = io.BytesIO()
    soundfile.write(
        buffer, (0.2 * rng.standard_normal((frames, 2))).astype("float32"), RATE, format="WAV", subtype=subtype
    )
    return buffer.getvalue()


@pytest.mark.parametrize(("mix", "vocal"), [("PCM_16", "FLOAT"), ("PCM_24", "PCM_16")])
def test_a_parsing_process_hands_back_the_samples_decoded_here(mix: str, vocal: str) -> None:
    """A long FLAC (the mix) and a WAV (the vocal) in one masking frame: a 16-bit file crosses the pipe as
    its int16 samples (half the bytes) and arrives as the very float32 samples decoded in this process,
    any other as its float32 bytes."""
    import asyncio
    import json

    from codette_lab.protocol.attachments import build_frame
    from codette_lab.server.parsing import ParserProcesses

    files = [flac(2, subtype=mix), wav(vocal)]
    header = {
        "type": "analyze",
        "analysis_type": "masking",
        "track_data": {"track_name": "Mix", "track_type": "master"},
        "audio_data": {"attachment": {"bytes": len(files[0]), "name": "mix.flac"}},
        "other_track": {
            "track_data": {"track_name": "Vocal", "track_type": "vocal"},
            "audio_data": {"attachment": {"bytes": len(files[1]), "name": "vocal.wav"}},
        },
    }
    frame = build_frame(json.dumps(header).encode(), *files)

    async def parse():
        parsers = ParserProcesses(size=1)
        try:
            return await parsers.parse(frame)
        finally:
            await parsers.stop()

    _, decoded = asyncio.run(parse())
    for field, data in zip(("audio_data", "other_track.audio_data"), files, strict=True):
        here, rate = decode_attachment(memoryview(data), name=None, field=field, max_seconds=600)
        there, sent_rate = decoded[field]
        assert there.dtype == np.float32 and there.flags.writeable and sent_rate == rate
        np.testing.assert_array_equal(there, here)
