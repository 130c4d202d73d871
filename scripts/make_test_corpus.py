"""Render a corpus of synthetic stems and mixes for corpus tests, benchmarks and the corpus lesson.

``python scripts/make_test_corpus.py OUT [--per-type N] [--seconds S] [--sample-rate SR]``
writes ``OUT/<track type>/<track type>-NN.flac`` for vocal, drums, bass, keys
and master tracks. Every file is synthesised with numpy and scipy from a seed
derived from its name, so the same arguments always give the same files
(nothing is downloaded). Each track type varies in level, tone and a few
faults (rumble under some vocals, squashed drums, wide bass, ...), so a
corpus has a spread worth fitting rules to.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, sosfilt

TRACK_TYPES = ("vocal", "drums", "bass", "keys", "master")
DEFAULT_PER_TYPE = 8
DEFAULT_SECONDS = 6.0
DEFAULT_SAMPLE_RATE = 44100


def _filtered(x: np.ndarray, sr: int, kind: str, hz: float | tuple[float, float], order: int = 2) -> np.ndarray:
    return sosfilt(butter(order, hz, btype=kind, fs=sr, output="sos"), x)


def _db(level: float) -> float:
    return 10.0 ** (level / 20.0)


def _normalised(x: np.ndarray, peak_dbfs: float) -> np.ndarray:
    return x / max(np.abs(x).max(), 1e-12) * _db(peak_dbfs)


def vocal(rng: np.random.Generator, sr: int, n: int) -> np.ndarray:
    """A sung line: harmonics with vibrato through two formants, syllables, sometimes rumble or sibilance."""
    t = np.arange(n) / sr
    notes = rng.choice([196.0, 220.0, 247.0, 262.0, 294.0, 330.0], size=int(t[-1] / 0.5) + 1)
    f0 = notes[(t / 0.5).astype(int)] * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    source = sum(np.sin(k * phase) / k for k in range(1, 12))
    voice = _filtered(source, sr, "bandpass", (300.0, 900.0)) + 0.6 * _filtered(source, sr, "bandpass", (1500, 3200))
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(2.0, 4.0) * t), 0, None) ** 0.5
    x = voice * syllables
    if rng.random() < 0.4:  # rumble (handling noise, traffic)
        x = x + 0.5 * np.sin(2 * np.pi * 32 * t) * np.abs(x).max()
    if rng.random() < 0.4:  # sibilance
        x = x + 0.3 * _filtered(rng.standard_normal(n), sr, "bandpass", (5000, 8000)) * (syllables > 0.95)
    return _normalised(x, rng.uniform(-12, -3))[np.newaxis]


def drums(rng: np.random.Generator, sr: int, n: int) -> np.ndarray:
    """Kick, snare and hats on a beat; some kits squashed by hard compression."""
    t = np.arange(n) / sr
    beat = 60.0 / rng.uniform(85, 140)
    in_beat = (t % beat) / beat
    in_bar = (t % (4 * beat)) / beat
    kick = np.sin(2 * np.pi * 55 * t * (1 + np.exp(-in_beat * 40))) * np.exp(-in_beat * 14)
    snare = rng.standard_normal(n) * np.exp(-(in_bar % 1) * 20) * (((in_bar >= 1) & (in_bar < 2)) | (in_bar >= 3))
    hats = _filtered(rng.standard_normal(n), sr, "highpass", 7000.0) * np.exp(-((t % (beat / 2)) / beat) * 60)
    x = np.stack([kick + 0.6 * snare + 0.3 * hats, kick + 0.5 * snare + 0.4 * hats])
    if rng.random() < 0.4:  # squashed: drive into a hard limiter
        x = np.clip(x * 4.0, -1.0, 1.0)
    return _normalised(x, rng.uniform(-8, -1))


def bass(rng: np.random.Generator, sr: int, n: int) -> np.ndarray:
    """A filtered saw bass line; some with a stereo chorus that makes the low end wide."""
    t = np.arange(n) / sr
    roots = rng.choice([41.2, 43.65, 49.0, 55.0, 61.7], size=int(t[-1] / 0.5) + 1)
    freq = roots[(t / 0.5).astype(int)]
    saw = 2 * ((np.cumsum(freq) / sr) % 1.0) - 1
    mono = _filtered(saw, sr, "lowpass", rng.uniform(400, 1500))
    if rng.random() < 0.3:  # wide bass
        delayed = np.roll(mono, int(0.012 * sr))
        x = np.stack([mono + 0.8 * delayed, mono - 0.8 * delayed])
    else:
        x = mono[np.newaxis]
    return _normalised(x, rng.uniform(-10, -2))


def keys(rng: np.random.Generator, sr: int, n: int) -> np.ndarray:
    """Decaying piano-like chords, panned into stereo; some muddy (heavy low mids)."""
    t = np.arange(n) / sr
    chord_s = rng.uniform(1.0, 2.0)
    in_chord = t % chord_s
    root = rng.choice([130.8, 146.8, 164.8, 174.6, 196.0])
    tones = [root * ratio for ratio in (1.0, 1.26, 1.5, 2.0)]
    left = sum(np.sin(2 * np.pi * f * t) * np.exp(-in_chord * (1.5 + k)) for k, f in enumerate(tones))
    right = sum(np.sin(2 * np.pi * f * 1.002 * t) * np.exp(-in_chord * (1.5 + k)) for k, f in enumerate(tones))
    x = np.stack([left, 0.8 * right])
    if rng.random() < 0.4:  # muddy
        x = x + 1.5 * _filtered(x, sr, "bandpass", (250.0, 500.0))
    return _normalised(x, rng.uniform(-14, -4))


def master(rng: np.random.Generator, sr: int, n: int) -> np.ndarray:
    """All four stems summed and soft-limited, as a mastered mix; loudness varies from track to track."""
    parts = [vocal(rng, sr, n), drums(rng, sr, n), bass(rng, sr, n), keys(rng, sr, n)]
    mix = sum(np.broadcast_to(part, (2, n)) for part in parts)
    drive = rng.uniform(1.0, 4.0)
    return _normalised(np.tanh(drive * mix / np.abs(mix).max()), rng.uniform(-3, -0.3))


SYNTHS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "vocal": vocal,
    "drums": drums,
    "bass": bass,
    "keys": keys,
    "master": master,
}


def render(name: str, *, track_type: str, seconds: float, sr: int) -> np.ndarray:
    """One track, (channels, n) float32, the same for the same name, type, length and rate."""
    rng = np.random.default_rng(zlib.crc32(f"{name}/{seconds}/{sr}".encode()))
    return SYNTHS[track_type](rng, sr, int(seconds * sr)).astype(np.float32)


def make_corpus(
    out: str | Path,
    *,
    per_type: int = DEFAULT_PER_TYPE,
    seconds: float = DEFAULT_SECONDS,
    sr: int = DEFAULT_SAMPLE_RATE,
    track_types: tuple[str, ...] = TRACK_TYPES,
) -> list[Path]:
    """Write ``per_type`` FLAC files per track type under ``out/<type>/``; returns their paths, sorted."""
    written = []
    for track_type in track_types:
        folder = Path(out) / track_type
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(per_type):
            path = folder / f"{track_type}-{index:02d}.flac"
            audio = render(path.stem, track_type=track_type, seconds=seconds, sr=sr)
            sf.write(path, audio.T, sr, subtype="PCM_24")
            written.append(path)
    return sorted(written)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder to write into (created if needed)")
    parser.add_argument("--per-type", type=int, default=DEFAULT_PER_TYPE, help="files per track type")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="length of every file")
    parser.add_argument("--sample-rate", type=int, default=DEFAULT_SAMPLE_RATE)
    args = parser.parse_args(argv)
    paths = make_corpus(args.out, per_type=args.per_type, seconds=args.seconds, sr=args.sample_rate)
    print(f"wrote {len(paths)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
