"""The clean material of the realistic fault corpus: sampled instruments, recorded kits, samples and voices.

Every source is rendered with tools the project's install script puts on the machine (nothing is
downloaded): General MIDI instruments of Debian's FluidR3 soundfont through ``fluidsynth`` (and, for the validation
split, of two more sample banks: TimGM6mb and MuseScore General Lite), the recorded drum kits of Debian's
``hydrogen-drumkits`` sequenced here, the recorded loops and hits of ``sonic-pi-samples``, and ``espeak-ng``
voices. Each source belongs to one split: ``fit`` (the thresholds may be fitted on it) or ``validation`` (judged
only), so the figures that count come from instruments, kits, voices and songs the fitting never saw, and, through
the other banks, from recordings of them made with other samples than the fitting ever heard.
Renders are cached (float32 .npy) under ``data/corpus_real/<fingerprint>/`` (git-ignored): a render is made once
per machine and per version of the code that renders it (:data:`RENDERS_FINGERPRINT`), keyed by the source, rate
and length.
"""

from __future__ import annotations

import hashlib
import os
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
#: The code every render comes from (this file and the MIDI writer it uses): a cached render made by other code
#: (a song mixed before its parts were panned, say) is never taken for the current one.
RENDERS_FINGERPRINT = hashlib.sha256(
    b"".join(path.read_bytes() for path in (Path(__file__), Path(__file__).with_name("make_demo_session.py")))
).hexdigest()[:12]
CACHE = REPO / "data" / "corpus_real" / RENDERS_FINGERPRINT
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


@dataclass(frozen=True)
class Bank:
    """A sample bank General MIDI programs are rendered from: what the report calls it, and its soundfont."""

    label: str
    soundfont: Path


#: The sample banks the validation split's General MIDI programs are rendered from, by the name their sources end
#: with (FluidR3's sources keep the bare ``gm-<instrument>`` name); the fit split's come from FluidR3 alone.
#: Each bank samples its instruments its own way (other recordings, other loops and filters): the held-out
#: question is whether what was fitted on one bank's instruments carries to another's.
BANKS: dict[str, Bank] = {
    "": Bank("FluidR3", SOUNDFONT),
    "timgm": Bank("TimGM6mb", Path("/usr/share/sounds/sf2/TimGM6mb.sf2")),  # Debian timgm6mb-soundfont
    # Debian musescore-general-soundfont-small
    "musescore": Bank("MuseScore General Lite", Path("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3")),
}
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
    #: What is left out together when a reference is judged on sources it lacks: the General MIDI program
    #: (every bank's rendering of it), else the source itself.
    instrument: str = ""
    bank: str = ""  # the sample bank of a General MIDI source (a key of BANKS)


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


#: Where a song pans its mono parts other than the voice and the bass (kept in the centre), in turn: a mix
#: with every part in the middle would be a mono master, which is a fault of its own.
MONO_PANS = (0.2, 0.8)


def song(parts: dict[str, float]) -> Callable[[int], np.ndarray]:
    """A stereo mix of other sources at relative RMS levels (dB); the corpus masters it to a loudness target."""

    def render(sr: int) -> np.ndarray:
        n = int(SECONDS * sr)
        mix = np.zeros((2, n))
        panned = 0
        for name, gain in parts.items():
            y = np.atleast_2d(clean(name, sr))
            y = y / np.sqrt(np.mean(y**2)) * 10 ** (gain / 20)
            if y.shape[0] == 2 and np.mean((y[0] - y[1]) ** 2) < 0.01 * np.mean(y**2):
                y = y.mean(axis=0, keepdims=True)  # a mono sample on two channels: panned like a mono part
            if y.shape[0] == 2:
                mix += y
                continue
            pan = 0.5
            if SOURCES[name].track_type not in ("vocal", "bass"):
                pan, panned = MONO_PANS[panned % len(MONO_PANS)], panned + 1
            mix += np.vstack([y[0] * np.sqrt(1 - pan), y[0] * np.sqrt(pan)])
        return mix / np.abs(mix).max() * 0.5

    return render


#: General MIDI programs per track type and split, alternating within each family so both splits
#: hold pianos and organs, nylon and steel, fingered and picked basses, strings and pads: (name, program, style).
GM_PROGRAMS: dict[str, dict[str, tuple[tuple[str, int, str], ...]]] = {
    "keys": {
        "fit": (
            ("piano", 0, "pulse"),
            ("egrand", 2, "chords"),
            ("epiano2", 5, "pulse"),
            ("clavinet", 7, "pulse"),
            ("drawbar", 16, "chords"),
            ("rockorgan", 18, "pulse"),
            ("vibes", 11, "arpeggio"),
            ("accordion", 21, "chords"),
        ),
        "validation": (
            ("epiano", 4, "chords"),
            ("brightpiano", 1, "pulse"),
            ("honkytonk", 3, "chords"),
            ("harpsichord", 6, "arpeggio"),
            ("percorgan", 17, "pulse"),
            ("churchorgan", 19, "chords"),
            ("marimba", 12, "arpeggio"),
        ),
    },
    "guitar": {
        "fit": (
            ("nylon", 24, "arpeggio"),
            ("jazzgtr", 26, "chords"),
            ("mutedgtr", 28, "pulse"),
            ("distgtr", 30, "pulse"),
            ("banjo", 105, "arpeggio"),
        ),
        "validation": (
            ("steel", 25, "arpeggio"),
            ("cleangtr", 27, "chords"),
            ("odgtr", 29, "pulse"),
            ("sitar", 104, "melody"),
        ),
    },
    "bass": {
        "fit": (
            ("fingerbass", 33, "bass"),
            ("acbass", 32, "bass"),
            ("fretless", 35, "bass"),
            ("slap2", 37, "bass"),
            ("synbass1", 38, "bass"),
        ),
        "validation": (
            ("pickbass", 34, "bass"),
            ("slap1", 36, "bass"),
            ("synbass2", 39, "bass"),
        ),
    },
    "synth": {
        "fit": (
            ("warmpad", 89, "chords"),
            ("newage", 88, "chords"),
            ("polysynth", 90, "chords"),
            ("bowed", 92, "chords"),
            ("halo", 94, "chords"),
            ("slowstrings", 49, "chords"),
            ("synstrings2", 51, "chords"),
            ("sawlead", 81, "melody"),
            ("synbrass", 62, "pulse"),
        ),
        "validation": (
            ("strings", 48, "chords"),
            ("synstrings1", 50, "chords"),
            ("choirpad", 91, "chords"),
            ("metalpad", 93, "chords"),
            ("sweeppad", 95, "chords"),
            ("squarelead", 80, "melody"),
            ("brass", 61, "pulse"),
        ),
    },
}
#: Mono parts (a DI guitar or bass, a sitar): rendered as one channel.
MONO_GM = frozenset({"nylon", "steel", "fingerbass", "pickbass", "acbass", "fretless", "slap1", "slap2", "sitar"})

#: Hydrogen kits: (folder, kick, snare, closed hat) per split.
KITS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "fit": (
        ("Millo-Drums_v.1", "bd1.flac", "snare1.flac", "closehihat3.flac"),
        ("BJA_Pacific", "BD_03.aiff", "SN_03.aiff", "HH_03.aiff"),
        ("Millo_MultiLayered3", "bd_02.flac", "sd_03.flac", "hh_02.flac"),
        ("VariBreaks", "VP Kick 1.flac", "VP Snare 1.flac", "VP Hat 1 Cl.flac"),
        ("ElectricEmpireKit", "EE_Kick_Hard_1.flac", "EE_Snare_1.flac", "EE_Hat_Cl_Bs.flac"),
    ),
    "validation": (
        (
            "ColomboAcousticDrumkit",
            "bassdrum-4mics-br-stereo-normal3.flac",
            "snare-opaque-normal-mic-normal_shot2.flac",
            "hihat-closed-4.flac",
        ),
        ("ForzeeStereo", "Kick-2.wav", "Snare-2.wav", "HiHatClosed-2.wav"),
        ("The Black Pearl 1.0", "PearlKick-Med.wav", "PearlSnare-Med.wav", "SabianHatClosed-Med.wav"),
        ("Millo_MultiLayered2", "bd_03.flac", "jsnare_03.flac", "hhclosed_03.flac"),
        ("HardElectro1", "PowR_BD_1.flac", "PowR_SN_1.flac", "CHH_1.flac"),
    ),
}
#: sonic-pi loops per split.
LOOPS = {"fit": ("loop_breakbeat.flac", "loop_compus.flac"), "validation": ("loop_amen_full.flac", "loop_mika.flac")}
#: espeak-ng voices per split: (name, voice+variant, pitch, speed, line).
VOICES: dict[str, tuple[tuple[str, str, int, int, int], ...]] = {
    "fit": (
        ("en-m3", "en+m3", 45, 140, 0),
        ("en-f3", "en+f3", 60, 150, 0),
        ("us-m1", "en-us+m1", 40, 145, 1),
        ("sc-f4", "en-gb-scotland+f4", 55, 140, 0),
        ("en-klatt2", "en+klatt2", 50, 150, 1),
        ("en-andy", "en+Andy", 45, 140, 0),
        ("us-linda", "en-us+Linda", 60, 150, 1),
    ),
    "validation": (
        ("us-f2", "en-us+f2", 60, 150, 1),
        ("rp-m1", "en-gb-x-rp+m1", 40, 130, 1),
        ("en-m5", "en+m5", 45, 140, 0),
        ("car-f1", "en-029+f1", 62, 150, 0),
        ("en-mike", "en+Mike", 42, 145, 1),
        ("us-annie", "en-us+Annie", 58, 150, 0),
    ),
}


#: Short names of the kits (the cache and the case names use them).
KIT_NAMES = {
    "Millo-Drums_v.1": "millo",
    "BJA_Pacific": "pacific",
    "Millo_MultiLayered3": "millo3",
    "VariBreaks": "varibreaks",
    "ElectricEmpireKit": "empire",
    "ColomboAcousticDrumkit": "colombo",
    "ForzeeStereo": "forzee",
    "The Black Pearl 1.0": "pearl",
    "Millo_MultiLayered2": "millo2",
    "HardElectro1": "hardelectro",
}


def _kit_name(folder: str) -> str:
    return f"kit-{KIT_NAMES[folder]}"


def _all_sources() -> list[Source]:
    found: list[Source] = []
    for track_type, splits in GM_PROGRAMS.items():
        for split, programs in splits.items():
            for name, program, style in programs:
                for bank in BANKS if split == "validation" else [""]:
                    render = gm(program, style, stereo=name not in MONO_GM, soundfont=BANKS[bank].soundfont)
                    source = f"gm-{name}-{bank}" if bank else f"gm-{name}"
                    found.append(Source(source, track_type, split, render, "gm", instrument=f"gm-{name}", bank=bank))
    for split, kits in KITS.items():
        for folder, kick, snare, hat in kits:
            found.append(Source(_kit_name(folder), "drums", split, kit(folder, kick, snare, hat), "hydrogen"))
    for split, loops in LOOPS.items():
        for file in loops:
            name = "loop-" + file.removeprefix("loop_").split(".")[0].replace("_full", "")
            found.append(Source(name, "drums", split, loop(file), "sonic-pi"))
    for split, voices in VOICES.items():
        for name, espeak, pitch, speed, line in voices:
            found.append(
                Source(f"voice-{name}", "vocal", split, voice(espeak, pitch=pitch, speed=speed, line=line), "espeak")
            )
    songs = {
        "fit": (
            ("song-fit", {"gm-piano": -6, "gm-fingerbass": -4, "kit-millo": -2, "voice-en-m3": 0, "gm-warmpad": -10}),
            (
                "song-fit2",
                {"gm-jazzgtr": -5, "gm-acbass": -4, "kit-pacific": -2, "voice-en-f3": 0, "gm-slowstrings": -9},
            ),
            ("song-fit3", {"gm-rockorgan": -6, "gm-synbass1": -3, "kit-varibreaks": -1, "gm-distgtr": -5}),
        ),
        "validation": (
            ("song-val", {"gm-epiano": -6, "gm-pickbass": -4, "kit-colombo": -2, "voice-us-f2": 0, "gm-strings": -9}),
            ("song-val2", {"gm-cleangtr": -3, "gm-slap1": -4, "kit-forzee": -2, "voice-en-m5": 0, "gm-choirpad": -6}),
            ("song-val3", {"gm-honkytonk": -6, "gm-synbass2": -3, "kit-hardelectro": -1, "gm-odgtr": -5}),
        ),
    }
    for split, items in songs.items():
        found.extend(Source(name, "master", split, song(parts), "song") for name, parts in items)
    return found


SOURCES: dict[str, Source] = {source.name: source for source in _all_sources()}


def instrument(name: str) -> str:
    """The instrument a source records (its General MIDI program for every bank's rendering of it)."""
    return SOURCES[name].instrument or name


def _without_dc(y: np.ndarray) -> np.ndarray:
    """The render without its DC offset (some samples carry one): a clean stem has none."""
    return y - np.mean(y, axis=-1, keepdims=True)


def clean(name: str, sr: int) -> np.ndarray:
    """A source's clean render at ``sr``, float64 (n,) or (2, n); cached as float32 .npy under :data:`CACHE`."""
    path = CACHE / f"{name}-{sr}-{SECONDS:g}s.npy"
    if path.is_file():
        return np.load(path).astype(np.float64)
    y = _without_dc(SOURCES[name].render(sr))
    CACHE.mkdir(parents=True, exist_ok=True)
    # written whole under another name, then renamed: a process rendering the same source at the same time
    # (the corpus runs on a Dask cluster) never reads half a file
    part = path.with_name(f"{path.stem}.{os.getpid()}.part")
    with part.open("wb") as out:
        np.save(out, y.astype(np.float32))
    part.replace(path)
    return y.astype(np.float32).astype(np.float64)
