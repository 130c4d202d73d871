"""Which requests the engine sends off the event loop and which it holds to the time limit."""

from __future__ import annotations

from codette_lab.engine import Engine
from codette_lab.protocol import parse_request


def test_builtin_answers_run_unlimited_and_notebook_functions_are_time_limited():
    engine = Engine()
    engine.perspectives.register("mine", lambda request: "ok")
    engine.analysis_types.register("mine", lambda request: {"insights": "ok"})

    def request(text: str):
        return parse_request(text)

    builtin_chat = request('{"type": "chat", "message": "How do I EQ vocals?"}')
    user_chat = request('{"type": "chat", "message": "hi", "perspective": "mine"}')
    builtin_analysis = request('{"type": "analyze", "track_data": {}, "analysis_type": "loudness"}')
    user_analysis = request('{"type": "analyze", "track_data": {}, "analysis_type": "mine"}')
    unknown = request('{"type": "chat", "message": "hi", "perspective": "nobody"}')

    assert [engine.needs_worker(r) for r in (builtin_chat, user_chat, builtin_analysis, user_analysis)] == [
        False,
        True,
        True,
        True,
    ]
    assert [engine.runs_user_code(r) for r in (builtin_chat, user_chat, builtin_analysis, user_analysis)] == [
        False,
        True,
        False,
        True,
    ]
    assert not engine.runs_user_code(unknown)
    assert engine.describe(user_chat).startswith("perspective 'mine' (function ")
    assert engine.describe(unknown) == "the ChatRequest handler"
