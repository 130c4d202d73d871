"""Make the demo session the package ships: four stems of one short song and the session file a DAW would keep.

The song, "Low Tide" (A minor, 96 BPM, 8 bars = 20 s, 44.1 kHz), is written
here note by note as MIDI and rendered with FluidSynth through the General
MIDI soundfont FluidR3_GM; the voice is espeak-ng reading the lyrics, one
line per two bars, each line at its own pitch. numpy then shapes the stems
into a mix with the faults a mixing lesson looks for:

* ``vocal.flac`` (mono) carries low rumble below 80 Hz (a mic stand on a
  wooden floor): a high-pass is the answer;
* ``keys.flac`` (stereo) pumps eighth-note chords voiced low, the left hand
  doubling the bass an octave up, with a +10 dB bump around 320 Hz, and
  ``bass.flac`` (mono) has a +12 dB bump around 280 Hz: each builds up the
  low mids, and together they mask each other;
* ``drums.flac`` (stereo) peaks close to full scale.

Everything is deterministic: note velocities come from a seeded generator,
FluidSynth renders float samples (no dither) and espeak-ng has no random
parts, so a re-run gives the same samples. The stems are 16-bit FLAC.

Needs the Debian packages ``fluidsynth``, ``fluid-soundfont-gm`` and
``espeak-ng`` (``apt-get install fluidsynth fluid-soundfont-gm espeak-ng``).
Run ``make data`` or ``python scripts/make_demo_session.py [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from codette_lab.audio_input import read_samples
from codette_lab.resources import demo_folder

DEFAULT_OUT = demo_folder()
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

TITLE = "Low Tide"
KEY = "A minor"
TEMPO_BPM = 96
BEATS_PER_BAR = 4
BARS = 8
SAMPLE_RATE = 44100
SEED = 20261125
SECONDS_PER_BEAT = 60.0 / TEMPO_BPM
DURATION_S = BARS * BEATS_PER_BAR * SECONDS_PER_BEAT  # 20.0 s
TICKS_PER_BEAT = 480
FADE_OUT_S = 0.25

#: One chord per bar: (bass root as a MIDI note, chord tones for the keys).
PROGRESSION = [
    (33, (45, 57, 60, 64)),  # Am: A1 | A2 A3 C4 E4
    (29, (41, 53, 57, 60)),  # F:  F1 | F2 F3 A3 C4
    (36, (48, 52, 55, 60)),  # C:  C2 | C3 E3 G3 C4
    (31, (43, 50, 55, 59)),  # G:  G1 | G2 D3 G3 B3
] * 2

#: (bar where the line starts, espeak-ng pitch 0-99, words): one line every two bars.
LYRICS = [
    (0, 42, "Low tide rolling in, slow and grey"),
    (2, 55, "Hold the line until the morning light"),
    (4, 48, "Salt on the window, nothing left to say"),
    (6, 60, "Low tide, carry me home tonight"),
]


@dataclass(frozen=True)
class Note:
    """One MIDI note, positioned in beats."""

    start: float
    length: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Stem:
    """How one track of the session is made and described."""

    track_id: str
    name: str
    track_type: str
    channels: int
    peak_dbfs: float
    volume_db: float
    pan: float


STEMS = {
    "drums": Stem("track_001", "Drums", "drums", 2, -0.8, 0.0, 0.0),
    "bass": Stem("track_002", "Bass", "bass", 1, -4.0, -1.5, 0.0),
    "keys": Stem("track_003", "Keys", "keys", 2, -4.0, -3.0, -0.2),
    "vocal": Stem("track_004", "Lead Vocal", "vocal", 1, -2.5, 0.0, 0.0),
}


# -- the score ------------------------------------------------------------------------


def drum_part(rng: np.random.Generator) -> list[Note]:
    """Kick on 1, the and of 2 and 3; snare on 2 and 4; eighth-note hats; crash on bars 1 and 5."""
    notes: list[Note] = []
    for bar in range(BARS):
        origin = bar * BEATS_PER_BAR
        notes.extend(Note(origin + beat, 0.25, 36, int(rng.integers(100, 120))) for beat in (0.0, 1.5, 2.0))
        notes.extend(Note(origin + beat, 0.25, 38, int(rng.integers(95, 115))) for beat in (1.0, 3.0))
        for step in range(8):
            hat = 46 if step == 7 and bar % 2 == 1 else 42
            accent = 90 if step % 2 == 0 else 65
            notes.append(Note(origin + step / 2, 0.25, hat, accent + int(rng.integers(-8, 8))))
        if bar in (0, 4):
            notes.append(Note(origin, 2.0, 49, 100))
    return notes


def bass_part(rng: np.random.Generator) -> list[Note]:
    """Eighth notes on the root, jumping an octave on the last two of each bar."""
    notes: list[Note] = []
    for bar, (root, _) in enumerate(PROGRESSION):
        for step in range(8):
            pitch = root + 12 if step in (6, 7) else root
            notes.append(Note(bar * BEATS_PER_BAR + step / 2, 0.45, pitch, 88 + int(rng.integers(-10, 10))))
    return notes


def keys_part(rng: np.random.Generator) -> list[Note]:
    """Pumping eighth-note chords in low voicings, accented on the beat."""
    notes: list[Note] = []
    for bar, (_, chord) in enumerate(PROGRESSION):
        for step in range(8):
            accent = 76 if step % 2 == 0 else 66
            onset = bar * BEATS_PER_BAR + step / 2
            notes.extend(Note(onset, 0.45, pitch, accent + int(rng.integers(-6, 6))) for pitch in chord)
    return notes


# -- a tiny Standard MIDI File writer -------------------------------------------------------


def _variable_length(value: int) -> bytes:
    """MIDI's variable-length quantity: 7 bits a byte, high bit set on all but the last."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups))


def midi_file(notes: Sequence[Note], *, channel: int, program: int, tempo_bpm: float, end_beat: float) -> bytes:
    """A format-0 Standard MIDI File playing ``notes`` with one instrument on one channel."""
    events: list[tuple[int, int, bytes]] = []  # (tick, order: offs before ons, bytes)
    for note in notes:
        on = round(note.start * TICKS_PER_BEAT)
        off = round((note.start + note.length) * TICKS_PER_BEAT)
        events.append((on, 1, bytes([0x90 | channel, note.pitch, note.velocity])))
        events.append((off, 0, bytes([0x80 | channel, note.pitch, 0])))
    events.sort(key=lambda event: (event[0], event[1]))
    tempo = round(60_000_000 / tempo_bpm)
    track = bytearray()
    track += b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big")
    track += b"\x00" + bytes([0xC0 | channel, program])
    tick = 0
    for when, _, data in events:
        track += _variable_length(when - tick) + data
        tick = when
    track += _variable_length(round(end_beat * TICKS_PER_BEAT) - tick) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


# -- rendering with the system's tools ----------------------------------------------------


def missing_tools() -> list[str]:
    """What this machine lacks to render the session, as install hints (empty when all is there)."""
    missing = []
    if shutil.which("fluidsynth") is None:
        missing.append("fluidsynth (apt-get install fluidsynth)")
    if not SOUNDFONT.is_file():
        missing.append(f"the General MIDI soundfont {SOUNDFONT} (apt-get install fluid-soundfont-gm)")
    if shutil.which("espeak-ng") is None:
        missing.append("espeak-ng (apt-get install espeak-ng)")
    return missing


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed with exit code {result.returncode}: {result.stderr.strip()}")


def render_midi(midi: bytes, work: Path, name: str, *, effects: bool) -> np.ndarray:
    """Stereo float samples, shape (frames, 2), of ``midi`` played through FluidR3_GM."""
    midi_path = work / f"{name}.mid"
    wav_path = work / f"{name}.wav"
    midi_path.write_bytes(midi)
    switch = "1" if effects else "0"
    _run(
        [
            "fluidsynth", "-n", "-i", "-q",
            "-r", str(SAMPLE_RATE), "-O", "float", "-T", "wav", "-g", "0.6",
            "-o", f"synth.reverb.active={switch}", "-o", f"synth.chorus.active={switch}",
            "-F", str(wav_path), str(SOUNDFONT), str(midi_path),
        ]
    )  # fmt: skip
    samples, rate = read_samples(wav_path)  # float WAV: float32 holds it exactly
    audio = samples.T.astype(np.float64)
    if rate != SAMPLE_RATE:
        raise RuntimeError(f"fluidsynth rendered {name} at {rate} Hz, expected {SAMPLE_RATE}")
    return audio


def speak(text: str, *, pitch: int, work: Path, name: str) -> np.ndarray:
    """Mono float samples at SAMPLE_RATE of espeak-ng saying ``text`` (it speaks at 22.05 kHz)."""
    wav_path = work / f"{name}.wav"
    _run(["espeak-ng", "-v", "en-us", "-s", "125", "-p", str(pitch), "-a", "160", "-w", str(wav_path), text])
    samples, rate = read_samples(wav_path)  # 16-bit WAV: float32 holds it exactly
    audio = samples[0].astype(np.float64)
    return signal.resample_poly(audio, SAMPLE_RATE, rate)


# -- shaping the stems ------------------------------------------------------------------------


def peaking_eq(audio: np.ndarray, *, freq_hz: float, gain_db: float, q: float) -> np.ndarray:
    """A bell boost or cut (the RBJ audio-EQ-cookbook peaking filter) along axis 0."""
    amplitude = 10 ** (gain_db / 40)
    omega = 2 * np.pi * freq_hz / SAMPLE_RATE
    alpha = np.sin(omega) / (2 * q)
    b = [1 + alpha * amplitude, -2 * np.cos(omega), 1 - alpha * amplitude]
    a = [1 + alpha / amplitude, -2 * np.cos(omega), 1 - alpha / amplitude]
    return signal.lfilter(b, a, audio, axis=0)


def rumble(frames: int, rng: np.random.Generator, *, rms_dbfs: float) -> np.ndarray:
    """Noise below 80 Hz at ``rms_dbfs``: what a vocal mic picks up from floor and stand."""
    lowpass = signal.butter(4, 80, btype="lowpass", fs=SAMPLE_RATE, output="sos")
    noise = signal.sosfilt(lowpass, rng.standard_normal(frames))
    return noise * (10 ** (rms_dbfs / 20) / np.sqrt(np.mean(noise**2)))


def fit(audio: np.ndarray, frames: int) -> np.ndarray:
    """Exactly ``frames`` long (cut or padded with silence), fading out over the last FADE_OUT_S."""
    shaped = np.zeros((frames, *audio.shape[1:]))
    shaped[: min(frames, len(audio))] = audio[:frames]
    fade = round(FADE_OUT_S * SAMPLE_RATE)
    ramp = np.linspace(1.0, 0.0, fade)
    shaped[-fade:] *= ramp.reshape(-1, *([1] * (audio.ndim - 1)))
    return shaped


def at_peak(audio: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """Scaled so its sample peak sits at ``peak_dbfs``."""
    return audio * (10 ** (peak_dbfs / 20) / np.max(np.abs(audio)))


# -- the four stems ---------------------------------------------------------------------------------

END_BEAT = BARS * BEATS_PER_BAR + 2  # let the last notes ring past the cut


def make_drums(rng: np.random.Generator, work: Path) -> np.ndarray:
    midi = midi_file(drum_part(rng), channel=9, program=0, tempo_bpm=TEMPO_BPM, end_beat=END_BEAT)
    return render_midi(midi, work, "drums", effects=True)


def make_bass(rng: np.random.Generator, work: Path) -> np.ndarray:
    midi = midi_file(bass_part(rng), channel=0, program=33, tempo_bpm=TEMPO_BPM, end_beat=END_BEAT)
    mono = render_midi(midi, work, "bass", effects=False).mean(axis=1)
    return peaking_eq(mono, freq_hz=280, gain_db=12.0, q=0.9)


def make_keys(rng: np.random.Generator, work: Path) -> np.ndarray:
    midi = midi_file(keys_part(rng), channel=0, program=0, tempo_bpm=TEMPO_BPM, end_beat=END_BEAT)
    stereo = render_midi(midi, work, "keys", effects=True)
    return peaking_eq(stereo, freq_hz=320, gain_db=10.0, q=0.8)


def make_vocal(rng: np.random.Generator, work: Path) -> np.ndarray:
    frames = round(DURATION_S * SAMPLE_RATE)
    voice = np.zeros(frames)
    bar_frames = BEATS_PER_BAR * SECONDS_PER_BEAT * SAMPLE_RATE
    for index, (bar, pitch, words) in enumerate(LYRICS):
        line = speak(words, pitch=pitch, work=work, name=f"line{index}")
        start = round((bar + 0.125) * bar_frames)  # come in just after the downbeat
        line = line[: frames - start]
        voice[start : start + len(line)] += line
    voice = at_peak(voice, -3.0)
    return voice + rumble(frames, rng, rms_dbfs=-30.0)


MAKERS: dict[str, Callable[[np.random.Generator, Path], np.ndarray]] = {
    "drums": make_drums,
    "bass": make_bass,
    "keys": make_keys,
    "vocal": make_vocal,
}


# -- writing the session ------------------------------------------------------------------------------


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then move it into place."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)  # mkstemp makes it private; data files are for everyone to read
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def session_description() -> dict:
    """The session as a DAW would describe it; ``file`` is relative to session.json."""
    return {
        "title": TITLE,
        "key": KEY,
        "tempo": TEMPO_BPM,
        "time_signature": f"{BEATS_PER_BAR}/4",
        "sample_rate": SAMPLE_RATE,
        "duration_s": DURATION_S,
        "selected_track_id": STEMS["vocal"].track_id,
        "tracks": [
            {
                "track_id": stem.track_id,
                "track_name": stem.name,
                "track_type": stem.track_type,
                "file": f"stems/{key}.flac",
                "channels": stem.channels,
                "muted": False,
                "soloed": False,
                "volume_db": stem.volume_db,
                "pan": stem.pan,
            }
            for key, stem in STEMS.items()
        ],
    }


def write_flac(path: Path, *, audio: np.ndarray) -> None:
    """One stem as 16-bit FLAC at the session's rate."""
    sf.write(path, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")


def make_session(out: Path) -> dict:
    """Render every stem into ``out/stems/`` and write ``out/session.json``; returns the session."""
    stems_dir = out / "stems"
    stems_dir.mkdir(parents=True, exist_ok=True)
    frames = round(DURATION_S * SAMPLE_RATE)
    with tempfile.TemporaryDirectory(prefix="codette-demo-") as scratch:
        for index, (key, make) in enumerate(MAKERS.items()):
            rng = np.random.default_rng([SEED, index])
            audio = at_peak(fit(make(rng, Path(scratch)), frames), STEMS[key].peak_dbfs)
            write_atomically(stems_dir / f"{key}.flac", partial(write_flac, audio=audio))
    session = session_description()
    text = json.dumps(session, indent=2) + "\n"
    write_atomically(out / "session.json", lambda path: path.write_text(text, encoding="utf-8"))
    return session


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder to write into (default {DEFAULT_OUT})")
    options = parser.parse_args(argv)
    missing = missing_tools()
    if missing:
        print("make_demo_session: cannot render the demo session, missing:", file=sys.stderr)
        for item in missing:
            print(f"  - {item}", file=sys.stderr)
        print(f"The committed files in {DEFAULT_OUT} need none of these; only re-rendering does.", file=sys.stderr)
        return 2
    session = make_session(options.out)
    for track in session["tracks"]:
        path = options.out / track["file"]
        print(f"{path}  {track['track_name']}  {path.stat().st_size / 1e6:.2f} MB")
    print(options.out / "session.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
