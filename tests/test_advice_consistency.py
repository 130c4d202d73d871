"""Every built-in answer agrees with itself, with the measurements and with the rules in force.

Chat: every built-in perspective answers a set of questions with each track of the demo session selected
(and with a lone track, a bus and a master), judged by tests/consistency.py; again with tuned rules, whose
figures the answers must then quote. Analysis: the ``quality`` analysis of each demo stem and of every case
of the fault corpus (scripts/make_fault_corpus.py), its suggestions judged the same way.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import soundfile
from consistency import (
    crest_problems,
    eq_problems,
    figure_problems,
    gain_direction_problems,
    headroom_problems,
    highpass_problems,
    track_count_problems,
)
from corpus_material import project_script

from codette_lab.analysis_types import analyze
from codette_lab.chat import answer_chat, builtin_perspectives
from codette_lab.chat.daw import DawContext
from codette_lab.chat.levels import LEVEL_ANALYSIS_TYPE, reported_metrics
from codette_lab.daw.session import Session
from codette_lab.knowledge import KnowledgeBase
from codette_lab.memory import ConversationMemory
from codette_lab.protocol import ChatRequest
from codette_lab.rules import RuleSet, RuleSnapshot
from codette_lab.rules import evaluate as evaluation

QUESTIONS = (
    "How much headroom should I leave on each track?",
    "How much headroom should I leave?",
    "Is this track too loud?",
    "What should I do with this track?",
    "How do I gain stage this track?",
    "How do I EQ this track?",
    "Where should I high-pass it?",
    "How should I compress this?",
    "It sounds muddy, what should I cut?",
    "It sounds harsh, what do I do?",
    "How loud should my master be for streaming?",
    "What reverb should I put on it?",
    "How is my mix?",
    "What should I fix?",
)
PEAK_RULES = frozenset({"headroom", "clipping_risk", "bus_headroom"})
TUNED = {
    "vocal.highpass_hz": 105.0,
    "bass.highpass_hz": 45.0,
    "guitar.highpass_hz": 135.0,
    "keys.highpass_hz": 85.0,
    "synth.highpass_hz": 125.0,
    "general.headroom_peak_dbfs": -8.0,
    "general.target_rms_dbfs": -20.0,
    "vocal.target_rms_dbfs": -20.0,
    "bus.headroom_peak_dbfs": -4.0,
}


def _contexts() -> list[tuple[str, dict]]:
    session = Session.load()
    contexts = [(track.track_name, session.daw_context(track)) for track in session.tracks]
    vocal = session.daw_context(session.track("vocal"))["selected_track"]
    contexts.append(("lone vocal", {"selected_track": vocal}))
    contexts.append(
        ("drum bus", {"tracks": [{"name": "Drum Bus", "type": "bus"}, {"name": "Mix", "type": "master"}],
                      "selected_track": {"name": "Drum Bus", "type": "bus", "peak_level": -2.0, "rms_level": -20.0}})
    )  # fmt: skip
    contexts.append(
        ("master", {"tracks": [{"name": "Mix", "type": "master"}, {"name": "Vox", "type": "vocal"}],
                    "selected_track": {"name": "Mix", "type": "master", "peak_level": -0.5, "rms_level": -9.0}})
    )  # fmt: skip
    session = [{"name": name, "type": kind} for name, kind in (("Gtr", "guitar"), ("Kick", "drums"), ("Bass", "bass"))]
    for name, kind, peak, rms in (
        ("Gtr", "guitar", -30.0, -45.0),  # barely there
        ("Kick", "drums", 0.0, -12.0),  # at full scale
        ("Bass", "bass", -6.5, -8.5),  # squashed
    ):
        selected = {"name": name, "type": kind, "peak_level": peak, "rms_level": rms}
        contexts.append((f"{name} {peak:g}/{rms:g}", {"tracks": session, "selected_track": selected}))
    contexts.append(
        ("mixed session", {"tracks": [{"name": "Gtr", "type": "guitar", "peak_level": -30.0, "rms_level": -45.0},
                                      {"name": "Kick", "type": "drums", "peak_level": 0.0, "rms_level": -12.0},
                                      {"name": "Bass", "type": "bass", "peak_level": -6.5, "rms_level": -8.5},
                                      {"name": "Amb", "type": "synth", "peak_level": -120.0}]})
    )  # fmt: skip
    return contexts


CONTEXTS = _contexts()


def _answer(message: str, perspective: str, daw_context: dict, snapshot: RuleSnapshot) -> str:
    request = ChatRequest(message=message, perspective=perspective, daw_context=daw_context)
    reply = answer_chat(
        request,
        session="consistency",
        perspectives=builtin_perspectives(),
        knowledge=KnowledgeBase.builtin(),
        memory=ConversationMemory(limit=10),
        rules=snapshot,
    )
    return reply.response


def chat_problems(text: str, daw_context: dict, snapshot: RuleSnapshot) -> list[str]:
    daw = DawContext.from_mapping(daw_context)
    problems = track_count_problems(text, len(daw.tracks))
    problems += gain_direction_problems(text, [track.name for track in daw.tracks])
    track = daw.selected_track
    if track is None or f"'{track.name}'" not in text:  # an answer about the whole session
        return problems
    findings = snapshot.evaluate(
        reported_metrics(track), track_type=track.track_type, analysis_type=LEVEL_ANALYSIS_TYPE, render_texts=False
    )
    threshold = snapshot.lookup_for(track.track_type)("type.headroom_peak_dbfs")
    hot = any(finding.rule_id in PEAK_RULES for finding in findings)
    problems += headroom_problems(text, peak=track.peak_db, judged_hot=hot, threshold=threshold)
    if track.track_type not in ("master", "bus"):
        problems += crest_problems(text, track.crest_db)
    problems += highpass_problems(text, track.track_type, snapshot)
    return problems


@pytest.mark.parametrize("tuned", [False, True], ids=["default rules", "tuned rules"])
@pytest.mark.parametrize(("label", "daw_context"), CONTEXTS, ids=[label for label, _ in CONTEXTS])
def test_every_chat_answer_agrees_with_itself_the_levels_and_the_rules(label, daw_context, tuned):
    rules = RuleSet.default()
    if tuned:
        rules.update(TUNED)
    snapshot = rules.snapshot()
    problems = []
    for perspective in builtin_perspectives().names():
        for question in QUESTIONS:
            text = _answer(question, perspective, daw_context, snapshot)
            problems += [
                f"[{perspective}] {question!r}: {problem}" for problem in chat_problems(text, daw_context, snapshot)
            ]
    assert not problems, "\n".join(problems)


def test_a_tuned_vocal_high_pass_is_what_chat_says():
    rules = RuleSet.default()
    rules["vocal.highpass_hz"] = 105.0
    snapshot = rules.snapshot()
    for perspective in ("mix_engineering", "teaching"):
        text = _answer("Where should I high-pass the vocal?", perspective, {}, snapshot)
        assert "105 Hz" in text and "80-100 Hz" not in text, text


def test_the_headroom_question_is_answered_with_headroom_whichever_track_is_selected():
    snapshot = RuleSet.default().snapshot()
    for label, daw_context in CONTEXTS:
        request = ChatRequest(message=QUESTIONS[0], perspective=None, daw_context=daw_context)
        reply = answer_chat(
            request,
            session=label,
            perspectives=builtin_perspectives(),
            knowledge=KnowledgeBase.builtin(),
            memory=ConversationMemory(limit=10),
            rules=snapshot,
        )
        assert reply.topics[0] == "headroom-and-clipping", (label, reply.response)


# -- analysis ----------------------------------------------------------------------------------------------------


def analysis_problems(wire: dict, track_type: str, track: str, snapshot: RuleSnapshot) -> list[str]:
    metrics = wire["metrics"]
    suggestions = wire["mixing_suggestions"]
    situation = evaluation.Situation(
        track_type=track_type,
        analysis_type="quality",
        track_name=None,
        target=snapshot.loudness_target(wire["loudness_target"]["name"]),
    )
    derived = evaluation.derive(evaluation.flatten(metrics), snapshot, situation)
    noted = snapshot.values["general.buildup_noted_db"]
    measured = {**metrics, **derived}
    build_ups = [  # where the rules place them (the harshness rule's place: harsh_at_hz)
        measured[hz]
        for hz, excess in (("mud_hz", "mud_excess_db"), ("harsh_at_hz", "harsh_excess_db"))
        if measured.get(excess) is not None and measured[excess] >= noted and measured.get(hz) is not None
    ]
    text = " ".join(suggestions)
    problems = eq_problems(suggestions, build_ups, track)
    problems += figure_problems(suggestions, metrics=metrics, derived=derived, snapshot=snapshot)
    problems += gain_direction_problems(text)
    if track_type not in ("master", "bus"):
        problems += crest_problems(text, metrics.get("crest_factor_db"))
    return problems


@cache
def _demo_stems() -> list[tuple[str, str, np.ndarray, int]]:
    session = Session.load()
    stems = []
    for track in session.tracks:
        y, sr = soundfile.read(track.file, dtype="float32", always_2d=True)
        stems.append((track.track_name, track.track_type, y.T, sr))
    return stems


def test_every_analysis_of_the_demo_session_agrees_with_its_measurements():
    snapshot = RuleSet.default().snapshot()
    problems = []
    for name, track_type, y, sr in _demo_stems():
        wire = analyze(y, sr, kind="quality", track_type=track_type, track_name=name, rules=snapshot).to_wire()
        problems += [f"{name}: {problem}" for problem in analysis_problems(wire, track_type, name, snapshot)]
    assert not problems, "\n".join(problems)


corpus = project_script("make_fault_corpus")


@pytest.mark.parametrize("case", corpus.CASES, ids=[case.name for case in corpus.CASES])
def test_every_analysis_of_the_fault_corpus_agrees_with_its_measurements(case):
    snapshot = RuleSet.default().snapshot()
    wire = corpus.analyze_case(case, rules=snapshot)
    assert not analysis_problems(wire, case.track_type, case.stem.title(), snapshot)


# -- the check itself finds what the issue reported ----------------------------------------------------------------


def test_the_check_finds_each_contradiction_the_issue_reported():
    assert track_count_problems("Selected track: 'Bass' (bass, one of 1 tracks in the session).", 0)
    hot = (
        "It peaks at -4.0 dBFS (4.0 dB of headroom), a little hot for a single track. Headroom and clipping: "
        "Leave 3-6 dB of headroom on individual tracks and about 6 dB on the mix bus (peaks near -6 dBFS)."
    )
    assert headroom_problems(hot, peak=-4.0, judged_hot=True, threshold=-6.0)
    vocal = [
        "Lower the gain of Lead Vocal by about 3.5 dB so its peaks sit around -6 dBFS, then balance with the fader.",
        "Gain-stage the vocal to about -18 dBFS RMS with peaks under -6 dBFS.",
    ]
    assert crest_problems(" ".join(vocal), 18.6)
    assert not crest_problems(" ".join(vocal), 11.0)
    assert eq_problems(["Boost presence 2 dB around 4000 Hz so the words cut through."], [3414.0])
    assert eq_problems(["Cut 3 dB around 300 Hz if the voice sounds boxy."], [479.0])
    assert not eq_problems(["Cut 3 dB around 479 Hz if the voice sounds boxy."], [479.0])
    assert eq_problems(["Boost 2 dB around 250 Hz for warmth.", "Cut 4 dB around 280 Hz on Keys."])
    assert gain_direction_problems("Lower the gain of Bass by about 2.0 dB. Raise the input gain of Bass by 5 dB.")
    review = "'Kick' (drums). Trim it by about 6 dB. 'Gtr' (guitar). Raise its clip gain by about 27 dB."
    assert not gain_direction_problems(review, ["Kick", "Gtr"])  # two tracks, one move each
    assert gain_direction_problems(review.replace("'Gtr' (guitar). ", ""), ["Kick", "Gtr"])
    rules = RuleSet.default()
    rules["vocal.highpass_hz"] = 105.0
    assert highpass_problems("High-pass at 80-100 Hz to remove rumble.", "vocal", rules.snapshot())
    assert not highpass_problems("High-pass at about 105 Hz to remove rumble.", "vocal", rules.snapshot())
