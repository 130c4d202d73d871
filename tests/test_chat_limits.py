"""Chat cannot stall the server or fill its memory: linear understanding, a message limit, memory in bytes."""

from __future__ import annotations

import json
import random
import string
import threading
import tracemalloc

import pytest

from codette_lab.engine import Engine
from codette_lab.knowledge import KnowledgeBase
from codette_lab.memory import ConversationMemory, Turn
from codette_lab.protocol.requests import MAX_CHAT_MESSAGE_CHARS
from codette_lab.server import BackgroundServer


def distinct_words(count: int, *, seed: int = 1, ending: str = "") -> str:
    """``count`` distinct made-up words (none in the knowledge base), separated by spaces."""
    rng = random.Random(seed)
    words = dict.fromkeys("".join(rng.choices(string.ascii_lowercase, k=7)) + ending for _ in range(count * 2))
    return " ".join(list(words)[:count])


@pytest.mark.parametrize("ending", ["", "s", "ing"])
def test_understanding_keeps_every_distinct_word(ending):
    # How its time grows with the number of words (linear, not quadratic) is a row of
    # benchmarks/bench_responsiveness.py: a ratio of timings is no test on a shared machine.
    base = KnowledgeBase.builtin()
    small, large = distinct_words(2000, ending=ending), distinct_words(16000, ending=ending)
    assert len(base.parse(small).terms) == 2000
    assert len(base.parse(large).terms) == 16000


def test_a_500_kb_chat_is_refused_at_once_naming_the_limit():
    engine = Engine()
    frame = json.dumps({"type": "chat", "message": distinct_words(64000)})
    assert len(frame) > 500_000
    reply = engine.respond(frame)  # how long refusing takes: benchmarks/bench_responsiveness.py
    assert reply["type"] == "error"
    assert "'message'" in reply["message"] and f"at most {MAX_CHAT_MESSAGE_CHARS} characters" in reply["message"]
    assert len(engine.memory) == 0


def test_the_protocol_document_states_the_limit(repo_root):
    assert f"at most {MAX_CHAT_MESSAGE_CHARS} characters" in (repo_root / "docs" / "protocol.md").read_text()


def test_a_message_at_the_limit_is_answered_and_one_character_more_is_refused():
    engine = Engine()
    question = "How should I compress vocals? "
    at_limit = (question + distinct_words(2000))[:MAX_CHAT_MESSAGE_CHARS]
    reply = engine.respond(json.dumps({"type": "chat", "message": at_limit}))
    assert reply["type"] == "chat_response"
    over = engine.respond(json.dumps({"type": "chat", "message": at_limit + "x"}))
    assert over["type"] == "error"
    assert f"got {MAX_CHAT_MESSAGE_CHARS + 1}" in over["message"]


def test_two_hundred_one_megabyte_chats_do_not_hold_two_hundred_megabytes():
    memory = ConversationMemory(limit=1000, byte_limit=4 * 1024 * 1024)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(200):
            text = f"{number:04d}" + "x" * (1024 * 1024)
            memory.record(Turn(session="s", message=text, response=text, perspective="p", confidence=0.5))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 8 * 1024 * 1024, f"memory held {held / 1e6:.0f} MB"
    assert memory.size_bytes <= memory.byte_limit
    newest = memory.recent("s", 1)[0]
    assert newest.message.startswith("0199") and len(newest.message) < MAX_CHAT_MESSAGE_CHARS + 100
    assert newest.message.endswith(f"(cut from {1024 * 1024 + 4} characters)")


def test_the_byte_limit_drops_the_oldest_turns_first():
    memory = ConversationMemory(limit=1000, byte_limit=100_000)
    for number in range(50):
        memory.record(
            Turn(session="s", message=f"{number:02d}" + "y" * 9000, response="ok", perspective="p", confidence=1)
        )
    kept = [int(turn.message[:2]) for turn in memory.snapshot()]
    assert kept == list(range(50 - len(kept), 50)) and 5 <= len(kept) < 12
    assert memory.size_bytes <= 100_000
    memory.clear()
    assert memory.size_bytes == 0


@pytest.mark.parametrize("byte_limit", [0, -1, 1.5, True])
def test_the_byte_limit_must_be_a_positive_whole_number(byte_limit):
    with pytest.raises(ValueError, match="byte_limit must be a whole number >= 1"):
        ConversationMemory(byte_limit=byte_limit)


def test_a_long_notebook_chat_is_remembered_cut_to_the_message_limit():
    engine = Engine()
    reply = engine.chat("How should I compress vocals? " + distinct_words(20000))
    assert "compress" in reply.response.lower()
    remembered = engine.memory.recent("notebook", 1)[0].message
    assert remembered.startswith("How should I compress vocals?")
    assert len(remembered) < MAX_CHAT_MESSAGE_CHARS + 100


def test_a_500_kb_chat_does_not_delay_another_connections_pings(ws_client):
    engine = Engine()
    huge = {"type": "chat", "message": distinct_words(64000)}
    at_limit = {"type": "chat", "message": ("Where do I cut mud? " + distinct_words(2000))[:MAX_CHAT_MESSAGE_CHARS]}
    with BackgroundServer(engine, port=0) as server:
        chatting, pinging = ws_client(server.url), ws_client(server.url)
        pinging.ask({"type": "ping"})
        replies: list[dict] = []

        def chat() -> None:
            replies.extend(chatting.ask(message) for message in (huge, at_limit) * 4)

        worker = threading.Thread(target=chat)
        worker.start()
        pongs_while_chatting = []  # how many chat replies had come back when each pong did
        while worker.is_alive() or len(pongs_while_chatting) < 20:
            assert pinging.ask({"type": "ping"})["type"] == "pong"
            pongs_while_chatting.append(len(replies))
        worker.join(timeout=30)

    assert [reply["type"] for reply in replies] == ["error", "chat_response"] * 4
    assert all(f"at most {MAX_CHAT_MESSAGE_CHARS} characters" in reply["message"] for reply in replies[::2])
    # Order, not speed (the round trips are in benchmarks/bench_responsiveness.py): pongs came back between
    # the chats' replies, not all after them, as when pings waited 20 s behind such chats.
    assert any(count < len(replies) for count in pongs_while_chatting), pongs_while_chatting
