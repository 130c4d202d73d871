"""How each clean source of the realistic fault corpus is rendered: the tools, the parts they play, the lines read.

General MIDI instruments through ``fluidsynth`` from a soundfont, the recorded drum kits of Debian's
``hydrogen-drumkits`` sequenced here, the recorded loops of ``sonic-pi-samples``, and voices: ``espeak-ng``'s
(formant synthesis), Festival's (voices built from recordings of real speakers, in several languages) and
people's recorded voices (the letters and syllables of ``klettres-data``, a native speaker per language, and the
speaker test of ``alsa-utils``). Every tool and file comes from a Debian package
``scripts/install-test-deps.sh`` installs; nothing is downloaded. scripts/fault_real_sources.py says which
source is rendered how, and caches the renders.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import butter, resample_poly, sosfilt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_demo_session import Note, midi_file

SECONDS = 6.0
TEMPO = 100.0
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")
SONIC_PI = Path("/usr/share/sonic-pi/samples")
FESTIVAL_VOICES = Path("/usr/share/festival/voices")
ALSA_SOUNDS = Path("/usr/share/sounds/alsa")
KLETTRES = Path("/usr/share/klettres")


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


def gm(program: int, style: str, *, stereo: bool = True, soundfont: Path = SOUNDFONT) -> Callable[[int], np.ndarray]:
    """A General MIDI instrument of ``soundfont`` playing a part, reverb and chorus off (a dry stem)."""

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
                    str(soundfont),
                    str(mid),
                ]
            )
            y, _ = _decoded(wav)
        y = _fit_length(y.T, int(SECONDS * sr))
        return y if stereo else np.atleast_2d(y).mean(axis=0)

    return render


# -- recorded drum kits and samples -------------------------------------------------------------------------------


def _decoded(path: Path) -> tuple[np.ndarray, int]:
    """A sound file's samples as decoded (frames x channels, float64) and its rate."""
    y, rate = soundfile.read(path, dtype="float64", always_2d=True)
    return y, rate


def _mono_at(y: np.ndarray, rate: int, sr: int) -> np.ndarray:
    """Decoded samples mixed to mono and resampled from ``rate`` to ``sr``."""
    mono = y.mean(axis=1)
    return resample_poly(mono, sr, rate) if rate != sr else mono


def _sample(path: Path, sr: int) -> np.ndarray:
    return _mono_at(*_decoded(path), sr)


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
        y, rate = _decoded(SONIC_PI / file)
        y = resample_poly(y, sr, rate, axis=0) if rate != sr else y
        reps = int(np.ceil(SECONDS * sr / len(y)))
        return _fit_length(np.tile(y.T, reps), int(SECONDS * sr))

    return render


# -- voices -------------------------------------------------------------------------------------------------------

LINES = (
    "The river runs under the old stone bridge, and nobody knows where it goes",
    "She said the summer would last forever, so we sang until the sun came up",
)


def espeak(name: str, *, pitch: int, speed: int, line: int) -> Callable[[int], np.ndarray]:
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


#: The same kind of line in the language of each Festival voice (plain ASCII: every voice's front end reads it).
FESTIVAL_LINES = {
    "en": LINES[0],
    "cs": "Reka tece pod starym kamennym mostem a nikdo nevi, kam vlastne vede.",
    "it": "Il fiume scorre sotto il vecchio ponte di pietra e nessuno sa dove vada.",
    "ca": "El riu passa sota el vell pont de pedra i ningu no sap on va.",
    "fi": "Joki virtaa vanhan kivisillan alta, eika kukaan tieda minne se menee.",
}


def festival(voice: str, language: str) -> Callable[[int], np.ndarray]:
    """A Festival voice (``kal_diphone``, ``czech_dita``, ...: diphones and statistical voices built from
    recordings of real speakers) reading a line of its language, mono."""

    def render(sr: int) -> np.ndarray:
        with tempfile.TemporaryDirectory() as work:
            text, wav = Path(work) / "line.txt", Path(work) / "voice.wav"
            text.write_text(FESTIVAL_LINES[language] + "\n", encoding="ascii")
            _run(["text2wave", "-eval", f"(voice_{voice})", str(text), "-o", str(wav)])
            y = _sample(wav, sr)
        return _fit_length(y, int(SECONDS * sr))

    return render


def recorded(files: tuple[str, ...]) -> Callable[[int], np.ndarray]:
    """A person's voice as recorded: words of the speaker test of Debian's ``alsa-utils`` (a studio recording
    of one speaker), one after the other, mono."""

    def render(sr: int) -> np.ndarray:
        return _fit_length(np.concatenate([_sample(ALSA_SOUNDS / file, sr) for file in files]), int(SECONDS * sr))

    return render


#: Silence between two recorded words (s), and how far under a word's peak (dB) its ends count as silence.
WORD_GAP_S = 0.12
WORD_FLOOR_DB = 40.0


def _trimmed(y: np.ndarray, sr: int) -> np.ndarray:
    """A recorded word without the silence before and after it (10 ms frames under WORD_FLOOR_DB of its peak)."""
    hop = max(1, sr // 100)
    frames = np.sqrt(np.mean(y[: len(y) // hop * hop].reshape(-1, hop) ** 2, axis=1))
    if not len(frames):
        return y
    loud = np.flatnonzero(frames > frames.max() * 10 ** (-WORD_FLOOR_DB / 20))
    return y[loud[0] * hop : (loud[-1] + 1) * hop] if len(loud) else y


def speaker(language: str) -> Callable[[int], np.ndarray]:
    """A native speaker of ``language`` recorded saying the letters and syllables of its alphabet (Debian's
    ``klettres-data``: a person per language, each with their own microphone and room), the words in a fixed
    shuffled order, trimmed and spaced as speech, mono. A word whose decoded samples pass full scale was recorded
    clipped (the codec's overshoot of a flattened peak) and is left out: a clean source has none."""

    def render(sr: int) -> np.ndarray:
        files = sorted((KLETTRES / language).glob("*/*.ogg"))
        order = _rng("speaker", language).permutation(len(files))
        gap, n, words = np.zeros(int(WORD_GAP_S * sr)), int(SECONDS * sr), []
        for index in order:
            word, rate = _decoded(files[index])
            if np.abs(word).max() > 1.0:
                continue
            words += [_trimmed(_mono_at(word, rate, sr), sr), gap]
            if sum(len(word) for word in words) >= n:
                break
        return _fit_length(np.concatenate(words), n)

    return render


def low_cut(render: Callable[[int], np.ndarray], hz: float) -> Callable[[int], np.ndarray]:
    """``render`` through the low-cut of a vocal chain (a fourth-order high-pass at ``hz``, 24 dB per octave): a
    voice stem as an engineer delivers it. Recorded voices carry what lies under them (handling, wind, a room's
    rumble: up to a tenth of a raw recording's energy under 20 Hz); a stem has it taken off before it is mixed."""

    def filtered(sr: int) -> np.ndarray:
        return sosfilt(butter(4, hz, "highpass", fs=sr, output="sos"), render(sr), axis=-1)

    return filtered
