"""The clean material of the realistic fault corpus: sampled instruments, recorded kits, samples and voices.

Every source is rendered with tools the project's install script puts on the machine (nothing is
downloaded): General MIDI instruments of the FluidR3 soundfont through ``fluidsynth``, the recorded drum
kits of Debian's ``hydrogen-drumkits`` sequenced here, the recorded loops and hits of ``sonic-pi-samples``,
and ``espeak-ng`` voices. Each source belongs to one split: ``fit`` (the thresholds may be fitted on it) or
``validation`` (judged only), so the figures that count come from instruments, kits, voices and songs the
fitting never saw. Renders are cached (float32 .npy) under ``data/corpus_real/`` (git-ignored): a render is made
once per machine, and the cache is keyed by the source, rate and length.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_demo_session import Note, midi_file

SECONDS = 6.0
TEMPO = 100.0
REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "data" / "corpus_real"
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")
SONIC_PI = Path("/usr/share/sonic-pi/samples")


@dataclass(frozen=True)
class Source:
    """One clean source: its name, the track type a DAW gives it, its split, and how it is rendered."""

    name: str
    track_type: str
    split: str  # "fit" or "validation"
    render: Callable[[int], np.ndarray]  # sample rate -> float64 (n,) or (2, n)
    family: str  # gm, hydrogen, sonic-pi, espeak, song


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(map(str, parts)).encode()))


def _fit_length(y: np.ndarray, n: int) -> np.ndarray:
    y = np.atleast_2d(y)[:, :n]
    if y.shape[1] < n:
        y = np.pad(y, ((0, 0), (0, n - y.shape[1])))
    return y[0] if y.shape[0] == 1 else y


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[:300]}")


# -- General MIDI instruments through fluidsynth -----------------------------------------------------------------


def _chords(low: int) -> list[tuple[int, ...]]:
    return [
        (low, low + 7, low + 12, low + 16),
        (low - 3, low + 4, low + 9, low + 12),
        (low + 5, low + 9, low + 12, low + 17),
    ]


def _part(style: str, seed: str) -> list[Note]:
    """Notes of a part over SECONDS at TEMPO: chords, arpeggios, a bass line or a melody."""
    rng = _rng(style, seed)
    beats = SECONDS * TEMPO / 60.0
    notes: list[Note] = []
    if style == "chords":
        for bar, chord in enumerate(_chords(52) * 4):
            if bar * 4 >= beats:
                break
            notes += [Note(bar * 4.0, 3.8, pitch, int(rng.integers(70, 96))) for pitch in chord]
    elif style == "pulse":
        for beat in np.arange(0.0, beats, 0.5):
            chord = _chords(52)[int(beat // 4) % 3]
            notes += [Note(float(beat), 0.45, pitch, int(rng.integers(60, 90))) for pitch in chord[1:]]
    elif style == "arpeggio":
        for step, beat in enumerate(np.arange(0.0, beats, 0.5)):
            chord = _chords(40)[int(beat // 4) % 3]
            notes.append(Note(float(beat), 1.0, chord[step % 4] + 12 * (step % 8 >= 4), int(rng.integers(65, 100))))
    elif style == "bass":
        for beat in np.arange(0.0, beats, 1.0):
            root = _chords(28)[int(beat // 4) % 3][0]
            notes.append(Note(float(beat), 0.9, root + (7 if beat % 4 == 3 else 0), int(rng.integers(80, 110))))
    elif style == "melody":
        scale = [0, 2, 4, 5, 7, 9, 11, 12]
        beat = 0.0
        while beat < beats:
            length = float(rng.choice([0.5, 1.0, 1.5]))
            notes.append(Note(beat, length * 0.95, 64 + int(rng.choice(scale)), int(rng.integers(70, 100))))
            beat += length
    return notes


def gm(program: int, style: str, *, stereo: bool = True) -> Callable[[int], np.ndarray]:
    """A General MIDI instrument (FluidR3) playing a part, reverb and chorus off (a dry stem)."""

    def render(sr: int) -> np.ndarray:
        notes = _part(style, f"gm{program}")
        end = max(note.start + note.length for note in notes) + 1.0  # after every note-off (MIDI needs it)
        midi = midi_file(notes, channel=0, program=program, tempo_bpm=TEMPO, end_beat=end)
        with tempfile.TemporaryDirectory() as work:
            mid, wav = Path(work) / "part.mid", Path(work) / "part.wav"
            mid.write_bytes(midi)
            _run(
                [
                    "fluidsynth",
                    "-n",
                    "-i",
                    "-q",
                    "-r",
                    str(sr),
                    "-O",
                    "float",
                    "-T",
                    "wav",
                    "-g",
                    "0.6",
                    "-o",
                    "synth.reverb.active=0",
                    "-o",
                    "synth.chorus.active=0",
                    "-F",
                    str(wav),
                    str(SOUNDFONT),
                    str(mid),
                ]
            )
            y, _ = soundfile.read(wav, dtype="float64", always_2d=True)
        y = _fit_length(y.T, int(SECONDS * sr))
        return y if stereo else np.atleast_2d(y).mean(axis=0)

    return render


# -- recorded drum kits and samples -------------------------------------------------------------------------------


def _sample(path: Path, sr: int) -> np.ndarray:
    y, rate = soundfile.read(path, dtype="float64", always_2d=True)
    y = y.mean(axis=1)
    return resample_poly(y, sr, rate) if rate != sr else y


def kit(folder: str, kick: str, snare: str, hat: str) -> Callable[[int], np.ndarray]:
    """A recorded kit sequenced as a rock beat (kick on 1 and 3, snare on 2 and 4, eighth hats), stereo."""

    def render(sr: int) -> np.ndarray:
        n = int(SECONDS * sr)
        base = HYDROGEN / folder
        hits = {name: _sample(base / file, sr) for name, file in (("kick", kick), ("snare", snare), ("hat", hat))}
        rng = _rng("kit", folder)
        left, right = np.zeros(n), np.zeros(n)
        eighth = 60.0 / TEMPO / 2
        for index in range(int(SECONDS / eighth)):
            at = int(index * eighth * sr)
            parts = ["hat"] + (["kick"] if index % 4 == 0 else []) + (["snare"] if index % 4 == 2 else [])
            for part in parts:
                hit = hits[part][: n - at] * rng.uniform(0.8, 1.0) * (0.5 if part == "hat" else 1.0)
                pan = {"hat": 0.7, "kick": 0.5, "snare": 0.45}[part]
                left[at : at + len(hit)] += hit * np.sqrt(1 - pan)
                right[at : at + len(hit)] += hit * np.sqrt(pan)
        return np.vstack([left, right])

    return render


def loop(file: str) -> Callable[[int], np.ndarray]:
    """A recorded loop of sonic-pi-samples, repeated to length."""

    def render(sr: int) -> np.ndarray:
        y, rate = soundfile.read(SONIC_PI / file, dtype="float64", always_2d=True)
        y = resample_poly(y, sr, rate, axis=0) if rate != sr else y
        reps = int(np.ceil(SECONDS * sr / len(y)))
        return _fit_length(np.tile(y.T, reps), int(SECONDS * sr))

    return render


# -- voices -------------------------------------------------------------------------------------------------------

LINES = (
    "The river runs under the old stone bridge, and nobody knows where it goes",
    "She said the summer would last forever, so we sang until the sun came up",
)


def voice(name: str, *, pitch: int, speed: int, line: int) -> Callable[[int], np.ndarray]:
    """An espeak-ng voice (``en+m3``, ``en-us+f2``, ...) reading a line, mono."""

    def render(sr: int) -> np.ndarray:
        with tempfile.TemporaryDirectory() as work:
            wav = Path(work) / "voice.wav"
            _run(
                ["espeak-ng", "-v", name, "-s", str(speed), "-p", str(pitch), "-a", "160", "-w", str(wav), LINES[line]]
            )
            y = _sample(wav, sr)
        return _fit_length(y, int(SECONDS * sr))

    return render


# -- songs: stems mixed -------------------------------------------------------------------------------------------


def song(parts: dict[str, float]) -> Callable[[int], np.ndarray]:
    """A stereo mix of other sources at relative RMS levels (dB); the corpus masters it to a loudness target."""

    def render(sr: int) -> np.ndarray:
        n = int(SECONDS * sr)
        mix = np.zeros((2, n))
        for name, gain in parts.items():
            y = np.atleast_2d(clean(name, sr))
            y = y / np.sqrt(np.mean(y**2)) * 10 ** (gain / 20)
            mix += y if y.shape[0] == 2 else np.vstack([y[0], y[0]]) * np.sqrt(0.5)
        return mix / np.abs(mix).max() * 0.5

    return render


SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        # fit: one instrument, kit and voice of each kind
        Source("gm-piano", "keys", "fit", gm(0, "pulse"), "gm"),
        Source("gm-nylon", "guitar", "fit", gm(24, "arpeggio", stereo=False), "gm"),
        Source("gm-fingerbass", "bass", "fit", gm(33, "bass", stereo=False), "gm"),
        Source("gm-warmpad", "synth", "fit", gm(89, "chords"), "gm"),
        Source(
            "kit-millo",
            "drums",
            "fit",
            kit("Millo-Drums_v.1", "bd1.flac", "snare1.flac", "closehihat3.flac"),
            "hydrogen",
        ),
        Source("voice-en-m3", "vocal", "fit", voice("en+m3", pitch=45, speed=140, line=0), "espeak"),
        Source(
            "song-fit",
            "master",
            "fit",
            song({"gm-piano": -6, "gm-fingerbass": -4, "kit-millo": -2, "voice-en-m3": 0, "gm-warmpad": -10}),
            "song",
        ),
        # validation: other instruments, kits, voices and a song made of them
        Source("gm-epiano", "keys", "validation", gm(4, "chords"), "gm"),
        Source("gm-steel", "guitar", "validation", gm(25, "arpeggio", stereo=False), "gm"),
        Source("gm-pickbass", "bass", "validation", gm(34, "bass", stereo=False), "gm"),
        Source("gm-strings", "synth", "validation", gm(48, "chords"), "gm"),
        Source(
            "kit-colombo",
            "drums",
            "validation",
            kit(
                "ColomboAcousticDrumkit",
                "bassdrum-4mics-br-stereo-normal3.flac",
                "snare-opaque-normal-mic-normal_shot2.flac",
                "hihat-closed-4.flac",
            ),
            "hydrogen",
        ),
        Source("loop-amen", "drums", "validation", loop("loop_amen_full.flac"), "sonic-pi"),
        Source("voice-us-f2", "vocal", "validation", voice("en-us+f2", pitch=60, speed=150, line=1), "espeak"),
        Source("voice-rp-m1", "vocal", "validation", voice("en-gb-x-rp+m1", pitch=40, speed=130, line=1), "espeak"),
        Source(
            "song-val",
            "master",
            "validation",
            song({"gm-epiano": -6, "gm-pickbass": -4, "kit-colombo": -2, "voice-us-f2": 0, "gm-strings": -9}),
            "song",
        ),
    )
}


def _without_dc(y: np.ndarray) -> np.ndarray:
    """The render without its DC offset (some samples carry one): a clean stem has none."""
    return y - np.mean(y, axis=-1, keepdims=True)


def clean(name: str, sr: int) -> np.ndarray:
    """A source's clean render at ``sr``, float64 (n,) or (2, n); cached as float32 .npy under data/corpus_real/."""
    path = CACHE / f"{name}-{sr}-{SECONDS:g}s.npy"
    if path.is_file():
        return np.load(path).astype(np.float64)
    y = _without_dc(SOURCES[name].render(sr))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, y.astype(np.float32))
    return y.astype(np.float32).astype(np.float64)
