"""A class of students: several simulated DAWs on one server at once, each in its own thread.

:func:`simulate_class` is what the mixing-class notebook runs to show a server
answering many connections while a teacher changes it live.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from os import PathLike

import numpy as np

from ..errors import CodetteError, DAWError
from .client import DEFAULT_REPLY_TIMEOUT, DEFAULT_URL, SimulatedDAW
from .payloads import audio_payload
from .session import Message, Session, Track

#: What simulated students ask, drawn at random (seeded) by :func:`simulate_class`.
CLASS_QUESTIONS = (
    "How should I EQ this vocal?",
    "Why does my mix sound muddy?",
    "How much compression should I put on the bass?",
    "How do I make the kick and bass sit together?",
    "What reverb works on a lead vocal?",
    "How loud should my master be for streaming?",
    "How do I get rid of rumble on a voice recording?",
    "Should I pan the keys?",
    "How much headroom should I leave on each track?",
    "How do I make the drums punchier?",
)

#: The analysis types simulated students ask for by default.
CLASS_ANALYSES = ("spectrum", "dynamics", "loudness")

#: Upper bound on :func:`simulate_class` students, so a typo cannot open thousands of sockets.
MAX_STUDENTS = 64

Step = Callable[[SimulatedDAW], Message]


@dataclass
class StudentResult:
    """What one simulated student asked, analyzed and got back.

    ``asked`` are its questions and ``analyzed`` its ``"Track: type"``
    analyses; ``errors`` holds the texts of failures and error replies;
    ``daw`` is its DAW, still connected, when the class was asked to stay.
    """

    name: str
    asked: list[str] = field(default_factory=list)
    analyzed: list[str] = field(default_factory=list)
    replies: list[Message] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    daw: SimulatedDAW | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.replies)


def _ask(question: str) -> Step:
    return lambda daw: daw.chat(question)


def _analyze(track: Track, kind: str, send: str) -> Step:
    return lambda daw: daw.analyze(track, analysis_type=kind, send=send)


def _student(
    name: str,
    rng: np.random.Generator,
    *,
    url: str,
    session: Session,
    questions: int,
    analyses: int,
    question_bank: Sequence[str],
    analysis_types: Sequence[str],
    send: str,
    timeout: float,
    deadline: float,
    stay: bool,
) -> StudentResult:
    """One student: connect, ask ``questions`` questions about a random track, analyze ``analyses`` stems.

    With ``stay`` the DAW is left connected (in ``result.daw``), else closed."""
    started = time.monotonic()
    picks = rng.choice(len(question_bank), size=min(questions, len(question_bank)), replace=False)
    result = StudentResult(name, asked=[question_bank[index] for index in picks])
    steps = [_ask(question) for question in result.asked]
    for _ in range(analyses):
        track = session.tracks[int(rng.integers(len(session.tracks)))]
        kind = analysis_types[int(rng.integers(len(analysis_types)))]
        result.analyzed.append(f"{track.track_name}: {kind}")
        steps.append(_analyze(track, kind, send))
    daw = SimulatedDAW(url, session=session, name=name, timeout=timeout, reconnect_attempts=0)
    try:
        daw.connect()
        daw.select(session.tracks[int(rng.integers(len(session.tracks)))])
        for step in steps:
            if time.monotonic() > deadline:
                result.errors.append(f"{name}: stopped at the class's time limit")
                break
            reply = step(daw)
            result.replies.append(reply)
            if reply.get("type") == "error":
                result.errors.append(f"{name}: server error: {reply.get('message')}")
    except CodetteError as exc:
        result.errors.append(str(exc))
    if stay and daw.connected:
        result.daw = daw
    else:
        daw.close()
    result.elapsed_s = time.monotonic() - started
    return result


def simulate_class(
    url: str = DEFAULT_URL,
    *,
    students: int = 5,
    questions: int = 2,
    analyses: int = 1,
    seed: int = 0,
    question_bank: Sequence[str] = CLASS_QUESTIONS,
    analysis_types: Sequence[str] = CLASS_ANALYSES,
    send: str = "levels",
    session: Session | str | PathLike[str] | None = None,
    timeout: float = DEFAULT_REPLY_TIMEOUT,
    time_limit: float = 60.0,
    stay_connected: bool = False,
) -> list[StudentResult]:
    """Several student DAWs on one server at once, each in its own thread; returns one result per student.

    Each student connects, selects a track, asks ``questions`` questions
    drawn from ``question_bank`` and runs ``analyses`` analyses of random
    stems (types from ``analysis_types``, audio sent as ``send``), then
    disconnects, unless ``stay_connected`` (each result's ``daw`` is then
    its open DAW, to close when the lesson is over). Draws are seeded (``seed``), so a class is repeatable. No
    student starts a request after ``time_limit`` seconds, and each request
    waits at most ``timeout`` seconds: the call always returns. Failures end
    up in each result's ``errors``, they are not raised.
    """
    if not 1 <= students <= MAX_STUDENTS:
        raise DAWError(f"simulate_class(students={students}): expected 1 to {MAX_STUDENTS}")
    audio_payload(send, "simulate_class")  # an unknown send mode fails here, before any student connects
    if questions < 0 or analyses < 0 or not (question_bank or not questions) or not (analysis_types or not analyses):
        raise DAWError("simulate_class: questions and analyses must be >= 0, with a bank to draw them from")
    student = functools.partial(
        _student,
        url=url,
        session=Session.coerce(session),
        questions=questions,
        analyses=analyses,
        question_bank=question_bank,
        analysis_types=analysis_types,
        send=send,
        timeout=timeout,
        deadline=time.monotonic() + time_limit,
        stay=stay_connected,
    )
    with ThreadPoolExecutor(max_workers=students, thread_name_prefix="codette-student") as pool:
        futures = [
            pool.submit(student, f"student_{index + 1}", np.random.default_rng([seed, index]))
            for index in range(students)
        ]
        wait(futures)
    return [future.result() for future in futures]
