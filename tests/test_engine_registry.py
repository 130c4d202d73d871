"""The Registry: a notebook function shadows a built-in of its name; removing it brings the built-in back."""

from __future__ import annotations

import sys
import threading

import pytest

from codette_lab.analysis_types import builtin_analysis_types
from codette_lab.engine import Engine
from codette_lab.errors import RequestError
from codette_lab.registry import Registry


def mine(request):
    return {"insights": "Mine."}


def test_unregistering_a_notebook_function_restores_the_builtin_it_shadowed():
    registry = builtin_analysis_types()
    builtin = registry.resolve("loudness")
    registry.register("Loudness", mine, aliases=["mine"])

    assert registry.resolve("loudness").function is mine and not registry.resolve("loudness").builtin
    assert "lufs" not in registry  # the replacement has its own aliases, not the built-in's
    registry.unregister("mine")  # by its alias

    assert registry.resolve("loudness") is builtin
    assert registry.resolve("lufs") is builtin and "mine" not in registry
    assert registry.names() == builtin_analysis_types().names()


def test_unregistering_a_new_name_removes_it_and_reset_returns_to_the_builtins():
    registry = builtin_analysis_types()
    registry.register("rhythm", mine, aliases=["groove"])
    registry.register("spectrum", mine)
    registry.register("width", mine)  # takes over the built-in alias 'width' of stereo

    assert registry.resolve("width").name == "width"
    registry.unregister("groove")
    with pytest.raises(RequestError, match="Unknown analysis type: 'rhythm'"):
        registry.resolve("rhythm")

    registry.reset()
    fresh = builtin_analysis_types()
    assert registry.names() == fresh.names()
    assert all(entry.builtin for entry in registry)
    assert registry.resolve("spectrum").description == fresh.resolve("spectrum").description
    assert registry.resolve("width").name == "stereo"  # the alias answers for its built-in again


def test_a_restored_builtin_answers_the_next_request_again():
    engine = Engine()
    frame = '{"type": "chat", "message": "How do I EQ vocals?", "perspective": "mix_engineering"}'
    original = engine.respond(frame)["response"]
    engine.perspectives.register("mix_engineering", lambda context: "Redefined.")
    assert engine.respond(frame)["response"] == "Redefined."

    engine.perspectives.unregister("mix_engineering")

    assert engine.respond(frame)["response"] == original
    assert engine.perspectives.resolve("mix_engineering").builtin


def test_a_reader_never_sees_an_alias_of_one_state_with_the_entries_of_another():
    """An alias moved to a new entry on every write: read between two stores, it would name a missing entry."""
    registry = Registry("perspective")
    registry.register("first", mine, aliases=["latest"])
    failures: list[str] = []
    writing = threading.Event()

    def read() -> None:
        while writing.is_set():
            try:
                registry.resolve("latest")
            except RequestError as exc:
                failures.append(str(exc))
                return

    writing.set()
    reader = threading.Thread(target=read)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can: any window between two reads shows
    reader.start()
    try:
        for number in range(5_000):
            registry.register(f"entry{number}", mine, aliases=["latest"])
            registry.unregister(f"entry{number - 1}" if number else "first")
    finally:
        writing.clear()
        reader.join(30)
        sys.setswitchinterval(interval)
    assert failures == []
    assert registry.resolve("latest").name == "entry4999" and len(registry) == 1
