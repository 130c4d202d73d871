"""ConversationMemory: bounded, per-session order, and safe while one thread writes and others read."""

from __future__ import annotations

import threading

import pytest

from codette_lab.memory import ConversationMemory, Turn


def turn(session: str, number: int) -> Turn:
    return Turn(session=session, message=f"q{number}", response=f"a{number}", perspective="p", confidence=0.5)


def test_recent_returns_the_sessions_last_turns_oldest_first():
    memory = ConversationMemory(limit=100)
    for number in range(10):
        memory.record(turn("a" if number % 2 else "b", number))
    assert [t.message for t in memory.recent("a", 3)] == ["q5", "q7", "q9"]
    assert [t.message for t in memory.recent("b", 100)] == ["q0", "q2", "q4", "q6", "q8"]
    assert memory.recent("nobody", 5) == ()
    assert memory.recent("a", 0) == ()
    assert memory.sessions() == ["b", "a"]


def test_memory_is_bounded_and_drops_the_oldest_turns():
    memory = ConversationMemory(limit=25)
    for number in range(100):
        memory.record(turn("s", number))
    assert len(memory) == 25
    assert [t.message for t in memory.snapshot()][:2] == ["q75", "q76"]
    assert memory.recent("s", 1)[0].message == "q99"


def test_clear_forgets_everything_or_one_session():
    memory = ConversationMemory(limit=10)
    for number in range(6):
        memory.record(turn("a" if number < 3 else "b", number))
    memory.clear("a")
    assert len(memory) == 3 and memory.sessions() == ["b"]
    memory.record(turn("c", 9))
    assert len(memory) == 4
    memory.clear()
    assert len(memory) == 0 and list(memory) == []


@pytest.mark.parametrize("limit", [0, -3, 2.5, True, "10"])
def test_limit_must_be_a_positive_whole_number(limit):
    with pytest.raises(ValueError, match="limit must be a whole number >= 1"):
        ConversationMemory(limit=limit)


def test_concurrent_writers_readers_and_clears_never_break_it():
    memory = ConversationMemory(limit=200)
    errors: list[BaseException] = []
    stop = threading.Event()

    def guarded(work):
        def run():
            try:
                work()
            except BaseException as exc:  # collected and asserted on below
                errors.append(exc)

        return run

    def writer(session: str):
        def work():
            for number in range(3000):
                memory.record(turn(session, number))

        return work

    def reader():
        while not stop.is_set():
            for session in memory.sessions():
                recent = memory.recent(session, 20)
                numbers = [int(t.message[1:]) for t in recent]
                assert numbers == sorted(numbers)
            assert len(memory) <= 200
            assert len(memory.snapshot()) <= 200

    def clearer():
        while not stop.is_set():
            memory.clear("w0")

    writers = [threading.Thread(target=guarded(writer(f"w{index}"))) for index in range(4)]
    others = [threading.Thread(target=guarded(reader)) for _ in range(2)] + [threading.Thread(target=guarded(clearer))]
    for thread in others + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in others:
        thread.join()
    assert errors == []
    assert len(memory) <= 200
    for number in range(300):
        memory.record(turn("after", number))
    assert len(memory) == 200 and memory.sessions() == ["after"]
    for session in memory.sessions():
        numbers = [int(t.message[1:]) for t in memory.snapshot() if t.session == session]
        assert numbers == sorted(numbers)
