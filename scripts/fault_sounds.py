"""The clean material of the fault corpus (scripts/make_fault_corpus.py): stems and masters synthesised
with numpy and scipy, deterministic for a given name, length and sample rate.

Every sound is built from what makes its kind recognisable to a mixing engineer: a voice from a glottal
harmonic series shaped by moving vowel formants, with breath, sibilant and plosive consonants and (for
speech) pauses between phrases; plucked guitar strings and piano notes as decaying partials with
inharmonicity; a detuned-saw pad; a bass guitar, an 808 and a drum kit from swept sines and shaped noise.
The masters are mixes of those stems (music) or a voice (speech) set to a loudness target.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy.signal import butter, oaconvolve, sosfilt

#: (F1, F2, F3) in Hz of the vowels the voice moves through.
VOWELS = (
    (730, 1090, 2440),
    (530, 1840, 2480),
    (270, 2290, 3010),
    (570, 840, 2410),
    (300, 870, 2240),
    (660, 1720, 2410),
)
#: Fixed upper formants (F4, F5) and every formant's bandwidth, Hz.
UPPER_FORMANTS = (3500, 4500)
FORMANT_WIDTHS = (90, 110, 160, 250, 300)
FORMANT_GAINS = (1.0, 0.6, 0.35, 0.2, 0.15)
#: The voice's harmonics stop here (a real voice has little periodic energy above it; breath fills in).
VOICE_TOP_HZ = 12000.0
BLOCK = 256


def rng_for(*parts: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(map(str, parts)).encode()))


def filtered(x: np.ndarray, sr: int, kind: str, hz: float | tuple[float, float], order: int = 2) -> np.ndarray:
    return sosfilt(butter(order, hz, btype=kind, fs=sr, output="sos"), x)


def _formant_gain(freqs: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """Vowel envelope at ``freqs`` (blocks, harmonics) for formants (blocks, 5): tilt floor plus resonances."""
    gain = np.full(freqs.shape, 0.12)
    for index in range(formants.shape[1]):
        centre = formants[:, index : index + 1]
        gain += FORMANT_GAINS[index] / (1.0 + ((freqs - centre) / (FORMANT_WIDTHS[index] / 2.0)) ** 2)
    return gain


def voice(sr: int, n: int, *, seed: str, spoken: bool) -> np.ndarray:
    """A voice: sung notes with vibrato, or speech (gliding pitch, faster syllables, pauses between phrases).

    Consonants: an /s/ (noise peaking at 6-8 kHz, about 12 dB under the vowels) on every fourth syllable,
    a short plosive burst on others, and breath noise under the vowels.
    """
    rng = rng_for("voice", seed, spoken)
    seconds = n / sr
    syllable_s = 0.2 if spoken else 0.45
    starts = np.arange(0.0, seconds, syllable_s)
    count = len(starts)
    blocks = n // BLOCK + 1
    block_t = np.arange(blocks) * BLOCK / sr
    if spoken:
        f0_points = 125.0 * 2 ** (rng.uniform(-0.25, 0.25, count) + 0.1 * np.sin(np.arange(count) / 3.0))
    else:
        f0_points = rng.choice([196.0, 220.0, 247.0, 262.0, 294.0, 330.0], count)
    f0 = (
        np.interp(block_t, starts, f0_points)
        if spoken
        else f0_points[np.minimum((block_t / syllable_s).astype(int), count - 1)]
    )
    if not spoken:
        f0 = f0 * (1 + 0.012 * np.sin(2 * np.pi * 5.5 * block_t))
    vowel_index = rng.integers(0, len(VOWELS), count)
    formants = np.array([(*VOWELS[i], *UPPER_FORMANTS) for i in vowel_index], dtype=float)
    block_formants = np.stack([np.interp(block_t, starts + syllable_s / 2, formants[:, k]) for k in range(5)], axis=1)
    # syllable amplitude: rise and fall within each syllable; phrases of speech separated by pauses
    within = (block_t % syllable_s) / syllable_s
    amp = np.sin(np.pi * np.clip(within, 0, 1)) ** (0.6 if spoken else 0.3)
    if spoken:
        phrase = block_t % 2.4
        amp = amp * (phrase < 1.9)
    syllable = np.minimum((block_t / syllable_s).astype(int), count - 1)
    amp *= np.exp(rng.normal(0, 0.15, count))[syllable]
    amp *= np.where((syllable % 4 == 2) & (block_t % syllable_s < 0.1), 0.05, 1.0)  # the /s/ replaces the vowel onset
    harmonics = np.arange(1, int(VOICE_TOP_HZ / 90.0) + 1)
    freqs = f0[:, None] * harmonics[None, :]
    gains = _formant_gain(freqs, block_formants) / harmonics[None, :] * (freqs < min(VOICE_TOP_HZ, 0.45 * sr))
    gains *= amp[:, None]
    phase = 2 * np.pi * np.cumsum(np.repeat(f0, BLOCK)[:n]) / sr
    sample_blocks = np.arange(n) / BLOCK
    y = np.zeros(n)
    for column, k in enumerate(harmonics):
        g = gains[:, column]
        if g.max() <= 0:
            continue
        y += np.interp(sample_blocks, np.arange(blocks), g) * np.sin(k * phase + column)
    level = np.interp(sample_blocks, np.arange(blocks), amp)
    y += 0.006 * filtered(rng.standard_normal(n), sr, "highpass", 1500.0) * level  # breath
    consonants = np.zeros(n)
    for index, start in enumerate(starts):
        at = int(start * sr)
        if index % 4 == 2:  # /s/
            length = int(0.09 * sr)
            burst = filtered(rng.standard_normal(length), sr, "bandpass", (5000.0, min(9500.0, 0.45 * sr)), 3)
            consonants[at : at + length] += 0.05 * burst[: n - at] * np.hanning(length)[: n - at]
        elif index % 4 == 0:  # plosive
            length = int(0.015 * sr)
            burst = filtered(rng.standard_normal(length), sr, "bandpass", (400.0, 3000.0))
            consonants[at : at + length] += 0.05 * burst[: n - at] * np.hanning(length)[: n - at]
    if spoken:
        consonants *= (np.arange(n) / sr) % 2.4 < 1.9
    return y + consonants


def plucked(sr: int, n: int, *, seed: str, pitches: list[list[float]], step_s: float, bright: float) -> np.ndarray:
    """Chords of plucked strings: decaying partials (higher ones faster), slight inharmonicity, a strum spread."""
    rng = rng_for("plucked", seed)
    t_note = np.arange(int(step_s * 2.5 * sr)) / sr
    notes: dict[float, np.ndarray] = {}
    for f in sorted({f for chord in pitches for f in chord}):
        note = np.zeros(len(t_note))
        for k in range(1, int(min(14000.0, 0.45 * sr) / f)):
            fk = f * k * np.sqrt(1 + 0.0004 * k * k)
            if fk > 0.45 * sr:
                break
            decay = 1.5 + 0.6 * k**bright
            span = t_note[: min(len(t_note), int(9.0 / decay * sr))]  # until it is 80 dB down
            note[: len(span)] += np.sin(2 * np.pi * fk * span + rng.uniform(0, 6.3)) * np.exp(-decay * span) / k**1.1
        notes[f] = note
    y = np.zeros(n)
    for index in range(int(n / sr / step_s) + 1):
        at = int(index * step_s * sr)
        for voice_index, f in enumerate(pitches[index % len(pitches)]):
            offset = at + int(voice_index * 0.012 * sr)
            stop = min(n, offset + len(t_note))
            if offset < stop:
                y[offset:stop] += notes[f][: stop - offset] * rng.uniform(0.7, 1.0)
    return y


def _saw(f: float, t: np.ndarray, sr: int, *, phase: float) -> np.ndarray:
    """A band-limited sawtooth (1/k harmonics up to 12 kHz) at times ``t``, read from a one-period table."""
    size = 4096
    cycle = np.arange(size) / size
    table = sum(np.sin(2 * np.pi * k * cycle) / k for k in range(1, int(min(12000.0, 0.45 * sr) / f)))
    return np.interp((f * t + phase) % 1.0 * size, np.arange(size + 1), np.append(table, table[0]))


def pad(sr: int, n: int, *, seed: str) -> np.ndarray:
    """A stereo pad: chords of band-limited saws detuned per channel, slow attack, gentle low-pass."""
    rng = rng_for("pad", seed)
    t = np.arange(n) / sr
    chords = [(130.8, 164.8, 196.0, 261.6), (110.0, 130.8, 164.8, 220.0), (146.8, 174.6, 220.0, 293.7)]
    voices = []
    for detune in (1.0, 0.996, 1.004):
        y = np.zeros(n)
        for index, chord in enumerate(chords * 4):
            start, stop = int(index * 2.0 * sr), min(n, int((index + 1) * 2.0 * sr))
            if start >= n:
                break
            seg = t[start:stop] - t[start]
            shape = np.minimum(1.0, seg / 0.3) * np.minimum(1.0, (seg[-1] - seg + 1e-3) / 0.2)
            for f in chord:
                y[start:stop] += shape * _saw(f * detune, seg, sr, phase=rng.uniform(0, 1))
        voices.append(filtered(y, sr, "lowpass", 7000.0, 1))
    centre, left, right = voices
    return np.stack([centre + 0.5 * left, centre + 0.5 * right])


def kick(sr: int, n: int, *, beat_s: float, click: bool = True) -> np.ndarray:
    """Four-on-the-floor kick: a 55 Hz body swept down from 160 Hz, with a short click."""
    y = np.zeros(n)
    t = np.arange(int(0.4 * sr)) / sr
    body = np.sin(2 * np.pi * (50 * t + 110 * (1 - np.exp(-t * 30)) / 30)) * np.exp(-t * 9)
    if click:
        click_noise = filtered(rng_for("click").standard_normal(len(t)), sr, "bandpass", (2500.0, 6000.0))
        body += 1.5 * click_noise * np.exp(-t * 400)
    for at in range(0, n, int(beat_s * sr)):
        stop = min(n, at + len(t))
        y[at:stop] += body[: stop - at]
    return y


def drum_kit(sr: int, n: int, *, seed: str) -> np.ndarray:
    """A stereo kit: kick, snare on 2 and 4, eighth-note hats (panned right), a little room."""
    rng = rng_for("kit", seed)
    beat = 0.5
    k = kick(sr, n, beat_s=beat)
    snare = np.zeros(n)
    hats = np.zeros(n)
    t = np.arange(int(0.3 * sr)) / sr
    hit = np.sin(2 * np.pi * 190 * t) * np.exp(-t * 25) * 0.6 + filtered(
        rng.standard_normal(len(t)), sr, "bandpass", (1000.0, 9000.0)
    ) * np.exp(-t * 18)
    hat = filtered(rng.standard_normal(len(t)), sr, "highpass", 7000.0, 4) * np.exp(-t * 60)
    for index, at in enumerate(range(0, n, int(beat * sr / 2))):
        stop = min(n, at + len(t))
        hats[at:stop] += hat[: stop - at] * (1.0 if index % 2 == 0 else 0.6)
        if index % 4 == 2:
            snare[at:stop] += hit[: stop - at]
    room = [filtered(rng.standard_normal(n), sr, "bandpass", (300.0, 6000.0)) for _ in range(2)]
    decay = np.exp(-np.arange(int(0.25 * sr)) / sr * 12)
    dry = k + 0.7 * snare + 0.4 * hats
    ambience = [oaconvolve(dry, noise[: len(decay)] * decay, mode="full")[:n] * 0.02 for noise in room]
    return np.stack([k + 0.7 * snare + 0.15 * hats + ambience[0], k + 0.7 * snare + 0.6 * hats + ambience[1]])


def bass_line(sr: int, n: int, *, seed: str) -> np.ndarray:
    """A bass guitar: band-limited saw notes (41-98 Hz) with a pluck envelope through a 1.2 kHz low-pass."""
    rng = rng_for("bass", seed)
    notes = rng.choice([41.2, 49.0, 55.0, 65.4, 73.4, 98.0], int(n / sr / 0.5) + 1)
    y = np.zeros(n)
    t = np.arange(int(0.5 * sr)) / sr
    for index, f in enumerate(notes):
        at = int(index * 0.5 * sr)
        stop = min(n, at + len(t))
        if at >= n:
            break
        note = sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, int(3000 / f)))
        y[at:stop] += (note * np.exp(-t * 3) * np.minimum(1, t / 0.005))[: stop - at]
    return filtered(y, sr, "lowpass", 1200.0)


def eight_o_eight(sr: int, n: int, *, beat_s: float, ducked_by: np.ndarray | None = None) -> np.ndarray:
    """An 808: a long 50 Hz sine note on every beat (with a little drive for harmonics).

    ``ducked_by`` (a kick) side-chains it: its level dips 20 dB while the kick sounds.
    """
    t = np.arange(int(beat_s * sr)) / sr
    note = np.tanh(1.5 * np.sin(2 * np.pi * 50 * t) * np.exp(-t * 1.5)) * np.minimum(1, t / 0.004)
    y = np.zeros(n)
    for at in range(0, n, len(t)):
        stop = min(n, at + len(t))
        y[at:stop] += note[: stop - at]
    if ducked_by is not None:
        follower = filtered(np.abs(ducked_by), sr, "lowpass", 30.0, 1)
        follower = np.roll(follower, -int(0.01 * sr))  # a look-ahead side-chain: the duck is down at the hit
        y = y * 10 ** (-20 * np.clip(follower / follower.max() * 3, 0, 1) / 20)
    return y
