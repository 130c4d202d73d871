"""How the engine binds a request to its answering function: off the loop or not, time-limited or not."""

from __future__ import annotations

import json

from codette_lab.engine import Engine
from codette_lab.protocol import parse_request


def test_builtin_answers_run_unlimited_and_notebook_functions_are_time_limited():
    engine = Engine()
    engine.perspectives.register("mine", lambda request: "ok")
    engine.analysis_types.register("mine", lambda request: {"insights": "ok"})
    texts = [
        '{"type": "chat", "message": "How do I EQ vocals?"}',
        '{"type": "chat", "message": "hi", "perspective": "mine"}',
        '{"type": "analyze", "track_data": {}, "analysis_type": "loudness"}',
        '{"type": "analyze", "track_data": {}, "analysis_type": "mine"}',
        '{"type": "ping"}',
        '{"type": "analyze", "track_data": {}, "audio_data": {"file_path": "mix.wav"}, "analysis_type": "loudness"}',
    ]
    jobs = [engine.prepare(parse_request(text)) for text in texts]

    # built-in analyses of reported levels are answered inline; audio or notebook code goes to a worker
    assert [job.needs_worker for job in jobs] == [False, True, False, True, False, True]
    assert [job.runs_user_code for job in jobs] == [False, True, False, True, False, False]
    assert jobs[1].label.startswith("perspective 'mine' (function ")
    assert jobs[4].label == "the PingRequest handler"


def test_a_job_answers_with_the_function_it_was_bound_to_even_if_redefined_since():
    engine = Engine()
    job = engine.prepare(parse_request('{"type": "chat", "message": "How do I EQ vocals?"}'))
    engine.perspectives.register("mix_engineering", lambda request: "redefined")

    assert not job.runs_user_code
    assert engine.answer(job)["response"] != "redefined"
    assert engine.respond('{"type": "chat", "message": "How do I EQ vocals?"}')["response"] == "redefined"


def test_an_unknown_perspective_is_bound_to_nothing_and_answered_with_the_list():
    engine = Engine()
    job = engine.prepare(parse_request('{"type": "chat", "message": "hi", "perspective": "nobody"}'))

    assert job.entry is None and not job.runs_user_code
    assert engine.respond('{"type": "chat", "message": "hi", "perspective": "nobody"}')["message"].startswith(
        "Unknown perspective: 'nobody' (available: audio_theory, "
    )


def test_a_chat_about_a_large_session_is_answered_off_the_loop():
    """Every listed track is read and a review judges each one: a daw_context of more than INLINE_CHAT_TRACKS
    tracks (or a hostile one of thousands) must not hold every other connection's pings up."""
    from codette_lab.engine import INLINE_CHAT_TRACKS

    engine = Engine()

    def chat(count: int) -> str:
        tracks = [{"name": f"T{i}", "peak": -6.0} for i in range(count)]
        return json.dumps({"type": "chat", "message": "How is my mix?", "daw_context": {"tracks": tracks}})

    assert not engine.prepare(parse_request(chat(INLINE_CHAT_TRACKS))).needs_worker
    assert engine.prepare(parse_request(chat(INLINE_CHAT_TRACKS + 1))).needs_worker
