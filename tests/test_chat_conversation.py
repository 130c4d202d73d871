"""Chat behaviour beyond single questions: perspectives, follow-ups, the DAW's context, off-topic questions,
determinism, and the same answers through the Engine and its wire entry point."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codette_lab.chat import BUILTIN_PERSPECTIVES, ChatReply, answer_chat, builtin_perspectives
from codette_lab.engine import Engine
from codette_lab.errors import RequestError
from codette_lab.knowledge import KnowledgeBase
from codette_lab.memory import ConversationMemory
from codette_lab.protocol import ChatRequest
from codette_lab.rules import RuleSet

ROOT = Path(__file__).resolve().parents[1]
RATIO = re.compile(r"\d+(\.\d+)?:1")
MILLISECONDS = re.compile(r"\d+(-\d+)? ?ms")


class Conversation:
    """One session against fresh memory, asked through chat.answer_chat."""

    def __init__(self, session: str = "daw-1", memory: ConversationMemory | None = None) -> None:
        self.session = session
        self.memory = memory if memory is not None else ConversationMemory(limit=100)
        self.perspectives = builtin_perspectives()
        self.knowledge = KnowledgeBase.builtin()

    def ask(self, message: str, *, perspective: str | None = None, daw_context: dict | None = None) -> ChatReply:
        request = ChatRequest(message=message, perspective=perspective, daw_context=daw_context or {})
        return answer_chat(
            request,
            session=self.session,
            perspectives=self.perspectives,
            knowledge=self.knowledge,
            memory=self.memory,
            rules=RuleSet.default().snapshot(),
        )


# -- perspectives ---------------------------------------------------------------------------


def test_builtin_perspectives_are_registered_with_descriptions_and_mix_engineering_default():
    registry = builtin_perspectives()
    assert registry.default == "mix_engineering"
    assert registry.names() == sorted(BUILTIN_PERSPECTIVES)
    for entry in registry:
        assert entry.builtin
        assert len(entry.description) > 20


@pytest.mark.parametrize(
    "question", ["How do I de-ess a vocal?", "How should I compress bass?", "What loudness for Spotify?"]
)
def test_each_perspective_answers_the_same_question_differently(question):
    replies = {name: Conversation(session=name).ask(question, perspective=name) for name in BUILTIN_PERSPECTIVES}
    responses = [reply.response for reply in replies.values()]
    assert len(set(responses)) == len(BUILTIN_PERSPECTIVES)
    for name, reply in replies.items():
        assert reply.perspective == name
    # the same knowledge, told from different angles: every answer draws on the same entry
    assert len({reply.topics[0] for reply in replies.values()}) == 1


def test_perspective_angles_show_in_the_wording():
    conversation = Conversation()
    theory = conversation.ask("How do I de-ess a vocal?", perspective="audio_theory").response
    workflow = conversation.ask("How do I de-ess a vocal?", perspective="workflow_optimization").response
    troubleshooting = conversation.ask("How do I de-ess a vocal?", perspective="technical_troubleshooting").response
    assert "sibilant" in theory.lower() and "compressor keyed" in theory
    assert "once per singer" in workflow
    assert "lisping" in troubleshooting.lower()


def test_missing_perspective_uses_mix_engineering():
    reply = Conversation().ask("How do I EQ a kick drum?")
    assert reply.perspective == "mix_engineering"


def test_unknown_perspective_is_a_request_error_listing_the_available_ones():
    with pytest.raises(RequestError) as raised:
        Conversation().ask("How do I EQ a kick?", perspective="astrology")
    text = str(raised.value)
    assert "astrology" in text
    for name in BUILTIN_PERSPECTIVES:
        assert name in text


# -- follow-ups -----------------------------------------------------------------------------


def test_follow_up_swaps_the_instrument_and_keeps_the_topic():
    conversation = Conversation()
    first = conversation.ask("How should I compress vocals?")
    assert first.topics[0] == "vocal-compression"
    second = conversation.ask("and for the bass?")
    assert second.topics[0] == "bass-compression"
    assert "bass" in second.response.lower() and RATIO.search(second.response)
    assert "Compressing vocals" in second.response  # says what it follows on from


def test_follow_up_on_a_detail_continues_the_topic_with_new_information():
    conversation = Conversation()
    conversation.ask("How should I compress vocals?")
    reply = conversation.ask("what about the attack?")
    assert "attack" in reply.response.lower() and MILLISECONDS.search(reply.response)
    assert "compress" in reply.response.lower()
    assert reply.topics[0] != "vocal-compression"  # does not just repeat the previous answer


def test_follow_up_chain_keeps_carrying_the_topic():
    conversation = Conversation()
    conversation.ask("How do I EQ a snare?")
    kick = conversation.ask("what about the kick?")
    assert kick.topics[0] == "kick-eq"
    bass = conversation.ask("and the bass?")
    assert bass.topics[0] == "bass-eq"


def test_follow_ups_do_not_leak_between_sessions():
    memory = ConversationMemory(limit=100)
    Conversation("a", memory).ask("How should I compress vocals?")
    fresh = Conversation("b", memory).ask("and for the bass?")
    carried = Conversation("a", memory).ask("and for the bass?")
    assert carried.topics[0] == "bass-compression"
    assert fresh.topics[0] != "bass-compression"
    assert "Following on" not in fresh.response


def test_an_off_topic_turn_is_not_carried_into_a_follow_up():
    conversation = Conversation()
    conversation.ask("How do I EQ a snare?")
    conversation.ask("What's the capital of France?")
    reply = conversation.ask("what about the kick?")
    assert reply.topics[0] == "kick-eq"


def test_a_new_full_question_is_not_treated_as_a_follow_up():
    conversation = Conversation()
    conversation.ask("How should I compress vocals?")
    reply = conversation.ask("How loud should a podcast be?")
    assert reply.topics[0] == "loudness-targets"
    assert "Following on" not in reply.response


VOCAL_SELECTED = {"selected_track": {"name": "Lead Vox", "type": "vocal", "peak_level": -8.0, "rms_level": -22.0}}


def test_asking_more_of_an_answer_stays_on_its_entry_and_tells_another_of_its_texts():
    """ "How do I set it up?", "why?", "tell me more": no topic words of their own. They got "I can't answer that
    one well", or (steered by the selected vocal) vocal compression after a question about side-chaining; they now
    stay on the entry just given, each telling another of its perspectives' texts, without repeating the track."""
    conversation = Conversation()
    first = conversation.ask("What is sidechain compression?", daw_context=VOCAL_SELECTED)
    assert first.topics[0] == "sidechain-compression"
    texts = [first.response]
    for question in ("How do I set it up?", "why?", "tell me more", "how much?"):
        reply = conversation.ask(question, daw_context=VOCAL_SELECTED)
        assert reply.topics == ("sidechain-compression",), (question, reply.response)
        assert reply.response.startswith('More on "Side-chain compression and ducking": '), reply.response
        assert "Lead Vox" not in reply.response and reply.perspective == "mix_engineering"
        texts.append(reply.response.split(": ", 1)[1])
    assert len(set(texts)) == len(texts)  # each told something not told before


def test_asking_why_after_a_weakly_worded_answer_still_continues_it_and_an_ok_does_not_reset_it():
    """Found on the join page: "why?" after "How loud should my mix be?" (a question matched at 0.56) was
    "I can't answer that one well", its few carried words too weak a match alone; and after an "ok" in
    between, "why?" told the first text again."""
    conversation = Conversation()
    first = conversation.ask("How loud should my mix be?")
    why = conversation.ask("why?")
    assert why.topics == first.topics[:1] and why.confidence == first.confidence
    assert why.response.startswith('More on "Loudness targets') and why.response not in first.response
    conversation.ask("ok")
    again = conversation.ask("why?")
    told = [reply.response.split('": ', 1)[1] for reply in (why, again)]  # the text after 'More on "title": '
    assert again.topics == first.topics[:1] and told[0] != told[1] and told[1][:60] not in first.response


def test_it_after_a_question_about_a_concept_is_the_selected_track_not_the_concept():
    """ "How should I compress it?" after "What is compression?": 'it' cannot be compression; it is the track."""
    conversation = Conversation()
    conversation.ask("What is compression?", daw_context=VOCAL_SELECTED)
    reply = conversation.ask("How should I compress it?", daw_context=VOCAL_SELECTED)
    assert reply.topics[0] == "vocal-compression" and "Selected track: 'Lead Vox'" in reply.response


def test_it_in_a_later_question_is_what_was_being_talked_about():
    """ "It" in a first question is the selected track; once a track or topic is being talked about, "it" is
    that one ("should I compress it?" after the kick's EQ is the kick, not the selected vocal)."""
    conversation = Conversation()
    assert conversation.ask("How should I compress it?", daw_context=VOCAL_SELECTED).topics[0] == "vocal-compression"
    conversation = Conversation()
    conversation.ask("How do I EQ a kick?", daw_context=VOCAL_SELECTED)
    assert conversation.ask("Should I compress it?", daw_context=VOCAL_SELECTED).topics[0] == "kick-compression"
    # a question naming its own instrument is about that one, whatever 'it' and 'that' say
    for question in ("My bass is boomy, how do I fix it?", "What EQ for a bass that sounds boomy?"):
        reply = conversation.ask(question, daw_context=VOCAL_SELECTED)
        assert reply.topics[0].startswith("bass") and "Following on" not in reply.response, (question, reply.response)
    conversation = Conversation()
    conversation.ask("Is the bass too loud?", daw_context=SESSION)
    down = conversation.ask("How much should I turn it down?", daw_context={**SESSION, **VOCAL_SELECTED})
    assert "'Bass DI' (bass). It peaks at -2.1 dBFS" in down.response and "Lead Vox" not in down.response


@pytest.mark.parametrize("message", ["ok", "OK", "cool", "got it", "great", "Thanks!"])
def test_an_acknowledgement_is_not_a_question_to_answer_again(message):
    conversation = Conversation()
    conversation.ask("How do I EQ a kick?")
    reply = conversation.ask(message)
    assert reply.response.startswith("Glad to help.") and not reply.topics


# -- DAW context ------------------------------------------------------------------------------

SESSION = {
    "tracks": [
        {"id": "t1", "name": "Lead Vox", "type": "audio", "peak_level": -8.0, "rms_level": -22.0},
        {"id": "t2", "name": "Bass DI", "type": "bass", "peak_level": -2.1, "rms_level": -16.0, "volume_db": -3.0},
        {"id": "t3", "name": "Kick In", "type": "drums"},
        {"id": "t4", "name": "BV Stack", "type": "vocal"},
        "not a track",
    ],
    "selected_track": {"id": "t2", "name": "Bass DI", "type": "bass", "peak_level": -2.1, "rms_level": -16.0},
}


def test_this_track_means_the_selected_one_with_its_name_type_levels_and_track_count():
    reply = Conversation().ask("How do I fix this track?", daw_context=SESSION)
    assert "'Bass DI'" in reply.response
    assert "bass" in reply.topics[0]
    assert "one of 4 tracks" in reply.response  # the non-object entry is not a track
    assert "-2.1 dBFS" in reply.response and "2.1 dB of headroom" in reply.response
    assert "crest factor of 13.9 dB" in reply.response


def test_selected_track_steers_a_question_that_names_no_instrument():
    reply = Conversation().ask("How should I set up a compressor?", daw_context=SESSION)
    assert reply.topics[0] == "bass-compression"
    assert "'Bass DI'" in reply.response


def test_question_naming_an_instrument_wins_and_lists_the_sessions_matching_tracks():
    reply = Conversation().ask("How should I compress vocals?", daw_context=SESSION)
    assert reply.topics[0] == "vocal-compression"
    assert "'Lead Vox'" in reply.response and "'BV Stack'" in reply.response  # type from the name for Lead Vox
    assert "'Bass DI'" not in reply.response


@pytest.mark.parametrize(
    ("peak", "expected"),
    [(0.4, "it is clipping"), (-0.2, "risks clipping"), (-4.0, "a little hot"), (-12.0, "healthy level"),
     (-38.0, "sits low")],
)  # fmt: skip
def test_track_levels_shape_the_advice(peak, expected):
    context = {"selected_track": {"name": "Gtr L", "type": "guitar", "peak": peak}, "track_count": 12}
    reply = Conversation().ask("What should I do with this track?", daw_context=context)
    assert expected in reply.response
    assert f"{peak:.1f} dBFS" in reply.response or f"{peak:+.1f} dBFS" in reply.response
    assert "one of 12 tracks" in reply.response


def test_track_states_and_camel_case_fields_are_read():
    context = {"selected_track": {"trackName": "Snare Top", "trackType": "snare", "peakLevel": -9.5, "muted": True}}
    reply = Conversation().ask("how do I EQ this?", daw_context=context)
    assert "'Snare Top'" in reply.response and "muted" in reply.response
    assert reply.topics[0] == "snare-eq"


# -- off-topic, confidence, determinism -----------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    ["What's the capital of France?", "Who won the football game yesterday?", "Tell me a joke", "Hello!"],
)
def test_off_topic_questions_get_a_low_confidence_polite_redirect(question):
    conversation = Conversation()
    off = conversation.ask(question)
    on = conversation.ask("How do I EQ a kick drum?")
    assert off.confidence < 0.3 < on.confidence
    assert on.confidence - off.confidence > 0.5
    assert "mixing assistant" in off.response and "compression" in off.response
    assert off.topics == ()


def test_confidence_tracks_match_strength_and_stays_in_range():
    conversation = Conversation()
    specific = conversation.ask("How do I de-ess a vocal?").confidence
    vague = conversation.ask("What is the meaning of life?").confidence
    assert 0.05 <= vague < specific <= 0.98
    assert len({specific, vague}) == 2


def test_same_question_and_memory_give_the_same_answer():
    def dialogue() -> list[tuple[str, float, tuple[str, ...]]]:
        conversation = Conversation()
        replies = [
            conversation.ask("How should I compress vocals?", daw_context=SESSION),
            conversation.ask("and for the bass?"),
            conversation.ask("what about the release?", perspective="audio_theory"),
        ]
        return [(reply.response, reply.confidence, reply.topics) for reply in replies]

    assert dialogue() == dialogue()


def test_answers_do_not_depend_on_the_process_hash_seed():
    script = (
        "import json; from codette_lab.engine import Engine; e = Engine(); "
        "replies = [e.chat(q, daw_context={'selected_track': {'name': 'Vox', 'type': 'vocal', 'peak': -3}}) "
        "for q in ('How should I compress vocals?', 'and for the bass?', 'what about the attack?', 'hm?')]; "
        "print(json.dumps([[r.response, r.confidence, list(r.topics)] for r in replies]))"
    )
    outputs = []
    for seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=ROOT, check=True
        )
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]
    assert outputs[0][1][2][0] == "bass-compression"


def test_reply_message_keeps_the_documents_fields_and_adds_topics():
    message = Conversation().ask("How do I EQ a kick drum?").to_message()
    assert list(message)[:4] == ["type", "response", "perspective", "confidence"]
    assert message["type"] == "chat_response"
    assert message["topics"] == ["kick-eq", "low-end-kick-bass"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["timestamp"])


# -- through the Engine ---------------------------------------------------------------------------


def test_engine_chat_and_respond_give_the_same_answers_and_remember_per_session():
    engine = Engine()
    direct = engine.chat("How should I compress vocals?", session="python")
    wire = engine.respond(json.dumps({"type": "chat", "message": "How should I compress vocals?"}), session="daw")
    assert wire["type"] == "chat_response"
    assert wire["response"] == direct.response and wire["confidence"] == direct.confidence
    follow = engine.respond(json.dumps({"type": "chat", "message": "and for the bass?"}), session="daw")
    assert follow["topics"][0] == "bass-compression"
    status = engine.respond(json.dumps({"type": "status"}))
    assert status["memory_size"] == 3


def test_engine_respond_unknown_perspective_is_an_error_reply_listing_perspectives():
    reply = Engine().respond(json.dumps({"type": "chat", "message": "EQ a kick?", "perspective": "nope"}))
    assert reply["type"] == "error"
    assert reply["message"].startswith("Unknown perspective: 'nope'")
    assert "workflow_optimization" in reply["message"]


def test_engine_respond_uses_daw_context_from_the_wire():
    text = json.dumps({"type": "chat", "message": "How do I fix this track?", "daw_context": SESSION})
    reply = Engine().respond(text)
    assert "'Bass DI'" in reply["response"]


def test_engine_memory_stays_bounded():
    engine = Engine(memory_limit=5)
    for number in range(12):
        engine.chat(f"How do I EQ a kick drum? take {number}", session=f"s{number % 3}")
    assert engine.respond(json.dumps({"type": "status"}))["memory_size"] == 5


def test_a_greeting_gets_an_introduction_but_a_greeting_with_a_question_gets_an_answer():
    conversation = Conversation()
    hello = conversation.ask("Hello!")
    assert hello.response.startswith("Hi! I'm Codette, a mixing assistant.") and hello.confidence < 0.3
    question = conversation.ask("Hi, how do I de-ess a vocal?")
    assert question.topics[0] == "vocal-de-essing"


@pytest.mark.parametrize(("field", "value", "shown"), [("volume", 0.5, "-6.0 dB"), ("volume_db", 2.0, "+2.0 dB")])
def test_fader_levels_are_read_as_linear_gain_or_decibels(field, value, shown):
    context = {"selected_track": {"name": "Keys", "type": "keys", field: value}}
    reply = Conversation().ask("How do I fix this track?", daw_context=context)
    assert f"The fader sits at {shown}." in reply.response


def test_a_word_or_two_the_previous_answer_holds_follows_it_up_whatever_track_is_selected():
    """'what release?' after side-chaining, with a vocal selected, got the vocal's compression; a question of a
    word or two, all in the entry just told, asks more of that topic. A full question, one naming an instrument
    and one asking what something is stand on their own."""
    conversation = Conversation()
    conversation.ask("What is sidechain compression?", daw_context=VOCAL_SELECTED)
    reply = conversation.ask("what release?", daw_context=VOCAL_SELECTED)
    assert reply.response.startswith('Following on from "Side-chain compression and ducking".'), reply.response
    assert reply.topics[0] != "vocal-compression" and "release" in reply.response.lower()
    for question in ("What is a limiter?", "what about the kick?", "How loud should a podcast be?"):
        fresh = Conversation()
        fresh.ask("What is sidechain compression?", daw_context=VOCAL_SELECTED)
        reply = fresh.ask(question, daw_context=VOCAL_SELECTED)
        assert reply.topics[0] != "sidechain-compression" or question.endswith("kick?"), (question, reply.topics)
