"""Audio files attached to a binary frame, decoded from memory with soundfile (libsndfile).

Layer 3. The bytes are a file as the user has it (WAV, FLAC, OGG/Vorbis or
Opus, MP3, AIFF, ...: whatever libsndfile decodes); the container is
sniffed, never declared. Its header is read first, and audio longer than
``max_seconds`` is refused before a single block is decoded, so a tiny FLAC
that expands to hours of silence costs nothing; then the whole file is
decoded once, block by block, into a (channels, n) float32 array, never more
frames than the header declared. A long FLAC is decoded in two halves at once
on a machine with more than one core (:func:`read_attached`): FLAC seeks to an
exact sample, so the halves join into the very samples one pass gives, in about
half the time (a 10-minute stereo file: 0.24 s instead of 0.45 s). Errors are :class:`~codette_lab.errors.AudioError`
naming the field (``audio_data.attachment``), as the wire error texts do.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .audio_input import (
    DEFAULT_MAX_AUDIO_SECONDS,
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    DecodedAudio,
    check_samples,
    parse_with_samples,
    read_channels_into,
)
from .errors import AudioError
from .protocol import AnalyzeRequest, Request
from .protocol.attachments import is_attachment_frame, parse_attachment_frame
from .protocol.quoting import quote_client_text

if TYPE_CHECKING:
    import numpy as np
    import soundfile

#: What the error texts say the server decodes.
DECODABLE_FORMATS = "WAV, FLAC, OGG, MP3, AIFF"
#: Characters of a client's file name shown in an error text.
SHOWN_NAME_LIMIT = 120
#: FLAC files of at least this many frames (47 s at 44.1 kHz) are decoded in two halves at once; shorter
#: ones take less time than handing half of them to a thread saves.
SPLIT_DECODE_FRAMES = 2**21


class MemoryFile(io.RawIOBase):
    """A read-only, seekable file over bytes already in memory, read without copying them first."""

    def __init__(self, data: memoryview) -> None:
        super().__init__()
        self._data = data
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), len(self._data) - self._position))
        buffer[:count] = self._data[self._position : self._position + count]
        self._position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._data)}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position


def _invalid(field: str, problem: str) -> AudioError:
    return AudioError(f"Invalid field '{field}' in analyze: {problem}")


def decode_attachment(
    data: memoryview, *, name: str | None, field: str, max_seconds: float, pcm16: bool = False
) -> tuple[np.ndarray, int]:
    """The audio of one attached file -> ((channels, n) float32, sample rate); AudioError naming
    ``<field>.attachment`` for bytes that are not audio, audio too long, or an unusable rate.

    ``pcm16``: a 16-bit PCM file comes as its int16 samples, unscaled (half the bytes: what a parsing
    process hands on; times 2**-15 they are the float32 samples, exactly)."""
    import numpy as np
    import soundfile

    where = f"{field}.attachment"
    shown = f"'{quote_client_text(name, SHOWN_NAME_LIMIT)}'" if name else "the attached file"
    try:
        with soundfile.SoundFile(MemoryFile(data)) as audio_file:
            rate, frames = audio_file.samplerate, audio_file.frames
            if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
                raise _invalid(
                    where, f"{shown} has a sample rate of {rate} Hz; expected {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz"
                )
            if frames > max_seconds * rate:
                raise _invalid(
                    where,
                    f"{shown} lasts {frames / rate:.0f} s by its header; the server decodes audio of at most "
                    f"{max_seconds:g} s (max_audio_seconds)",
                )
            as_pcm16 = pcm16 and audio_file.subtype == "PCM_16"
            audio = read_attached(data, audio_file, frames, np.dtype(np.int16 if as_pcm16 else np.float32))
    except (soundfile.SoundFileError, RuntimeError, OSError, ValueError, TypeError, MemoryError) as exc:
        reason = getattr(exc, "error_string", None) or str(exc).strip() or type(exc).__name__
        raise _invalid(
            where,
            f"the attached bytes are not audio the server can decode ({DECODABLE_FORMATS}; {shown}: {reason})",
        ) from None
    if audio.size == 0:
        raise _invalid(where, f"{shown} holds no samples")
    if audio.dtype != np.int16:  # 16-bit samples are always finite and within full scale
        check_samples(audio, field=where)
    return audio, int(rate)


def read_attached(data: memoryview, audio_file: soundfile.SoundFile, frames: int, dtype: np.dtype) -> np.ndarray:
    """The (channels, n) samples of ``audio_file`` (open on ``data``, at its start) as ``dtype`` (float32,
    or int16 for 16-bit PCM: see :func:`~codette_lab.audio_input.read_channels_into`): at most ``frames``,
    fewer when the file ends sooner, the same samples as one pass.

    A FLAC of SPLIT_DECODE_FRAMES or more, on more than one core, is decoded in two halves at once: this
    thread decodes the first, a helper thread opens the bytes again, seeks to the middle and decodes the
    second (libsndfile lets go of the interpreter lock while it decodes). Wherever the two could differ
    from one pass, one pass decides: a file that ends before the middle gives what this thread read, and
    a second half that cannot be sought or read is read again here, on from the first half.
    """
    import numpy as np

    audio = np.empty((audio_file.channels, frames), dtype=dtype)
    if audio_file.format != "FLAC" or frames < SPLIT_DECODE_FRAMES or (os.cpu_count() or 1) < 2:
        done = read_channels_into(audio_file, audio)
        return audio if done == frames else np.ascontiguousarray(audio[:, :done])
    middle = frames // 2

    def second_half() -> int:
        import soundfile

        with soundfile.SoundFile(MemoryFile(data)) as again:
            again.seek(middle)
            return read_channels_into(again, audio[:, middle:])

    with ThreadPoolExecutor(1, thread_name_prefix="codette-decode") as helper:
        later = helper.submit(second_half)
        done = read_channels_into(audio_file, audio[:, :middle])
        try:
            second = later.result()
        except Exception:  # one pass would read on from here: so does this thread, meeting the same bytes
            second = None
    if done < middle:  # the file ended before the middle
        return np.ascontiguousarray(audio[:, :done])
    if second is None:
        second = read_channels_into(audio_file, audio[:, middle:])
    done += second
    return audio if done == frames else np.ascontiguousarray(audio[:, :done])


def parse_with_audio(
    frame: str | bytes, *, max_seconds: float = DEFAULT_MAX_AUDIO_SECONDS, pcm16: bool = False
) -> tuple[Request, DecodedAudio]:
    """Parse any frame and decode the audio it carries (attached files or base64 ``samples``), by field.

    What a parsing process of the server does with large and attachment frames; the request keeps its
    ``attachment`` objects (name and size), while their audio is in the decoded mapping (``pcm16``: an
    attached 16-bit PCM file as its int16 samples, see :func:`decode_attachment`).
    """
    if not is_attachment_frame(frame):
        return parse_with_samples(frame)
    request, attached = parse_attachment_frame(frame if isinstance(frame, bytes) else frame.encode())
    assert isinstance(request, AnalyzeRequest)
    audios = {"audio_data": request.audio}
    if request.other_track is not None:
        audios["other_track.audio_data"] = request.other_track.audio
    decoded = {}
    for field, data in attached.items():
        attachment = audios[field].attachment
        decoded[field] = decode_attachment(
            data, name=attachment.name if attachment else None, field=field, max_seconds=max_seconds, pcm16=pcm16
        )
    return request, decoded
