"""Perspective functions written in a notebook: what they receive, what they may return, how they fail."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from codette_lab.chat import ChatContext, ChatReply, DawContext, answer_chat, builtin_perspectives
from codette_lab.engine import Engine
from codette_lab.errors import UserCodeError
from codette_lab.knowledge import KnowledgeBase, Ranking
from codette_lab.memory import ConversationMemory, Turn
from codette_lab.protocol import ChatRequest
from codette_lab.rules import RuleSet

DAW = {
    "tracks": [{"name": "Lead Vox", "type": "vocal"}, {"name": "Kick", "type": "kick"}],
    "selected_track": {"name": "Lead Vox", "type": "vocal", "peak_level": -7.5},
}


@pytest.fixture
def setup():
    perspectives = builtin_perspectives()
    memory = ConversationMemory(limit=50)

    def ask(message: str, perspective: str, *, daw_context: dict | None = None, session: str = "s"):
        return answer_chat(
            ChatRequest(message=message, perspective=perspective, daw_context=daw_context or {}),
            session=session,
            perspectives=perspectives,
            knowledge=KnowledgeBase.builtin(),
            memory=memory,
            rules=RuleSet.default().snapshot(),
        )

    return perspectives, memory, ask


def test_context_carries_question_daw_memory_session_and_knowledge(setup):
    perspectives, _memory, ask = setup
    seen: list[ChatContext] = []

    def spy(context: ChatContext) -> str:
        seen.append(context)
        return "noted"

    perspectives.register("spy", spy)
    ask("How should I compress vocals?", "mix_engineering", session="s")
    ask("and what about reverb?", "spy", daw_context=DAW, session="s")
    context = seen[0]
    assert context.message == "and what about reverb?"
    assert context.perspective == "spy"
    assert context.session == "s"
    assert isinstance(context.daw_context, DawContext)
    assert context.daw_context.track_count == 2
    assert context.daw_context.selected_track.name == "Lead Vox"
    assert context.daw_context.selected_track.instrument == "vocal"
    assert context.daw_context.selected_track.headroom_db == 7.5
    assert [track.name for track in context.daw_context.tracks] == ["Lead Vox", "Kick"]
    assert context.daw_context.raw["selected_track"]["peak_level"] == -7.5
    assert [turn.message for turn in context.memory] == ["How should I compress vocals?"]
    assert isinstance(context.memory[0], Turn)
    assert context.knowledge is KnowledgeBase.builtin()
    assert context.understanding.instruments == ("vocal",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.message = "changed"  # type: ignore[misc]


def test_a_string_reply_gets_the_retrieval_confidence(setup):
    perspectives, memory, ask = setup
    perspectives.register("plain", lambda context: f"You asked: {context.message}")
    on = ask("How do I de-ess a vocal?", "plain")
    off = ask("What's the capital of France?", "plain")
    assert on.response == "You asked: How do I de-ess a vocal?"
    assert on.perspective == "plain"
    assert off.confidence < 0.3 < on.confidence
    assert len(memory) == 2


def test_a_dict_reply_with_and_without_confidence(setup):
    perspectives, _, ask = setup
    perspectives.register("sure", lambda context: {"response": "Trust your ears.", "confidence": 0.4, "topics": ["x"]})
    perspectives.register("unsure", lambda context: {"response": "Hmm."})
    sure = ask("How do I EQ a kick?", "sure")
    assert (sure.response, sure.confidence, sure.topics) == ("Trust your ears.", 0.4, ("x",))
    assert 0.5 < ask("How do I EQ a kick?", "unsure").confidence <= 0.98


def test_a_chat_reply_is_kept_but_named_after_its_registration(setup):
    perspectives, _, ask = setup
    perspectives.register("own", lambda context: ChatReply("Low cut at 100 Hz.", "something_else", 0.7))
    reply = ask("How do I EQ vocals?", "own")
    assert reply == ChatReply("Low cut at 100 Hz.", "own", 0.7)


def test_a_user_perspective_can_build_on_the_builtin_answer_and_search(setup):
    perspectives, _, ask = setup

    def gentle(context: ChatContext) -> dict:
        base = context.builtin_answer()
        ranking = context.search("true peak ceiling")
        assert isinstance(ranking, Ranking)
        return {"response": f"{base.response} See also: {ranking.best.entry.title}.", "confidence": base.confidence}

    perspectives.register("gentle", gentle)
    reply = ask("How do I de-ess a vocal?", "gentle")
    assert reply.response.startswith("De-essing vocals:")
    assert reply.response.endswith("See also: Limiters and peak control.")


@pytest.mark.parametrize(
    ("returned", "problem"),
    [
        (42, "returned int, expected a str, a ChatReply or a dict"),
        (None, "returned NoneType"),
        (["a list"], "returned list"),
        ({"confidence": 0.5}, "a dict without 'response'"),
        ({"response": 3}, "a response of type int"),
        ({"response": "   "}, "an empty response"),
        ("", "an empty response"),
        ({"response": "ok", "confidence": 1.5}, "a confidence of 1.5, expected a number between 0 and 1"),
        ({"response": "ok", "confidence": math.nan}, "a confidence of nan"),
        ({"response": "ok", "confidence": "high"}, "a confidence of 'high'"),
        ({"response": "ok", "confidence": True}, "a confidence of True"),
        ({"response": "ok", "topics": "eq"}, "topics of type str"),
        (ChatReply("ok", "x", -0.1), "a confidence of -0.1"),
    ],
)
def test_malformed_returns_are_user_code_errors_naming_the_function(setup, returned, problem):
    perspectives, memory, ask = setup

    def broken_view(context):
        return returned

    perspectives.register("broken", broken_view)
    with pytest.raises(UserCodeError) as raised:
        ask("How do I EQ a kick?", "broken")
    text = str(raised.value)
    assert text.startswith("perspective 'broken' (function test_malformed_returns_are_user_code_errors_naming")
    assert problem in text
    assert raised.value.function.startswith("perspective 'broken'")
    assert len(memory) == 0  # a failed answer is not remembered


def test_a_raising_perspective_becomes_a_user_code_error_with_its_traceback(setup):
    perspectives, memory, ask = setup

    def exploding(context):
        raise ValueError("no idea about " + context.message)

    perspectives.register("exploding", exploding)
    with pytest.raises(UserCodeError) as raised:
        ask("snare?", "exploding")
    function = f"{test_a_raising_perspective_becomes_a_user_code_error_with_its_traceback.__name__}.<locals>.exploding"
    assert str(raised.value) == f"perspective 'exploding' (function {function}) raised ValueError: no idea about snare?"
    assert "ValueError: no idea about snare?" in raised.value.traceback
    assert len(memory) == 0


def test_engine_answers_a_live_registered_perspective_and_reports_its_errors():
    engine = Engine()

    def teacher(context):
        return {"response": f"Class question from {context.session}: {context.message}", "confidence": 0.5}

    engine.perspectives.register("teacher", teacher, description="For the class")
    request = json.dumps({"type": "chat", "message": "How loud for Spotify?", "perspective": "teacher"})
    reply = engine.respond(request, session="student-3")
    assert reply["type"] == "chat_response"
    assert reply["response"] == "Class question from student-3: How loud for Spotify?"
    assert reply["perspective"] == "teacher" and reply["confidence"] == 0.5

    engine.perspectives.register("teacher", lambda context: 1 / 0)
    failed = engine.respond(request)
    assert failed["type"] == "error"
    assert "perspective 'teacher'" in failed["message"] and "ZeroDivisionError" in failed["message"]
