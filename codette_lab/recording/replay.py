"""Replaying a recording: answer its requests again with other rules and say, per request, what moved.

:func:`replay` sends every recorded ``chat`` and ``analyze`` request (and
every frame that was not a valid request) through a fresh
:class:`~codette_lab.engine.Engine` holding the new rules, in the order they
came and under their recorded sessions (so chat memory builds up as it did),
and compares each answer with the recorded reply, or with the answer of a
second rule set (``against``). No server is involved. ``ping`` and
``status`` are not replayed: their replies describe the server, not the rules.

A request whose audio was recorded as a hash only (the default for
``samples``), or a large frame recorded as a hash, cannot be answered again;
it is reported as not replayed, with the reason. One sent as a
``file_path`` is read again from that path, under the audio roots of the
engine given (or the default ones).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from os import PathLike
from typing import Any, TypeGuard, cast

from ..engine import Engine
from ..protocol import encode
from ..rules import RuleSet
from .reading import RecordedExchange, RecordingSource, read_recording
from .report import CHANGED, NOT_REPLAYED, SAME, Outcome, ReplayReport

RulesLike = RuleSet | str | PathLike[str] | None

#: The request types replayed; the others' replies do not depend on the rules.
REPLAYED_TYPES = ("chat", "analyze")
#: Said of a baseline that is the recording itself.
RECORDED_REPLIES = "the recorded replies"

Answer = Callable[[RecordedExchange], dict[str, Any]]


def replay(
    recording: RecordingSource | list[RecordedExchange],
    rules: RulesLike = None,
    *,
    against: RulesLike = None,
    engine: Engine | None = None,
) -> ReplayReport:
    """Answer a recording's requests with ``rules`` and compare with ``against`` (default: the recorded replies).

    Arguments:
        recording: a ``.jsonl`` file, a folder of them, or exchanges read with :func:`read_recording`.
        rules: the rules to answer with: a RuleSet or a rule file (None: the built-in rules).
        against: the rules to compare with, likewise (None: the replies the recording holds).
        engine: lends its perspectives, analysis types and audio roots (a Lab's, with the functions
            its notebook defined); its memory and hooks are not touched.

    Returns:
        A :class:`ReplayReport`: one :class:`Outcome` per chat and analyze request (``same``,
        ``changed`` with the findings, suggestions and score that moved, or ``not replayed`` with
        why), ``differs`` for a CI check, ``table()`` / ``to_json()`` for a shell and ``to_frame()``
        for a notebook (pandas). Raises RecordingError for a recording that cannot be read and
        RulesError for rules that cannot be loaded.
    """
    exchanges = recording if _is_exchanges(recording) else read_recording(cast(RecordingSource, recording))
    after_engine = _engine(rules, engine)
    after = _answerer(after_engine)
    if against is None:
        before: Answer | None = None
        baseline = RECORDED_REPLIES
    else:
        before_engine = _engine(against, engine)
        before = _answerer(before_engine)
        baseline = _describe(before_engine.rules)
    outcomes: list[Outcome] = []
    skipped: Counter[str] = Counter()
    for exchange in exchanges:
        kind = exchange.message_type
        if kind is not None and kind not in REPLAYED_TYPES:
            skipped[kind] += 1
            continue
        outcomes.append(_compare(exchange, before, after))
    return ReplayReport(
        outcomes=outcomes,
        rules=_describe(after_engine.rules),
        against=baseline,
        skipped=dict(skipped),
    )


def _is_exchanges(recording: object) -> TypeGuard[list[RecordedExchange]]:
    return isinstance(recording, list) and all(isinstance(item, RecordedExchange) for item in recording)


def _engine(rules: RulesLike, base: Engine | None) -> Engine:
    """A fresh engine with ``rules`` (a copy: tuning the caller's rule set later changes nothing here)."""
    engine = Engine(rules=rules.copy() if isinstance(rules, RuleSet) else rules)
    if base is not None:
        engine.perspectives = base.perspectives
        engine.analysis_types = base.analysis_types
        engine.audio_roots = base.audio_roots
    return engine


def _answerer(engine: Engine) -> Answer:
    """The reply to an exchange's request as a client would read it (encoded and decoded: NaN is null, ...)."""

    def answer(exchange: RecordedExchange) -> dict[str, Any]:
        reply = engine.respond(exchange.frame_to_send(), session=f"{exchange.recording}/{exchange.session}")
        return dict(json.loads(encode(reply)))

    return answer


def _describe(rules: RuleSet) -> str:
    return f"{rules.snapshot().identity} ({rules.source})"


def _compare(exchange: RecordedExchange, before: Answer | None, after: Answer) -> Outcome:
    """The outcome of one request: answered again on both sides (or the recorded reply) and compared."""
    base = Outcome(
        index=exchange.index,
        session=exchange.session,
        name=exchange.name,
        message_type=exchange.message_type or "invalid",
        label=exchange.label,
        status=NOT_REPLAYED,
    )
    if exchange.frame_omitted is not None:
        return replace(base, reason="the frame was large and not an audio request: it was recorded as a hash only")
    if exchange.samples_omitted:
        reason = "its audio samples were recorded as a hash only (record with keep_samples to replay them)"
        return replace(base, reason=reason)
    if before is None and exchange.reply is None:
        return replace(base, reason="the recording ends before its reply")
    old = before(exchange) if before is not None else exchange.reply
    assert old is not None
    new = after(exchange)
    old_findings, new_findings = _findings(old), _findings(new)
    old_suggestions, new_suggestions = _suggestions(old), _suggestions(new)
    same = _without_timestamp(old) == _without_timestamp(new)
    return replace(
        base,
        status=SAME if same else CHANGED,
        reason="" if same else _what_changed(old, new),
        findings_added=_missing_from(new_findings, old_findings),
        findings_removed=_missing_from(old_findings, new_findings),
        suggestions_added=_missing_from(new_suggestions, old_suggestions),
        suggestions_removed=_missing_from(old_suggestions, new_suggestions),
        score_before=_score(old),
        score_after=_score(new),
    )


def _without_timestamp(reply: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in reply.items() if key != "timestamp"}


def _analysis(reply: dict[str, Any]) -> dict[str, Any]:
    analysis = reply.get("analysis") if reply.get("type") == "analysis_response" else None
    return analysis if isinstance(analysis, dict) else {}


def _findings(reply: dict[str, Any]) -> list[str]:
    problems = _analysis(reply).get("problems_detected") or []
    return [str(problem.get("rule")) for problem in problems if isinstance(problem, dict)]


def _suggestions(reply: dict[str, Any]) -> list[str]:
    return [str(text) for text in _analysis(reply).get("mixing_suggestions") or []]


def _score(reply: dict[str, Any]) -> float | None:
    score = _analysis(reply).get("quality_score")
    return float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None


def _missing_from(items: list[str], others: list[str]) -> tuple[str, ...]:
    """The items of ``items`` not in ``others``, counting repeats (a multiset difference, in order)."""
    left = Counter(others)
    missing = []
    for item in items:
        if left[item]:
            left[item] -= 1
        else:
            missing.append(item)
    return tuple(missing)


def _what_changed(old: dict[str, Any], new: dict[str, Any]) -> str:
    """In a few words, what differs between two replies to the same request."""
    if old.get("type") != new.get("type"):
        return f"{old.get('type')} became {new.get('type')}" + (
            f": {new.get('message')}" if new.get("type") == "error" else ""
        )
    if new.get("type") == "error":
        return f"error text: {new.get('message')}"
    if new.get("type") == "chat_response":
        return "chat response"
    before, after = _analysis(old), _analysis(new)
    fields = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
    return ", ".join(fields) if fields else "reply fields"
