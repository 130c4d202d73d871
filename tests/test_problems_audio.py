"""Problem detection on real (synthesised) audio: each problem is built into a track and must be found.

Every track is made here from sines and noise whose spectrum and level are
known by construction: a harmonic "voice" (220 Hz and its overtones, 1/k
amplitudes), the same voice with rumble at 35 Hz, with a build-up at
330-410 Hz, with harsh partials at 2.7-3.6 kHz; masters scaled to a loudness
measured independently with pyloudnorm; pairs of tracks that share (or do
not share) a band. Each is sent through the Python API ``analyze()`` and
through ``Engine().respond`` as base64 float32 samples, as a DAW would.
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pyloudnorm
import pytest

from codette_lab.analysis_types import analyze
from codette_lab.engine import Engine
from codette_lab.rules import RuleSet

SR = 44100
SECONDS = 3.0


def tones(partials: list[tuple[float, float]], *, seconds: float = SECONDS, seed: int = 0) -> np.ndarray:
    """Sum of sines (frequency Hz, amplitude) with random phases and a slight vibrato."""
    t = np.arange(int(seconds * SR)) / SR
    phases = np.random.default_rng(seed).uniform(0, 2 * np.pi, len(partials))
    vibrato = 0.002 * np.sin(2 * np.pi * 5.0 * t)
    return sum(a * np.sin(2 * np.pi * f * (t + vibrato) + p) for (f, a), p in zip(partials, phases, strict=True))


def at_peak(y: np.ndarray, dbfs: float) -> np.ndarray:
    return (y * (10 ** (dbfs / 20) / np.max(np.abs(y)))).astype(np.float32)


def voice(*, seconds: float = SECONDS) -> np.ndarray:
    """A sung 220 Hz vowel: 1/k harmonics up to 16 kHz, syllable-rate amplitude movement, unit peak."""
    y = tones([(220.0 * k, 1.0 / k) for k in range(1, 73)], seconds=seconds)
    t = np.arange(len(y)) / SR
    y = y * (0.6 + 0.4 * np.abs(np.sin(np.pi * 2.5 * t)))
    return y / np.max(np.abs(y))


HEALTHY_VOCAL = at_peak(voice(), -8)
VOCALS = {
    "healthy": HEALTHY_VOCAL,
    "rumble": at_peak(voice() + tones([(35.0, 0.05)], seed=1), -8),
    "low_mid_buildup": at_peak(voice() + tones([(330.0, 0.9), (410.0, 0.7)], seed=2), -8),
    "harshness": at_peak(voice() + tones([(2700.0, 0.5), (3200.0, 0.5), (3600.0, 0.4)], seed=3), -8),
}


def master_mix(*, drive: float, seed: int = 4) -> np.ndarray:
    """A stereo 'song': bass line, the voice, noise-burst drums, through a tanh saturator (more drive = louder)."""
    n = int(SECONDS * SR)
    t = np.arange(n) / SR
    drums = np.random.default_rng(seed).standard_normal(n) * np.exp(-(t % 0.5) / 0.05) * 0.8
    mix = 0.5 * tones([(55.0, 1.0), (110.0, 0.5), (165.0, 0.3)], seed=seed) + 0.4 * voice() + drums
    mix = np.tanh(drive * mix / np.max(np.abs(mix)))
    return np.stack([mix, 0.9 * mix + 0.1 * np.roll(mix, 200)])


def at_lufs(y: np.ndarray, lufs: float) -> np.ndarray:
    """``y`` scaled to an integrated loudness measured by pyloudnorm (the reference, not our meter)."""
    measured = pyloudnorm.Meter(SR).integrated_loudness(y.T)
    return (y * 10 ** ((lufs - measured) / 20)).astype(np.float32)


def wire_of(y: np.ndarray, **options) -> dict:
    return analyze(y, SR, **options).to_wire()


def rule_ids(wire: dict) -> set[str]:
    return {problem["rule"] for problem in wire["problems_detected"]}


def samples_field(y: np.ndarray) -> dict:
    """``audio_data`` with base64 little-endian float32 interleaved samples."""
    channels = np.atleast_2d(y)
    data = np.ascontiguousarray(channels.T, dtype="<f4").tobytes()
    return {"samples": base64.b64encode(data).decode("ascii"), "channels": channels.shape[0], "sample_rate": SR}


def engine_analysis(engine: Engine, y: np.ndarray, analysis_type: str, track: dict, other: tuple | None = None) -> dict:
    message = {
        "type": "analyze",
        "track_data": {"track_id": "t1", **track},
        "audio_data": samples_field(y),
        "analysis_type": analysis_type,
    }
    if other is not None:
        other_y, other_track = other
        message["other_track"] = {"track_data": other_track, "audio_data": samples_field(other_y)}
    reply = engine.respond(json.dumps(message))
    assert reply["type"] == "analysis_response", reply
    assert reply["trackId"] == "t1"
    return reply["analysis"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


# -- spectral problems on a vocal ---------------------------------------------------------------------------


@pytest.mark.parametrize("problem", ["rumble", "low_mid_buildup", "harshness"])
def test_a_vocal_problem_is_found_and_a_concrete_move_suggested(problem: str):
    wire = wire_of(VOCALS[problem], kind="spectrum", track_type="vocal", track_name="Lead Vocal")
    assert rule_ids(wire) == {problem}
    detail = wire["suggestion_details"][0]
    assert detail["rule"] == problem and detail["text"] == wire["mixing_suggestions"][0]
    # the move follows the measurement: where the injected partials sit (330-410 Hz, 2.7-3.6 kHz, within the
    # 1/6-octave smoothing), how far they stand out (a cut of several dB, not a fixed 3 dB)
    moves = {
        "rumble": (r"High-pass Lead Vocal at (80) Hz", 80, 80, 0),
        "low_mid_buildup": (r"Cut (\d+) dB around (\d+) Hz on Lead Vocal", 290, 420, 6),
        "harshness": (r"Cut (\d+) dB around (\d+) Hz on Lead Vocal", 2700, 3600, 6),
    }
    pattern, low_hz, high_hz, min_db = moves[problem]
    match = re.match(pattern, wire["mixing_suggestions"][0])
    assert match, wire["mixing_suggestions"][0]
    assert low_hz <= int(match.groups()[-1]) <= high_hz and int(match.group(1)) >= min_db
    move = match.group(0)
    assert sum(move in text for text in wire["mixing_suggestions"]) == 1  # not repeated as advice
    problem_detail = wire["problems_detected"][0]
    assert problem_detail["value"] > problem_detail["threshold"]
    assert problem_detail["text"] in wire["codette_insights"]


def test_the_healthy_vocal_passes_every_check_and_scores_highest():
    wires = {name: wire_of(y, kind="quality", track_type="vocal") for name, y in VOCALS.items()}
    scores = {name: wire["quality_score"] for name, wire in wires.items()}
    assert wires["healthy"]["problems_detected"] == []
    # nothing found: only its tonal balance's lean against real voices costs it, less than the cap
    assert 1.0 - RuleSet.default()["general.balance_cost_max"] <= scores["healthy"] < 1.0
    assert all(scores["healthy"] > score for name, score in scores.items() if name != "healthy")
    broken = VOCALS["rumble"] + VOCALS["harshness"]
    broken = np.clip(broken / np.max(np.abs(broken)) * 1.5, -1.0, 1.0)  # and hard-clipped
    wire = wire_of(broken, kind="quality", track_type="vocal")
    assert {"rumble", "harshness", "clipped"} <= rule_ids(wire)
    assert wire["quality_score"] < min(scores.values())


def test_the_rules_thresholds_decide_and_follow_live_changes():
    rules = RuleSet.default()
    assert "rumble" in rule_ids(wire_of(VOCALS["rumble"], kind="spectrum", track_type="vocal", rules=rules))
    rules["vocal.rumble_max_db"] = 0  # no sub-bass share is above 0 dB
    assert "rumble" not in rule_ids(wire_of(VOCALS["rumble"], kind="spectrum", track_type="vocal", rules=rules))
    rules["vocal.highpass_hz"] = 120
    rules.reset("vocal.rumble_max_db")
    wire = wire_of(VOCALS["rumble"], kind="spectrum", track_type="vocal", rules=rules)
    assert wire["mixing_suggestions"][0].startswith("High-pass this track at 120 Hz")


def test_a_voice_with_a_loud_rumble_under_its_pauses_is_programme_with_rumble_not_an_empty_track():
    """Words with pauses between them over a loud, steady 35 Hz rumble: the track's frame levels hardly move
    (the rumble fills the pauses), but above the sub-bass it is a voice. The answer is the rumble and its
    high-pass, never "no programme: check the routing"."""
    t = np.arange(int(SECONDS * SR)) / SR
    words = voice() * (np.sin(2 * np.pi * t / 0.8) > 0.4)  # a word a little under a third of every 0.8 s
    wire = wire_of(at_peak(words + tones([(35.0, 1.5)], seed=5), -8), kind="quality", track_type="vocal")
    assert "rumble" in rule_ids(wire) and "no_programme" not in rule_ids(wire)
    assert wire["metrics"]["noise_only"] == 0.0


def syllables(*, seconds: float, decay_s: float) -> np.ndarray:
    """The voice's partials struck every 0.4 s and dying away with time constant ``decay_s``: sung syllables."""
    y = tones([(220.0 * k, 1.0 / k) for k in range(1, 73)], seconds=seconds)
    return y * np.exp(-((np.arange(len(y)) / SR) % 0.4) / decay_s)


def test_pauses_between_phrases_do_not_make_a_steady_vocal_very_dynamic():
    """A vocal stem silent between its phrases: the silence pulls its RMS down, so its crest factor over the
    whole track passes the type's mark, but while it sounds it is an ordinary vocal. Compressing it would do
    nothing in the pauses: it is judged on the crest factor while it sounds."""
    phrase = syllables(seconds=1.6, decay_s=0.08)
    stem = at_peak(np.concatenate([gain * phrase for gain in [1.0, 0.0, 0.0, 0.0] * 3]), -3)
    wire = wire_of(stem, kind="dynamics", track_type="vocal")
    metrics, mark = wire["metrics"], RuleSet.default()["general.crest_max_db"]
    assert metrics["crest_factor_db"] > mark + 2.0  # the whole track's: what the rule once judged
    assert metrics["pause_fraction"] > 0.6
    assert "very_dynamic" not in rule_ids(wire)


def test_a_vocal_whose_accents_jump_out_without_pausing_is_still_very_dynamic():
    """Hard accents over a sung line that never stops: dynamic while it sounds, and said to be."""
    line = 0.1 * voice(seconds=6.0) + syllables(seconds=6.0, decay_s=0.01)
    wire = wire_of(at_peak(line, -3), kind="dynamics", track_type="vocal")
    assert wire["metrics"]["pause_fraction"] == 0.0
    [problem] = [p["text"] for p in wire["problems_detected"] if p["rule"] == "very_dynamic"]
    assert f"crest factor of {wire['metrics']['crest_factor_db']:.1f} dB while it sounds" in problem


def test_rumble_is_not_reported_on_a_bass():
    bass = at_peak(tones([(35.0, 1.0), (70.0, 0.6), (105.0, 0.3)]), -8)
    assert "rumble" not in rule_ids(wire_of(bass, kind="spectrum", track_type="bass"))
    assert "rumble" in rule_ids(wire_of(bass, kind="spectrum", track_type="guitar"))


# -- masters against loudness targets ------------------------------------------------------------------------

TARGETS = {"streaming": -14.0, "broadcast": -23.0, "podcast": -16.0}


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("offset", [-6.0, 0.0, 6.0])
def test_masters_are_judged_against_their_target(target: str, offset: float):
    """A master 6 LU above its target is too loud, 6 LU below too quiet, on target neither."""
    master = at_lufs(master_mix(drive=1.5), TARGETS[target] + offset)
    wire = wire_of(master, kind="loudness", track_type="master", target=target)
    found = rule_ids(wire) & {"too_loud", "too_quiet"}
    assert found == {6.0: {"too_loud"}, 0.0: set(), -6.0: {"too_quiet"}}[offset]
    assert wire["loudness_target"]["lufs"] == TARGETS[target]
    assert abs(wire["metrics"]["integrated_lufs"] - (TARGETS[target] + offset)) < 0.1
    if found:
        suggestion = next(d["text"] for d in wire["suggestion_details"] if d["rule"] in found)
        assert f"{TARGETS[target]:.0f} LUFS" in suggestion and "by about 6.0 dB" in suggestion


def test_a_slammed_master_is_too_loud_over_its_ceiling_and_scores_below_a_healthy_one():
    slammed = master_mix(drive=6.0)
    slammed = (slammed * 10 ** (-0.1 / 20) / np.max(np.abs(slammed))).astype(np.float32)
    assert pyloudnorm.Meter(SR).integrated_loudness(slammed.T) > -8
    bad = wire_of(slammed, kind="quality", track_type="master")
    assert {"too_loud", "master_squashed"} <= rule_ids(bad)
    assert "Lower the limiter input" in " ".join(bad["mixing_suggestions"])
    good = wire_of(at_lufs(master_mix(drive=1.5), -14.0), kind="quality", track_type="master")
    assert not rule_ids(good) & {"too_loud", "too_quiet", "master_squashed", "true_peak_over_ceiling"}
    assert good["quality_score"] > bad["quality_score"]


def test_a_numeric_loudness_target_works_like_a_named_one():
    master = at_lufs(master_mix(drive=1.5), -14.0)
    assert "too_loud" in rule_ids(wire_of(master, kind="loudness", track_type="master", target=-18))
    assert "too_quiet" in rule_ids(wire_of(master, kind="loudness", track_type="master", target=-10))


# -- stereo and transients ---------------------------------------------------------------------------------------


def test_stereo_problems():
    inverted = np.stack([HEALTHY_VOCAL, -HEALTHY_VOCAL])
    assert "phase_problem" in rule_ids(wire_of(inverted, kind="stereo", track_type="synth"))
    unrelated = np.stack([HEALTHY_VOCAL, at_peak(tones([(233.0 * k, 1 / k) for k in range(1, 40)], seed=9), -8)])
    assert rule_ids(wire_of(unrelated, kind="stereo", track_type="bass")) == {"bass_too_wide"}
    assert rule_ids(wire_of(unrelated, kind="stereo", track_type="vocal")) == {"too_wide"}
    # stereo-sampled pads and pianos spread nearly that wide by nature: judged against their type's width
    assert rule_ids(wire_of(unrelated, kind="stereo", track_type="synth")) == set()
    dual_mono = np.stack([HEALTHY_VOCAL, HEALTHY_VOCAL])
    assert rule_ids(wire_of(dual_mono, kind="stereo", track_type="bus")) == {"too_narrow"}
    # a keyboard or pad from a mono sample on a stereo track is an ordinary part, not a fault (issue 19)
    assert rule_ids(wire_of(dual_mono, kind="stereo", track_type="keys")) == set()
    assert rule_ids(wire_of(HEALTHY_VOCAL, kind="stereo", track_type="bus")) == set()  # mono is not "narrow"


def test_a_hard_panned_track_has_no_correlation_so_no_phase_verdict():
    engine = Engine()
    hard_left = np.stack([HEALTHY_VOCAL, np.zeros_like(HEALTHY_VOCAL)])
    wire = engine_analysis(engine, hard_left, "stereo", {"track_name": "Gtr L", "track_type": "guitar"})
    metrics = wire["metrics"]
    assert metrics["stereo_correlation"] is None and metrics["stereo_balance"] == pytest.approx(-1.0)
    assert metrics["stereo_width"] == pytest.approx(0.5)
    assert "phase_problem" not in rule_ids(wire)
    assert "too_wide" not in rule_ids(wire)  # one-sided is a panning choice, not a wide image
    assert "bass_too_wide" not in rule_ids(
        engine_analysis(engine, hard_left, "stereo", {"track_name": "Bass L", "track_type": "bass"})
    )
    assert "None of the stereo checks (phase problem, over widened, too wide) could be made" in wire["codette_insights"]
    assert "correlation 1.00" not in wire["codette_insights"]
    json.dumps(wire, allow_nan=False)


def test_silent_stereo_audio_is_not_rated_on_its_stereo_image():
    silence = np.zeros((2, SR), dtype=np.float32)
    wire = wire_of(silence, kind="stereo", track_type="keys")
    assert wire["metrics"]["stereo_correlation"] is None and wire["metrics"]["stereo_width"] is None
    # not rated on its image (the score stays under the cap of 0.5), and silence is itself the finding, which
    # says so: the stereo checks it could not make are not listed after it as well
    assert rule_ids(wire) == {"no_programme"} and "every sample is zero" in wire["codette_insights"]
    assert "stereo image are not judged" in wire["codette_insights"] and "phase problem" not in wire["codette_insights"]
    assert wire["quality_score"] < 0.5
    # mono silence too has no image: it was "correlation 1.00", and judged on its image
    mono = wire_of(silence[0], kind="quality", track_type="keys")
    assert mono["metrics"]["stereo_correlation"] is None and "correlation" not in mono["codette_insights"]
    assert mono["quality_score"] == wire["quality_score"]
    assert "Not checked" not in mono["codette_insights"] and "rumble" not in mono["codette_insights"]
    # the stereo analysis does not judge the tone: nothing found scores 1
    assert wire_of(np.stack([HEALTHY_VOCAL, HEALTHY_VOCAL]), kind="stereo", track_type="vocal")["quality_score"] == 1.0


def test_squashed_drums_are_found():
    t = np.arange(int(SECONDS * SR)) / SR
    hits = np.random.default_rng(5).standard_normal(len(t)) * np.exp(-(t % 0.5) / 0.03)
    punchy = wire_of(at_peak(hits, -6), kind="transients", track_type="drums")
    squashed = wire_of(at_peak(np.tanh(8 * hits / np.max(np.abs(hits))), -6), kind="transients", track_type="drums")
    assert "squashed_transients" not in rule_ids(punchy)
    assert "squashed_transients" in rule_ids(squashed)
    assert punchy["quality_score"] > squashed["quality_score"]


def test_clipped_drums_are_told_about_the_clipping_not_about_their_transients():
    """Hits clipped flat have lost their transients too, but the remedy is the clipping's (re-record, lower
    the drive), never a longer compressor attack or a transient shaper."""
    t = np.arange(int(SECONDS * SR)) / SR
    hits = np.random.default_rng(5).standard_normal(len(t)) * np.exp(-(t % 0.5) / 0.03)
    clipped = np.clip(10.0 * hits / np.max(np.abs(hits)), -1.0, 1.0).astype(np.float32)
    wire = wire_of(clipped, kind="quality", track_type="drums")
    assert "clipped" in rule_ids(wire)
    assert wire["metrics"]["transient_crest_db"] < RuleSet.default()["drums.transient_crest_min_db"]
    assert "squashed_transients" not in rule_ids(wire)
    assert wire["mixing_suggestions"][0].startswith("Re-record or re-render")
    assert not any("transient shaper" in text for text in wire["mixing_suggestions"])


# -- two tracks masking each other -------------------------------------------------------------------------------


def test_two_tracks_in_the_same_band_mask_each_other_and_the_cut_goes_on_the_lesser_one():
    guitar = at_peak(tones([(300.0 * k, 1 / k) for k in range(2, 7)], seed=6), -10)  # 600-1800 Hz
    keys = at_peak(tones([(350.0 * k, 1 / k) for k in range(2, 6)], seed=7), -10)  # 700-1750 Hz
    wire = wire_of(
        keys,
        kind="masking",
        track_type="keys",
        track_name="Piano",
        other=guitar,
        other_track_type="guitar",
        other_track_name="Rhythm Gtr",
    )
    assert rule_ids(wire) == {"masking"}
    band = wire["metrics"]["masked_band"]
    assert band == "mids"
    assert "Cut 3 dB around 1000 Hz on Rhythm Gtr to make room for Piano" in wire["mixing_suggestions"][0]
    insights = wire["codette_insights"]
    assert "Piano and Rhythm Gtr mask each other" in insights and "(500-2000 Hz)" in insights
    overview = wire_of(keys, kind="quality", track_type="keys", other=guitar, other_track_type="guitar")
    assert "masking" in rule_ids(overview) and overview["metrics"]["masked_band"] == "mids"
    assert "masking_overlap" not in wire_of(keys, kind="quality", track_type="keys")["metrics"]


def test_tracks_in_different_bands_do_not_mask():
    bass = at_peak(tones([(55.0, 1.0), (110.0, 0.4)], seed=8), -10)
    t = np.arange(int(SECONDS * SR)) / SR
    hats = at_peak(np.diff(np.random.default_rng(9).standard_normal(len(t) + 1)) * np.exp(-(t % 0.25) / 0.02), -12)
    wire = wire_of(bass, kind="masking", track_type="bass", other=hats, other_track_type="drums")
    assert "masking" not in rule_ids(wire)
    assert wire["metrics"]["masking_overlap"] < 0.1


# -- the same through the engine, as a DAW sends it ----------------------------------------------------------------


def test_the_engine_finds_the_same_problems_from_base64_samples(engine: Engine):
    for problem in ("rumble", "low_mid_buildup", "harshness"):
        analysis = engine_analysis(engine, VOCALS[problem], "frequency", {"track_name": "Vox", "track_type": "vocals"})
        assert analysis["analysis_type"] == "spectrum"
        assert rule_ids(analysis) == {problem}
        assert analysis == wire_of(VOCALS[problem], kind="spectrum", track_type="vocal", track_name="Vox") | {
            "measured_from": "audio"
        }
    healthy = engine_analysis(engine, HEALTHY_VOCAL, "quality", {"track_type": "vocal"})
    assert healthy["problems_detected"] == [] and healthy["measured_from"] == "audio"
    assert healthy["quality_score"] == wire_of(HEALTHY_VOCAL, kind="quality", track_type="vocal")["quality_score"]


def test_the_engine_judges_masters_against_the_requests_target(engine: Engine):
    master = at_lufs(master_mix(drive=1.5), -14.0)
    streaming = engine_analysis(engine, master, "loudness", {"track_type": "master"})
    broadcast = engine_analysis(engine, master, "loudness", {"track_type": "master", "loudness_target": "broadcast"})
    podcast = engine_analysis(engine, master, "loudness", {"track_type": "master", "loudness_target": "podcast"})
    assert not rule_ids(streaming) & {"too_loud", "too_quiet"}
    assert "too_loud" in rule_ids(broadcast) and "too_loud" in rule_ids(podcast)
    assert "9.0 LU above -23 LUFS" in broadcast["codette_insights"]


def test_the_engine_answers_masking_between_two_sent_tracks(engine: Engine):
    guitar = at_peak(tones([(300.0 * k, 1 / k) for k in range(2, 7)], seed=6), -10)  # 600-1800 Hz
    keys = at_peak(tones([(350.0 * k, 1 / k) for k in range(2, 6)], seed=7), -10)  # 700-1750 Hz
    piano = {"track_name": "Piano", "track_type": "piano"}
    analysis = engine_analysis(
        engine,
        np.stack([keys, keys]),
        "masking",
        piano,
        other=(guitar, {"track_name": "Rhythm Gtr", "track_type": "gtr"}),
    )
    assert rule_ids(analysis) == {"masking"}
    assert "on Rhythm Gtr to make room for Piano" in analysis["mixing_suggestions"][0]
    reply = engine.respond(
        json.dumps(
            {
                "type": "analyze",
                "track_data": {"track_type": "keys"},
                "audio_data": samples_field(keys),
                "analysis_type": "masking",
            }
        )
    )
    assert reply["type"] == "error" and "needs audio for two tracks" in reply["message"]


def test_exported_rules_loaded_by_a_new_engine_answer_identically(tmp_path, engine: Engine):
    tuned = Engine()
    tuned.rules.set(**{"vocal.rumble_max_db": -45, "vocal.highpass_hz": 100, "loudness.streaming_lufs": -12})
    path = tuned.rules.export(tmp_path / "tuned.json")
    reloaded = Engine(rules=path)
    loud_master = at_lufs(master_mix(drive=1.5), -14.0)
    cases = ((VOCALS["rumble"], "quality"), (VOCALS["healthy"], "spectrum"), (loud_master, "loudness"))
    for y, kind in cases:
        track = {"track_type": "vocal" if y.ndim == 1 else "master", "track_name": "T"}
        assert engine_analysis(tuned, y, kind, track) == engine_analysis(reloaded, y, kind, track)
    assert engine_analysis(reloaded, VOCALS["rumble"], "spectrum", {"track_type": "vocal"}) != engine_analysis(
        engine, VOCALS["rumble"], "spectrum", {"track_type": "vocal"}
    )


@pytest.mark.parametrize("kind", ["quality", "spectrum", "dynamics", "loudness"])
def test_audio_whose_every_sample_is_zero_holds_no_programme(kind):
    """Digital silence (a track recorded with its input unplugged, a region of zeros): nothing to mix, said so,
    instead of "none of the checks found a problem" and a clean score with EQ tips."""
    wire = wire_of(np.zeros(int(SECONDS * SR), dtype=np.float32), kind=kind, track_type="vocal")
    assert rule_ids(wire) == {"no_programme"}
    assert "no signal at all (every sample is zero)" in wire["codette_insights"]
    assert wire["quality_score"] < 0.5
    assert all("routing" in tip or "delete the region" in tip for tip in wire["mixing_suggestions"])


def test_a_constant_far_under_the_silence_floor_is_silence_not_clipping():
    """Samples all equal at 1e-40 (-800 dBFS: denormals a plug-in left behind) are runs of equal samples at the
    track's own peak, but there is nothing to clip: no programme, and no "flattened at its own peak"."""
    wire = wire_of(np.full(SR, 1e-40, dtype=np.float32), kind="quality", track_type="vocal")
    assert rule_ids(wire) == {"no_programme"}


@pytest.mark.parametrize("kind", ["quality", "spectrum", "dynamics"])
@pytest.mark.parametrize("offsets", [(0.3,), (-0.2, -0.2), (0.25, -0.25)])
def test_a_constant_offset_is_no_programme_and_a_dc_offset_not_a_squashed_clipped_rumble(kind, offsets):
    """A dead input can read a constant: it was 'flattened at its own peak', 'over-compressed' (crest factor 0 dB)
    and, as a vocal, 'rumble' (the offset leaked into the lowest bins). It is nothing to mix, and its offset."""
    y = np.stack([np.full(int(SECONDS * SR), offset, dtype=np.float32) for offset in offsets])
    wire = wire_of(y[0] if len(offsets) == 1 else y, kind=kind, track_type="vocal")
    assert rule_ids(wire) == {"no_programme", "dc_offset"}
    assert f"only a constant (every sample sits at its DC offset of {offsets[0]:+.4f})" in wire["codette_insights"]


def test_a_constant_has_no_spectrum_to_report_and_a_track_name_opening_a_sentence_keeps_its_case():
    """Nothing of a constant is left once its offset is off (no 'spectral centroid 59 Hz' from a float32
    residue); the finding opens with the user's name as written ('iPhone vox', not 'IPhone vox'), and with
    'This track' when the request named none."""
    y = np.full(int(SECONDS * SR), 0.3, dtype=np.float32)
    named = wire_of(y, kind="quality", track_type="vocal", track_name="iPhone vox")
    assert named["metrics"]["spectral_centroid_hz"] is None and named["metrics"]["band_energy_db"]["mids"] is None
    assert "iPhone vox holds no programme material" in named["codette_insights"]
    assert "This track holds no programme material" in wire_of(y, kind="quality")["codette_insights"]


def test_a_dc_offset_under_a_voice_leaves_its_spectrum_as_it_was():
    """The spectrum is taken with the offset off: the offset is judged on its own (dc_offset), and left in, it
    lands in the lowest bins (a vocal with a 0.3 offset read as rumble) and the zero-padded tail steps."""
    quiet = at_peak(voice(), -20)
    plain, offset = (wire_of(y, kind="spectrum", track_type="vocal") for y in (quiet, quiet + np.float32(0.3)))
    assert rule_ids(offset) == rule_ids(plain) | {"dc_offset"}
    bands = ("band_energy_db", "spectral_centroid_hz", "tone_shape_db")
    assert {name: offset["metrics"][name] for name in bands} == {name: plain["metrics"][name] for name in bands}


def test_the_levels_of_digital_silence_are_said_to_be_none():
    wire = wire_of(np.zeros(SR, dtype=np.float32), kind="loudness", track_type="vocal")
    assert "at 44100 Hz: no signal at all (every sample is zero)." in wire["codette_insights"]


@pytest.mark.parametrize("seconds", [0.02, 0.05])
def test_audio_shorter_than_the_analysis_needs_is_refused_saying_how_much_came_and_is_needed(seconds):
    """A 20 ms slice of a voice read as steady noise with a DC offset: under MIN_AUDIO_SECONDS every measure rests
    on one padded frame, so the request gets an error, not findings; from the minimum on it is analyzed."""
    from codette_lab.analysis_types.model import MIN_AUDIO_SECONDS
    from codette_lab.errors import RequestError

    short = HEALTHY_VOCAL[: int(seconds * SR)]
    with pytest.raises(RequestError, match=rf"needs at least {MIN_AUDIO_SECONDS:g} s of audio .*: Vox has "):
        analyze(short, SR, kind="quality", track_type="vocal", track_name="Vox")
    enough = wire_of(HEALTHY_VOCAL[: int(MIN_AUDIO_SECONDS * SR)], kind="quality", track_type="vocal")
    assert "no_programme" not in rule_ids(enough)


@pytest.mark.parametrize("seconds", [0.1, 0.3, 0.6, 1.2])
def test_a_short_clip_of_a_voice_is_programme_not_steady_noise(seconds):
    """Flatness was judged on every 8th frame: a clip of under a second on its first frame alone, the onset's
    broadband splatter, and the voice read as steady hiss ("check the routing")."""
    wire = wire_of(HEALTHY_VOCAL[: int(seconds * SR)], kind="quality", track_type="vocal")
    assert wire["metrics"]["noise_only"] == 0.0 and "no_programme" not in rule_ids(wire)
