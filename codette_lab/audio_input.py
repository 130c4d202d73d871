"""Real audio in ``analyze`` requests: base64 float32 samples or a file under the allowed audio roots.

Layer 3: turns ``protocol.AudioData`` into a (channels, n) float32 array and
a sample rate for :mod:`codette_lab.analysis`, or raises
:class:`~codette_lab.errors.AudioError` whose text names the field and the
problem (it is the wire error text). Error texts name files as the client
did and roots by their folder name, never by the server's absolute paths.

Files are read only under the audio roots the user configured, and safely
against a client (or anyone with write access to a root) swapping things
under the server's feet: the path is walked one component at a time with
``os.open(..., dir_fd=..., O_NOFOLLOW)``, so a link is never followed by the
kernel; a link is followed by hand only while its target stays inside the
root. The file is opened non-blocking (a FIFO cannot hang a worker), the
opened descriptor must be a regular file, and the audio is read from that
very descriptor, after its frame count was checked against a duration limit.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import errno
import math
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from os import PathLike
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from .errors import AudioError, PathEscapeError
from .protocol import AnalyzeRequest, AudioData, Request, parse_request, texts
from .protocol.quoting import quote_client_text
from .resources import default_audio_root

if TYPE_CHECKING:  # numpy is imported when audio is decoded, not when the server starts
    import numpy as np
    import soundfile

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 384_000
FLOAT32_BYTES = 4
#: Formats soundfile (libsndfile) is asked to read, as named in errors.
READABLE_FORMATS = "WAV, FLAC, OGG, AIFF"
#: File name suffixes of those formats (lower case): what a folder of audio is searched for.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif")
#: Longest audio file read, in seconds (checked from the header before any sample is read).
DEFAULT_MAX_AUDIO_SECONDS = 600.0
#: Frames decoded at a time when a file is read: each block is turned into channel rows while it is
#: still in the cache, which is faster than transposing the whole interleaved file afterwards.
READ_BLOCK_FRAMES = 2**16
#: Longest path component and whole path a ``file_path`` may have, in UTF-8 bytes (Linux NAME_MAX, PATH_MAX).
NAME_MAX = 255
PATH_MAX = 4096
#: Characters of a client's file path shown in an error text (longer ones are clipped).
SHOWN_PATH_LIMIT = 256
#: Links followed inside a root before giving up (the kernel's own limit for one path).
MAX_LINKS = 40

#: The fields, and :data:`DecodedAudio` keys, of a request's audio: the track's own and the second track's.
AUDIO_FIELD = "audio_data"
OTHER_AUDIO_FIELD = "other_track.audio_data"

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _invalid(field: str, problem: str) -> AudioError:
    return AudioError(texts.field_problem("analyze", field, problem))


class AudioRoots:
    """The folders whose files a request may name (resolved once), and the longest file read.

    ``None`` means :func:`~codette_lab.resources.default_audio_root` (the demo session's folder).
    """

    def __init__(
        self, roots: Iterable[str | PathLike[str]] | None = None, *, max_seconds: float = DEFAULT_MAX_AUDIO_SECONDS
    ) -> None:
        chosen = [default_audio_root()] if roots is None else [Path(root) for root in roots]
        self.roots: tuple[Path, ...] = tuple(root.expanduser().resolve() for root in chosen)
        self._given = tuple(root.expanduser().absolute() for root in chosen)
        self.max_seconds = float(max_seconds)

    def __repr__(self) -> str:
        return f"AudioRoots({[str(root) for root in self.roots]!r})"

    def describe(self) -> str:
        """The roots by folder name, as error texts show them (a client never sees absolute paths)."""
        return ", ".join(f"'{root.name or root}'" for root in self.roots) or "none configured"

    def _candidates(self, text: str, field: str) -> list[tuple[Path, tuple[str, ...]]]:
        """(root, components under it) for each root ``text`` may name; AudioError for an unusable path."""
        shown = quote_client_text(text, SHOWN_PATH_LIMIT)
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid(field, "expected a file path, got text holding a lone surrogate") from None
        if not text.strip() or "\x00" in text:
            raise _invalid(field, f"expected a file path, got '{shown}'")
        if len(encoded) > PATH_MAX:
            raise _invalid(field, f"expected a path of at most {PATH_MAX} bytes, got {len(encoded)} bytes")
        candidate = PurePosixPath(text)
        longest = max((len(part.encode("utf-8")) for part in candidate.parts), default=0)
        if longest > NAME_MAX:
            raise _invalid(field, f"expected file and folder names of at most {NAME_MAX} bytes, got one of {longest}")
        if ".." in candidate.parts:
            raise _invalid(
                field, f"'{shown}' contains '..'; name a file inside the allowed audio roots ({self.describe()})"
            )
        if not candidate.is_absolute():
            return [(root, candidate.parts) for root in self.roots]
        found = []
        for root, given in zip(self.roots, self._given, strict=True):
            for base in (root, given):
                if candidate.is_relative_to(base):
                    found.append((root, candidate.relative_to(base).parts))
                    break
        if not found:
            raise _invalid(field, f"'{shown}' is outside the allowed audio roots ({self.describe()})")
        return found

    def open(self, path: str | PathLike[str], *, field: str = "audio_data.file_path") -> tuple[IO[bytes], str]:
        """The file ``path`` names under a root, opened for reading, and its path relative to that root.

        Relative paths are tried under each root in turn (the first root holding the name wins).
        AudioError for a path leaving the roots (by '..', by being elsewhere, by a link leading
        out), for something missing, and for anything that is not a regular file.
        """
        _, descriptor, inside = self._locate(os.fspath(path), field)
        return os.fdopen(descriptor, "rb"), inside

    def resolve(self, path: str | PathLike[str], *, field: str = "audio_data.file_path") -> Path:
        """The path under its root of the regular file ``path`` names (see :meth:`open`)."""
        root, descriptor, inside = self._locate(os.fspath(path), field)
        os.close(descriptor)
        return root / inside

    def _locate(self, text: str, field: str) -> tuple[Path, int, str]:
        shown = quote_client_text(text, SHOWN_PATH_LIMIT)
        escaped = False
        for root, parts in self._candidates(text, field):
            try:
                descriptor, walked = _open_beneath(root, list(parts))
            except PathEscapeError:  # an allowed file of that name in a later root may still answer
                escaped = True
                continue
            except OSError as error:
                if error.errno in (errno.ENOENT, errno.ENOTDIR):
                    continue
                problem = error.strerror or os.strerror(error.errno or 0)
                raise _invalid(field, f"cannot open '{shown}': {problem.lower()}") from None
            return root, descriptor, "/".join(walked)
        if escaped:
            raise _invalid(field, f"'{shown}' is outside the allowed audio roots ({self.describe()})")
        raise _invalid(field, f"no audio file at '{shown}' in the audio roots ({self.describe()})")


def _open_beneath(root: Path, parts: list[str]) -> tuple[int, list[str]]:
    """A descriptor of the regular file at ``root/parts``, and the components finally walked.

    Every component is opened relative to its parent's descriptor with O_NOFOLLOW; a link is read
    and followed here only while it stays inside ``root`` (PathEscapeError otherwise). Raises OSError.
    """
    stack = [os.open(root, _DIRECTORY_FLAGS)]  # descriptors of root and each directory walked
    walked: list[str] = []
    pending = [part for part in parts if part not in ("", ".", "/")]
    links = 0
    try:
        while pending:
            name = pending.pop(0)
            if name == "..":  # only from a link's target
                if not walked:
                    raise PathEscapeError(f"'..' leads out of {root}")
                walked.pop()
                os.close(stack.pop())
                continue
            last = not pending
            try:
                descriptor = os.open(name, _FILE_FLAGS if last else _DIRECTORY_FLAGS, dir_fd=stack[-1])
            except OSError as error:
                if error.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise
                try:
                    target = os.readlink(name, dir_fd=stack[-1])
                except OSError:
                    raise error from None
                links += 1
                if links > MAX_LINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP)) from None
                pending = _link_parts(root, target, walked, stack) + pending
                continue
            if last:
                if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                    os.close(descriptor)
                    raise OSError(errno.EINVAL, "not a regular file")
                os.set_blocking(descriptor, True)
                return descriptor, [*walked, name]
            stack.append(descriptor)
            walked.append(name)
        raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))
    finally:
        for descriptor in stack:
            os.close(descriptor)


def _link_parts(root: Path, target: str, walked: list[str], stack: list[int]) -> list[str]:
    """The components still to walk for a link's ``target``; an absolute one restarts at ``root``."""
    link = PurePosixPath(target)
    if not link.is_absolute():
        return list(link.parts)
    if not link.is_relative_to(root):
        raise PathEscapeError(f"a link leads out of {root}")
    while walked:  # back to the root's own descriptor
        walked.pop()
        os.close(stack.pop())
    return list(link.relative_to(root).parts)


def _check_sample_rate(sample_rate: float | None, *, field: str) -> int:
    if sample_rate is None or isinstance(sample_rate, bool):
        raise _invalid(field, f"expected a sample rate in Hz with the samples, got {sample_rate!r}")
    rate = float(sample_rate)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise _invalid(
            field, f"expected a sample rate between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz, got {sample_rate!r}"
        )
    if not rate.is_integer():
        raise _invalid(field, f"expected a whole number of samples per second, got {sample_rate!r}")
    return int(rate)


def check_samples(samples: np.ndarray, *, field: str) -> None:
    """AudioError for empty audio, the first NaN/infinite sample, or unscaled integer-sized values."""
    import numpy as np

    from .analysis.signal import MAX_SAMPLE_MAGNITUDE

    if samples.size == 0:
        raise _invalid(field, "expected at least one sample, got none")
    if not np.isfinite(samples.sum(dtype=np.float64)) and not (finite := np.isfinite(samples)).all():
        channel, index = (int(v) for v in np.argwhere(~finite)[0])
        value = samples[channel, index]
        shown = "NaN" if np.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        raise _invalid(field, f"sample {index} of channel {channel} is {shown}; samples must be finite")
    largest = float(max(samples.max(), -samples.min()))  # no |x| temporary: one pass each
    if largest > MAX_SAMPLE_MAGNITUDE:
        raise _invalid(
            field, f"samples reach {largest:g}; expected float samples in -1..1 (full scale 1.0), not integer PCM"
        )


def decode_samples(
    b64: str, *, channels: int, sample_rate: float | None, field: str = AUDIO_FIELD
) -> tuple[np.ndarray, int]:
    """Base64 little-endian float32 PCM, interleaved over ``channels`` -> ((channels, n) float32, sample rate)."""
    import numpy as np

    samples_field = f"{field}.samples"
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise _invalid(f"{field}.channels", f"expected a whole number of channels >= 1, got {channels!r}")
    rate = _check_sample_rate(sample_rate, field=f"{field}.sample_rate")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise _invalid(
            samples_field, "expected base64 of little-endian float32 samples, got text that is not base64"
        ) from None
    if len(raw) % FLOAT32_BYTES:
        raise _invalid(samples_field, f"decodes to {len(raw)} bytes, not a whole number of 4-byte float32 samples")
    count = len(raw) // FLOAT32_BYTES
    if count == 0:
        raise _invalid(samples_field, "expected at least one sample, got none")
    if count % channels:
        raise _invalid(
            samples_field,
            f"{count} samples do not divide into {channels} interleaved channels"
            f" (the length must be a multiple of 'channels')",
        )
    interleaved = np.frombuffer(raw, dtype="<f4").reshape(-1, channels)
    audio = np.ascontiguousarray(interleaved.T, dtype=np.float32)
    check_samples(audio, field=samples_field)
    return audio, rate


def read_audio_file(
    path: str | PathLike[str], *, roots: AudioRoots | Iterable[str | PathLike[str]] | None, field: str = AUDIO_FIELD
) -> tuple[np.ndarray, int]:
    """Read a file under ``roots`` with soundfile -> ((channels, n) float32, sample rate).

    The header is read first: a file longer than ``roots.max_seconds`` is refused before its samples are.
    """
    import soundfile

    path_field = f"{field}.file_path"
    allowed = roots if isinstance(roots, AudioRoots) else AudioRoots(roots)
    handle, inside = allowed.open(path, field=path_field)

    def too_long(seconds: float) -> AudioError:
        return _invalid(
            path_field,
            f"'{inside}' lasts {seconds:.0f} s; the server reads files of at most {allowed.max_seconds:g} s "
            "(max_audio_seconds)",
        )

    with handle:
        try:
            audio, rate = read_samples(handle, max_seconds=allowed.max_seconds, too_long=too_long)
        except (soundfile.SoundFileError, RuntimeError, OSError, ValueError, TypeError):
            raise _invalid(path_field, f"cannot read '{inside}' as audio ({READABLE_FORMATS})") from None
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise _invalid(
            path_field,
            f"'{inside}' has a sample rate of {rate} Hz; expected {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz",
        )
    if audio.size == 0:
        raise _invalid(path_field, f"'{inside}' holds no samples")
    check_samples(audio, field=path_field)
    return audio, int(rate)


def _too_long_error(seconds: float, max_seconds: float) -> ValueError:
    return ValueError(f"the file lasts {seconds:.0f} s, longer than the {max_seconds:g} s read at most")


def read_samples(
    source: str | PathLike[str] | IO[bytes],
    *,
    max_seconds: float = math.inf,
    too_long: Callable[[float], Exception] | None = None,
) -> tuple[np.ndarray, int]:
    """The one way an audio file becomes samples: ``((channels, n) float32, sample rate)``.

    ``source`` is a path or an open binary file (WAV, FLAC, OGG, AIFF: what
    libsndfile reads). The header is read first: a file longer than
    ``max_seconds`` raises ``too_long(seconds)`` (default: a ValueError
    saying how long it is) before any sample is decoded. The samples are then
    decoded in blocks straight into channel rows (:func:`read_channels`). The
    server (:func:`read_audio_file`, inside its audio roots), corpus tasks,
    rule fitting, the DAW simulator and the demo-session script all read
    through here; soundfile's own errors (LibsndfileError, a RuntimeError)
    pass through.
    """
    import soundfile

    with soundfile.SoundFile(source) as audio_file:
        rate, frames = audio_file.samplerate, audio_file.frames
        seconds = frames / max(rate, 1)
        if seconds > max_seconds:
            raise too_long(seconds) if too_long is not None else _too_long_error(seconds, max_seconds)
        return read_channels(audio_file, frames), int(rate)


#: What libsndfile scales 16-bit samples by to give floats in [-1, 1).
PCM16_SCALE = 2.0**-15


def read_channels(audio_file: soundfile.SoundFile, frames: int) -> np.ndarray:
    """The (channels, n) float32 samples of an open file, decoded READ_BLOCK_FRAMES at a time (at most
    ``frames``, the count its header gave; fewer when the file ends sooner): see :func:`read_channels_into`."""
    import numpy as np

    audio = np.empty((audio_file.channels, frames), dtype=np.float32)
    done = read_channels_into(audio_file, audio)
    return audio if done == frames else np.ascontiguousarray(audio[:, :done])


def read_channels_into(audio_file: soundfile.SoundFile, out: np.ndarray) -> int:
    """Decode the next ``out.shape[1]`` frames of an open file into ``out`` ((channels, n) float32, rows
    may be a slice of a longer array), READ_BLOCK_FRAMES at a time; the frames decoded (fewer when the
    file ends sooner).

    16-bit PCM is read as it is stored and scaled here by 2**-15, in the same pass that moves it into
    channel rows: the same floats libsndfile would give (the scale is a power of two, so exact), at
    half the cost of its conversion. An int16 ``out`` (for 16-bit PCM only) gets the samples unscaled,
    for a process that hands them on at half the size (the scaling then happens where they arrive)."""
    import numpy as np

    frames = out.shape[1]
    pcm16 = audio_file.subtype == "PCM_16"
    if out.dtype == np.int16 and not pcm16:
        raise ValueError(f"16-bit samples asked of a {audio_file.subtype} file")
    block = np.empty((min(frames, READ_BLOCK_FRAMES), audio_file.channels), dtype=np.int16 if pcm16 else np.float32)
    done = 0
    while done < frames:
        got = len(audio_file.read(min(len(block), frames - done), dtype=block.dtype.name, out=block))
        if got == 0:
            break
        if pcm16 and out.dtype != np.int16:
            np.multiply(block[:got].T, np.float32(PCM16_SCALE), out=out[:, done : done + got])
        else:
            out[:, done : done + got] = block[:got].T
        done += got
    return done


def load_audio(audio: AudioData, *, roots: AudioRoots, field: str = AUDIO_FIELD) -> tuple[np.ndarray, int] | None:
    """The audio an ``audio_data`` object carries, or None when it has neither samples nor file_path."""
    if audio.samples is not None:
        return decode_samples(audio.samples, channels=audio.channels or 1, sample_rate=audio.sample_rate, field=field)
    if audio.file_path is not None:
        return read_audio_file(audio.file_path, roots=roots, field=field)
    if audio.attachment is not None:  # decoded with its frame (codette_lab.attached_audio), or never sent
        raise _invalid(f"{field}.attachment", "no attached bytes came with this request (send it as a binary frame)")
    return None


#: Audio already decoded from a request's ``samples``, by the field it came in (``audio_data``, ...).
DecodedAudio = Mapping[str, "tuple[np.ndarray, int]"]


def parse_with_samples(frame: str | bytes) -> tuple[Request, DecodedAudio]:
    """Parse a frame and decode the ``samples`` it carries: what the server does with large frames in
    another process, so that neither the JSON scan nor the base64 decoding holds its event loop.

    Returns the request with its ``samples`` text dropped (``samples=None``), and the decoded audio by
    field; raises ProtocolError or AudioError (picklable: they cross back from the process) as inline
    parsing would.
    """
    request = parse_request(frame)
    if not isinstance(request, AnalyzeRequest):
        return request, {}
    decoded: dict[str, tuple[np.ndarray, int]] = {}

    def decoded_from(audio: AudioData, field: str) -> AudioData:
        if audio.samples is None:
            return audio
        decoded[field] = decode_samples(
            audio.samples, channels=audio.channels or 1, sample_rate=audio.sample_rate, field=field
        )
        return dataclasses.replace(audio, samples=None)

    other = request.other_track
    if other is not None:
        other = dataclasses.replace(other, audio=decoded_from(other.audio, OTHER_AUDIO_FIELD))
    audio = decoded_from(request.audio, AUDIO_FIELD)
    return dataclasses.replace(request, audio=audio, other_track=other), decoded
