"""Real audio in ``analyze`` requests: base64 float32 samples or a file under the allowed audio roots.

Layer 3: turns ``protocol.AudioData`` into a (channels, n) float32 array and
a sample rate for :mod:`codette_lab.analysis`, or raises
:class:`~codette_lab.errors.AudioError` whose text names the field and the
problem (it is the wire error text).

Files are read only under the audio roots the user configured: paths that
leave them, by ``..``, by being absolute elsewhere, or through a symlink that
points out, are refused.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import AudioError
from .protocol import AudioData
from .resources import default_audio_root

if TYPE_CHECKING:  # numpy is imported when audio is decoded, not when the server starts
    import numpy as np

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 384_000
FLOAT32_BYTES = 4
#: Formats soundfile (libsndfile) is asked to read, as named in errors.
READABLE_FORMATS = "WAV, FLAC, OGG, AIFF"


def _invalid(field: str, problem: str) -> AudioError:
    return AudioError(f"Invalid field '{field}' in analyze: {problem}")


class AudioRoots:
    """The folders whose files a request may name (resolved once, symlinks included).

    ``None`` means :func:`~codette_lab.resources.default_audio_root` (the demo session's folder).
    """

    def __init__(self, roots: Iterable[str | PathLike[str]] | None = None) -> None:
        chosen = [default_audio_root()] if roots is None else [Path(root) for root in roots]
        self.roots: tuple[Path, ...] = tuple(root.expanduser().resolve() for root in chosen)

    def __repr__(self) -> str:
        return f"AudioRoots({[str(root) for root in self.roots]!r})"

    def describe(self) -> str:
        return ", ".join(str(root) for root in self.roots) or "none configured"

    def resolve(self, path: str | PathLike[str], *, field: str = "audio_data.file_path") -> Path:
        """The real path of ``path`` if it lies under one of the roots, else AudioError.

        Relative paths are taken relative to each root in turn (the first root
        holding an allowed file wins). ``..`` components are refused outright, and the
        check is made on the fully resolved path, so a symlink inside a root
        that leads out of every root is refused too.
        """
        text = str(path)
        if not text.strip() or "\x00" in text:
            raise _invalid(field, f"expected a file path, got {text!r}")
        candidate = Path(text)
        if ".." in candidate.parts:
            raise _invalid(
                field, f"'{text}' contains '..'; name a file inside the allowed audio roots ({self.describe()})"
            )
        options = [candidate] if candidate.is_absolute() else [root / candidate for root in self.roots]
        present = [option for option in options if option.exists() or option.is_symlink()]
        for option in present or options[:1]:
            try:
                resolved = option.resolve()
            except (OSError, RuntimeError) as error:  # a symlink loop, an unreadable directory
                raise _invalid(field, f"cannot resolve '{text}': {error}") from None
            if any(resolved.is_relative_to(root) for root in self.roots):
                return resolved
        raise _invalid(field, f"'{text}' is outside the allowed audio roots ({self.describe()})")


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


def _check_samples(samples: np.ndarray, *, field: str) -> None:
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
    b64: str, *, channels: int, sample_rate: float | None, field: str = "audio_data"
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
    _check_samples(audio, field=samples_field)
    return audio, rate


def read_audio_file(
    path: str | PathLike[str], *, roots: AudioRoots | Iterable[str | PathLike[str]] | None, field: str = "audio_data"
) -> tuple[np.ndarray, int]:
    """Read a file under ``roots`` with soundfile -> ((channels, n) float32, sample rate)."""
    import numpy as np
    import soundfile

    path_field = f"{field}.file_path"
    allowed = roots if isinstance(roots, AudioRoots) else AudioRoots(roots)
    resolved = allowed.resolve(path, field=path_field)
    if not resolved.is_file():
        raise _invalid(path_field, f"no audio file at '{path}' (looked for {resolved})")
    try:
        data, rate = soundfile.read(resolved, dtype="float32", always_2d=True)
    except (soundfile.SoundFileError, RuntimeError, OSError, ValueError, TypeError) as error:
        raise _invalid(path_field, f"cannot read '{path}' as audio ({READABLE_FORMATS}): {error}") from None
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise _invalid(
            path_field,
            f"'{path}' has a sample rate of {rate} Hz; expected {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz",
        )
    audio = np.ascontiguousarray(data.T)
    if audio.size == 0:
        raise _invalid(path_field, f"'{path}' holds no samples")
    _check_samples(audio, field=path_field)
    return audio, int(rate)


def load_audio(audio: AudioData, *, roots: AudioRoots, field: str = "audio_data") -> tuple[np.ndarray, int] | None:
    """The audio an ``audio_data`` object carries, or None when it has neither samples nor file_path."""
    if audio.samples is not None:
        return decode_samples(audio.samples, channels=audio.channels or 1, sample_rate=audio.sample_rate, field=field)
    if audio.file_path is not None:
        return read_audio_file(audio.file_path, roots=roots, field=field)
    return None
