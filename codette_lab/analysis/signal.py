"""Checking and shaping the arrays handed to the analysis: (channels, n) float, finite, non-empty."""

from __future__ import annotations

import math

import numpy as np

from ..errors import AudioError

#: Float samples are full scale at 1.0; beyond this they are surely unscaled integer PCM (and squaring
#: them could overflow float32).
MAX_SAMPLE_MAGNITUDE = 1000.0

#: More channels than this means the array is almost surely (n, channels) rather than (channels, n).
MAX_CHANNELS = 64


def as_channels(y: np.ndarray, *, name: str = "y") -> np.ndarray:
    """``y`` as a C-contiguous float32 (channels, n) array, or AudioError saying what is wrong.

    Mono input may be 1-D (n,). Integer arrays are refused rather than guessed at:
    their full scale (16-bit? 24-bit?) is unknown.
    """
    array = np.asarray(y)
    if not np.issubdtype(array.dtype, np.floating):
        raise AudioError(
            f"{name}: expected a float array with samples in -1..1, got dtype {array.dtype}"
            " (convert integer PCM by dividing by its full scale)"
        )
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise AudioError(f"{name}: expected shape (n,) or (channels, n), got {array.shape}")
    channels, length = array.shape
    if channels > MAX_CHANNELS:
        raise AudioError(
            f"{name}: expected shape (channels, n) with at most {MAX_CHANNELS} channels, got {array.shape}"
            " (transpose an (n, channels) array)"
        )
    if length == 0 or channels == 0:
        raise AudioError(f"{name}: the audio is empty (shape {array.shape})")
    return np.ascontiguousarray(array, dtype=np.float32)


def check_finite(x: np.ndarray, *, name: str = "y") -> None:
    """AudioError naming the first NaN or infinite sample of a (channels, n) array, or a magnitude
    no float audio has (over MAX_SAMPLE_MAGNITUDE: integer PCM that was never scaled to -1..1)."""
    if math.isfinite(float(np.sum(x))):
        largest = float(max(np.max(x), -np.min(x)))
        if largest > MAX_SAMPLE_MAGNITUDE:
            raise AudioError(
                f"{name}: samples reach {largest:g}; float audio is expected in -1..1 (full scale 1.0)"
                " - divide integer PCM by its full scale (32768 for 16-bit)"
            )
        return  # a NaN or infinity anywhere makes the sum non-finite; huge finite values are checked below
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        channel, index = (int(v) for v in bad[0])
        raise AudioError(
            f"{name}: sample {index} of channel {channel} is {float(x[channel, index])}; samples must be finite"
        )
    raise AudioError(f"{name}: samples are too large to sum; float audio is expected in -1..1 (full scale 1.0)")


def check_sample_rate(sr: float, *, name: str = "sr") -> float:
    """A positive finite sample rate as float, or AudioError."""
    if isinstance(sr, bool) or not isinstance(sr, (int, float, np.integer, np.floating)):
        raise AudioError(f"{name}: expected a sample rate in Hz, got {type(sr).__name__}")
    value = float(sr)
    if not math.isfinite(value) or value <= 0:
        raise AudioError(f"{name}: expected a sample rate > 0 Hz, got {sr!r}")
    return value


def channel_means(x: np.ndarray) -> np.ndarray:
    """Each channel's mean of a (channels, n) array (float64, from float32 pairwise sums: accurate, and about 3 ms
    for 3 minutes of stereo); measured once per signal for ``dc_offset`` and the spectrum's offset."""
    return x.sum(axis=1) / np.float64(x.shape[1])


def mono_mix(x: np.ndarray) -> np.ndarray:
    """The average of the channels of a (channels, n) array, shape (n,)."""
    if x.shape[0] == 1:
        return x[0]
    total = x[0] + x[1]
    for channel in x[2:]:
        total += channel
    total *= np.float32(1.0 / x.shape[0])
    return total


def db(ratio: float, *, power: bool = False) -> float | None:
    """A linear ratio in dB (amplitude by default), None for zero (where dB is undefined)."""
    if not ratio > 0 or not math.isfinite(ratio):
        return None
    return (10.0 if power else 20.0) * math.log10(ratio)
