"""Chat: answering mixing questions from perspectives, the knowledge base and the conversation.

A perspective is a function ``f(context) -> str | dict | ChatReply`` kept in a
:class:`~codette_lab.registry.Registry`. The five built-in ones answer from the
curated knowledge base, each from its own angle; a notebook user writes more::

    def gentle(context):
        '''Everything the mix engineer says, plus a reminder.'''
        reply = context.builtin_answer()
        return {"response": reply.response + " Take a break every hour.", "confidence": reply.confidence}

The :class:`ChatContext` a perspective receives holds the question, the DAW's
state (:class:`DawContext`), this session's recent turns and the knowledge
base, plus :attr:`ChatContext.understanding`: what the question is about once
follow-ups ("and for the bass?") and the selected track are taken into account.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from . import usercode
from .knowledge import KnowledgeBase, KnowledgeEntry, Query, Ranking
from .memory import ConversationMemory, Turn
from .protocol import ChatRequest, replies
from .registry import Entry, Registry

#: How many of the session's turns a perspective sees in ``context.memory``.
MEMORY_WINDOW = 10

#: Weights of the words that make up a query: the question's own, carried from the previous turn, ...
OWN_WEIGHT = 1.0
CARRIED_WEIGHT = 0.5
INSTRUMENT_WEIGHTS = {"question": 1.0, "selected": 0.8, "memory": 0.6}

#: A second entry is mentioned when it scores at least this share of the best one.
RELATED_SHARE = 0.75

#: A follow-up skips the entry it was just given for one scoring at least this share of the best.
FRESH_SHARE = 0.5

#: How many entries a question's ranking keeps (the answer uses up to two).
RANKING_DEPTH = 4

#: How many topic terms a turn hands on to the next follow-up.
CARRIED_TERMS_LIMIT = 6

#: The built-in perspectives, in the order they are listed.
BUILTIN_PERSPECTIVES = (
    "mix_engineering",
    "audio_theory",
    "creative_production",
    "technical_troubleshooting",
    "workflow_optimization",
)


# -- the DAW's state, as a perspective reads it ------------------------------------------


def _first(raw: Mapping[str, Any], keys: tuple[str, ...], accept: Callable[[Any], bool]) -> Any:
    for key in keys:
        value = raw.get(key)
        if value is not None and accept(value):
            return value
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _volume_db(raw: Mapping[str, Any]) -> float | None:
    """A fader level in dB: ``volume_db``/``gain_db`` as given; ``volume`` in (0, 1] read as linear gain."""
    decibels = _first(raw, ("volume_db", "gain_db", "fader_db"), _is_number)
    if decibels is not None:
        return float(decibels)
    volume = _first(raw, ("volume", "gain", "fader"), _is_number)
    if volume is None:
        return None
    if 0.0 < volume <= 1.0:
        return 20.0 * math.log10(volume)
    return float(volume)


@dataclass(frozen=True)
class TrackView:
    """One track of ``daw_context``, read leniently (``name``/``track_name``, ``peak``/``peak_level``, ...).

    ``type`` is the type the DAW gave (or None); ``instrument`` is what the
    knowledge base calls it (``"Lead Vox"`` -> ``vocal``), from the type or the name.
    Levels are in dB (peak and RMS in dBFS) or None when the DAW sent none.
    """

    name: str
    type: str | None
    instrument: str | None
    peak_db: float | None = None
    rms_db: float | None = None
    volume_db: float | None = None
    muted: bool = False
    soloed: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], knowledge: KnowledgeBase, *, position: int = 0) -> TrackView:
        name = _first(raw, ("name", "track_name", "trackName", "title"), _is_text) or f"Track {position + 1}"
        kind = _first(raw, ("type", "track_type", "trackType", "kind"), _is_text)
        instrument = (knowledge.instrument_of(kind) if kind else None) or knowledge.instrument_of(name)
        peak = _first(raw, ("peak_level", "peak", "peak_db", "peak_dbfs", "peakLevel"), _is_number)
        rms = _first(raw, ("rms_level", "rms", "rms_db", "rms_dbfs", "rmsLevel"), _is_number)
        return cls(
            name=name.strip(),
            type=kind.strip() if kind else None,
            instrument=instrument,
            peak_db=float(peak) if peak is not None else None,
            rms_db=float(rms) if rms is not None else None,
            volume_db=_volume_db(raw),
            muted=_first(raw, ("muted", "mute", "isMuted"), lambda v: isinstance(v, bool)) is True,
            soloed=_first(raw, ("soloed", "solo", "isSoloed"), lambda v: isinstance(v, bool)) is True,
            raw=dict(raw),
        )

    @property
    def kind(self) -> str:
        """How answers name the track's type: the instrument, else the DAW's type, else ``audio``."""
        return self.instrument or self.type or "audio"

    @property
    def headroom_db(self) -> float | None:
        return -self.peak_db if self.peak_db is not None else None

    @property
    def crest_db(self) -> float | None:
        if self.peak_db is None or self.rms_db is None:
            return None
        return self.peak_db - self.rms_db


@dataclass(frozen=True)
class DawContext:
    """The ``daw_context`` of a chat request: its tracks, the selected one, and the raw mapping."""

    tracks: tuple[TrackView, ...] = ()
    selected_track: TrackView | None = None
    track_count: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None, knowledge: KnowledgeBase) -> DawContext:
        raw = dict(raw or {})
        listed = raw.get("tracks") if isinstance(raw.get("tracks"), list) else []
        tracks = tuple(
            TrackView.from_mapping(track, knowledge, position=position)
            for position, track in enumerate(listed)
            if isinstance(track, Mapping)
        )
        selected_raw = raw.get("selected_track")
        selected = TrackView.from_mapping(selected_raw, knowledge) if isinstance(selected_raw, Mapping) else None
        count = raw.get("track_count")
        track_count = int(count) if _is_number(count) and count >= 0 else len(tracks)
        return cls(tracks=tracks, selected_track=selected, track_count=track_count, raw=raw)

    def tracks_of(self, instrument: str) -> tuple[TrackView, ...]:
        """The session's tracks of one instrument (``vocal``, ``bass``, ...)."""
        return tuple(track for track in self.tracks if track.instrument == instrument)


# -- what a question is about ---------------------------------------------------------------


@dataclass(frozen=True)
class Understanding:
    """A question resolved against the conversation and the DAW.

    ``terms`` are its topic words (its own plus any carried from the previous
    turn, ``carried``); ``instruments`` what it is about and where that came
    from (``instrument_source``: ``question``, ``selected``, ``memory`` or
    ``""``); ``track`` the selected track when the answer concerns it;
    ``previous`` the earlier turn a follow-up continues; ``ranking`` the
    knowledge entries that answer it, found with ``query``.
    """

    terms: tuple[str, ...]
    carried: tuple[str, ...]
    instruments: tuple[str, ...]
    instrument_source: str
    track: TrackView | None
    previous: Turn | None
    query: Query
    ranking: Ranking

    @property
    def is_follow_up(self) -> bool:
        return bool(self.carried) or self.instrument_source == "memory"


def understand(message: str, *, daw: DawContext, memory: tuple[Turn, ...], knowledge: KnowledgeBase) -> Understanding:
    """What ``message`` asks once follow-up cues, pronouns for the selected track and memory are applied.

    The question's own instrument wins; "this track" means the selected one; a
    follow-up ("and for the bass?", "what about the attack?") keeps the previous
    turn's topic words and, if it names none, its instrument; otherwise the
    selected track's instrument steers the ranking without counting as a word.
    """
    parsed = knowledge.parse(message)
    follows_cue = knowledge.has_cue("follow_up", message)
    points_at_selection = knowledge.has_cue("selection", message)
    previous = next((turn for turn in reversed(memory) if turn.on_topic), None)
    is_follow_up = previous is not None and (follows_cue or (not parsed.terms and bool(parsed.instruments)))
    selected = daw.selected_track

    candidates = (
        ("question", parsed.instruments, True),
        ("selected", (selected.instrument,) if selected and selected.instrument else (), points_at_selection),
        ("memory", previous.instruments if previous else (), is_follow_up),
        ("steer", (selected.instrument,) if selected and selected.instrument else (), True),
    )
    source, instruments = next(((name, found) for name, found, allowed in candidates if found and allowed), ("", ()))

    terms = {term: OWN_WEIGHT for term in parsed.terms}
    carried = tuple(t for t in previous.terms if t not in terms) if is_follow_up and previous else ()
    terms.update({term: CARRIED_WEIGHT for term in carried})
    for instrument in instruments:
        weight = INSTRUMENT_WEIGHTS.get(source)
        if weight:
            terms.setdefault(knowledge.vocabulary.instrument_term(instrument), weight)
    query = Query(terms=terms, instruments=tuple(instruments))

    about_selection = selected is not None and (
        selected.instrument in instruments if selected.instrument else points_at_selection
    )
    return Understanding(
        terms=(*parsed.terms, *carried)[:CARRIED_TERMS_LIMIT],
        carried=carried,
        instruments=tuple(instruments),
        instrument_source="selected" if source == "steer" else source,
        track=selected if about_selection else None,
        previous=previous if is_follow_up else None,
        query=query,
        ranking=knowledge.rank(query, limit=RANKING_DEPTH),
    )


# -- replies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatReply:
    """A chat answer: the document's ``response``, ``perspective``, ``confidence``, plus ``topics``.

    ``topics`` are the ids of the knowledge entries the answer drew on (sent as
    an extra ``topics`` field that clients knowing only the document ignore).
    """

    response: str
    perspective: str
    confidence: float
    topics: tuple[str, ...] = ()

    def to_message(self) -> replies.Message:
        return replies.chat_response(
            response=self.response,
            perspective=self.perspective,
            confidence=self.confidence,
            topics=list(self.topics),
        )


@dataclass(frozen=True)
class ChatContext:
    """Everything a perspective function gets: ``def my_view(context): return "..."``.

    - ``message``: the question as the DAW sent it.
    - ``perspective``: the name the request resolved to.
    - ``daw_context``: a :class:`DawContext` (``.tracks``, ``.selected_track``, ``.track_count``, ``.raw``).
    - ``memory``: this session's recent :class:`~codette_lab.memory.Turn` objects, oldest first.
    - ``session``: which connection (or ``"notebook"``) is asking.
    - ``knowledge``: the :class:`~codette_lab.knowledge.KnowledgeBase`, to ``search`` it yourself.
    - ``understanding``: the question resolved against memory and DAW (computed on first use).
    """

    message: str
    perspective: str
    daw_context: DawContext
    memory: tuple[Turn, ...]
    session: str
    knowledge: KnowledgeBase

    @cached_property
    def understanding(self) -> Understanding:
        return understand(self.message, daw=self.daw_context, memory=self.memory, knowledge=self.knowledge)

    def search(self, text: str | None = None, *, limit: int = 3) -> Ranking:
        """Knowledge entries for ``text`` (default: this question, follow-ups and selected track included)."""
        if text is None:
            return self.knowledge.rank(self.understanding.query, limit=limit)
        return self.knowledge.search(text, instruments=self.understanding.instruments, limit=limit)

    def builtin_answer(self, perspective: str | None = None) -> ChatReply:
        """The answer a built-in perspective gives (default: ``mix_engineering``, or this one if built in)."""
        name = perspective or (self.perspective if self.perspective in BUILTIN_PERSPECTIVES else "mix_engineering")
        return compose_answer(self, perspective=name)


def _level_notes(track: TrackView, knowledge: KnowledgeBase) -> list[str]:
    """Sentences about a track's levels, thresholds and wording from the knowledge base's ``levels``/``texts``."""
    levels, texts = knowledge.levels, knowledge.texts["levels"]
    notes: list[str] = []
    if track.peak_db is not None:
        peak = track.peak_db
        checks = (
            ("over", peak >= 0.0),
            ("clipping", peak >= levels["clip_risk_dbfs"]),
            ("hot", peak > levels["target_peak_dbfs"]),
            ("quiet", peak < levels["quiet_peak_dbfs"]),
            ("healthy", True),
        )
        key = next(name for name, hit in checks if hit)
        trim = max(0.0, peak - levels["target_peak_dbfs"])
        raise_by = max(0.0, levels["quiet_goal_dbfs"] - peak)
        values = {"target": levels["target_peak_dbfs"], "goal": levels["quiet_goal_dbfs"]}
        notes.append(texts[key].format(peak=peak, headroom=-peak, trim=trim, raise_by=raise_by, **values))
    crest = track.crest_db
    if crest is not None:
        checks = (
            ("dense", crest < levels["dense_crest_db"]),
            ("dynamic", crest > levels["dynamic_crest_db"]),
            ("crest", True),
        )
        key = next(name for name, hit in checks if hit)
        notes.append(texts[key].format(crest=crest, rms=track.rms_db))
    elif track.rms_db is not None:
        notes.append(texts["rms"].format(rms=track.rms_db))
    if track.volume_db is not None:
        notes.append(texts["fader"].format(volume=track.volume_db))
    notes.extend(texts[state] for state, on in (("muted", track.muted), ("soloed", track.soloed)) if on)
    return notes


def _first_sentence(text: str) -> str:
    """Up to the first full stop that is followed by a capital letter (so "e.g." and "1.5 s" don't end it)."""
    match = re.match(r"(.+?[.!?])(?=\s+[A-Z]|$)", text, flags=re.DOTALL)
    return match.group(1) if match else text


def _track_lines(understanding: Understanding, daw: DawContext, knowledge: KnowledgeBase) -> list[str]:
    texts = knowledge.texts
    track = understanding.track
    if track is not None:
        count = max(daw.track_count, 1)
        line = texts["selected_track"].format(name=track.name, kind=track.kind, count=count)
        return [" ".join([line, *_level_notes(track, knowledge)])]
    lines = []
    matching = [t for instrument in understanding.instruments for t in daw.tracks_of(instrument)]
    if matching:
        names = ", ".join(f"'{t.name}'" for t in matching[:4])
        lines.append(texts["matching_tracks"].format(names=names, count=daw.track_count))
    elif daw.track_count:
        lines.append(texts["session_size"].format(count=daw.track_count))
    return lines


def compose_answer(context: ChatContext, *, perspective: str) -> ChatReply:
    """A built-in answer: track facts, the best entry's text for ``perspective``, and one related idea."""
    knowledge = context.knowledge
    texts = knowledge.texts
    understanding = context.understanding
    ranking = understanding.ranking
    if not ranking.on_topic or ranking.best is None:
        topics = ", ".join(knowledge.topics.values())
        redirect = "greeting" if knowledge.has_cue("greeting", context.message) else "redirect"
        return ChatReply(
            response=texts[redirect].format(topics=topics),
            perspective=context.perspective,
            confidence=ranking.confidence,
        )
    lead, related = _choose_entries(ranking, understanding.previous)
    parts: list[str] = []
    if understanding.previous is not None and understanding.previous.entries:
        previous_title = knowledge.get(understanding.previous.entries[0]).title
        parts.append(texts["follow_up"].format(previous=previous_title))
    parts.extend(_track_lines(understanding, context.daw_context, knowledge))
    parts.append(texts["answer"].format(title=lead.title, text=lead.facet(perspective)))
    if related is not None:
        parts.append(texts["related"].format(title=related.title, text=_first_sentence(related.facet(perspective))))
    return ChatReply(
        response=" ".join(parts),
        perspective=context.perspective,
        confidence=ranking.confidence,
        topics=tuple(entry.id for entry in (lead, related) if entry is not None),
    )


def _choose_entries(ranking: Ranking, previous: Turn | None) -> tuple[KnowledgeEntry, KnowledgeEntry | None]:
    """The entry to answer from and an optional related one.

    A follow-up ("what about the attack?") whose best match is the entry just
    given moves on to the next strong match instead of repeating itself.
    """
    top = ranking.hits[0].score
    just_given = set(previous.entries) if previous is not None else set()
    fresh = [hit.entry for hit in ranking.hits if hit.entry.id not in just_given and hit.score >= FRESH_SHARE * top]
    lead = fresh[0] if fresh else ranking.hits[0].entry
    related = next(
        (
            hit.entry
            for hit in ranking.hits
            if hit.entry is not lead and hit.entry.id not in just_given and hit.score >= RELATED_SHARE * top
        ),
        None,
    )
    return lead, related


# -- the built-in perspectives --------------------------------------------------------------


def _builtin_perspective(name: str, description: str) -> Callable[[ChatContext], ChatReply]:
    def perspective(context: ChatContext) -> ChatReply:
        return compose_answer(context, perspective=name)

    perspective.__name__ = perspective.__qualname__ = name
    perspective.__doc__ = description
    return perspective


def builtin_perspectives(knowledge: KnowledgeBase | None = None) -> Registry:
    """A fresh registry of the five built-in perspectives (default ``mix_engineering``)."""
    knowledge = knowledge or KnowledgeBase.builtin()
    registry = Registry("perspective", default="mix_engineering")
    for name in BUILTIN_PERSPECTIVES:
        description = knowledge.perspectives[name]["description"]
        registry.register(name, _builtin_perspective(name, description), description=description, builtin=True)
    return registry


# -- answering a request ---------------------------------------------------------------------


def _confidence(entry: Entry, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise usercode.malformed(entry, f"a confidence of {value!r}, expected a number between 0 and 1")
    if not 0.0 <= value <= 1.0:
        raise usercode.malformed(entry, f"a confidence of {value!r}, expected a number between 0 and 1")
    return float(value)


def _response(entry: Entry, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        shown = "an empty response" if isinstance(value, str) else f"a response of type {type(value).__name__}"
        raise usercode.malformed(entry, f"{shown}, expected a non-empty string")
    return value


def _topics(entry: Entry, value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise usercode.malformed(entry, f"topics of type {type(value).__name__}, expected a list of strings")
    return tuple(value)


def _from_text(entry: Entry, value: str, context: ChatContext) -> ChatReply:
    confidence = context.understanding.ranking.confidence
    return ChatReply(_response(entry, value), entry.name, confidence)


def _from_reply(entry: Entry, value: ChatReply, context: ChatContext) -> ChatReply:
    return ChatReply(
        _response(entry, value.response), entry.name, _confidence(entry, value.confidence), _topics(entry, value.topics)
    )


def _from_mapping(entry: Entry, value: Mapping[str, Any], context: ChatContext) -> ChatReply:
    if "response" not in value:
        raise usercode.malformed(entry, "a dict without 'response', expected {'response': str, 'confidence': float}")
    confidence = value.get("confidence")
    return ChatReply(
        _response(entry, value["response"]),
        entry.name,
        context.understanding.ranking.confidence if confidence is None else _confidence(entry, confidence),
        _topics(entry, value.get("topics", ())),
    )


_COERCIONS: tuple[tuple[type, Callable[[Entry, Any, ChatContext], ChatReply]], ...] = (
    (str, _from_text),
    (ChatReply, _from_reply),
    (Mapping, _from_mapping),
)


def coerce_reply(entry: Entry, value: Any, context: ChatContext) -> ChatReply:
    """A perspective's return value as a ChatReply: str, ChatReply or dict; anything else is malformed."""
    for kind, convert in _COERCIONS:
        if isinstance(value, kind):
            return convert(entry, value, context)
    raise usercode.malformed(
        entry, f"{type(value).__name__}, expected a str, a ChatReply or a dict with 'response' (and 'confidence')"
    )


def answer_chat(
    request: ChatRequest,
    *,
    session: str,
    perspectives: Registry,
    knowledge: KnowledgeBase,
    memory: ConversationMemory,
    entry: Entry | None = None,
) -> ChatReply:
    """Answer one chat request with its perspective and remember the turn.

    ``entry`` is the perspective already resolved by the caller (the engine
    resolves once per request); None resolves it here. Raises RequestError for
    an unknown perspective (listing the available ones) and UserCodeError when
    a notebook perspective raises or returns something unusable.
    """
    entry = entry or perspectives.resolve(request.perspective or perspectives.default or "")
    context = ChatContext(
        message=request.message,
        perspective=entry.name,
        daw_context=DawContext.from_mapping(request.daw_context, knowledge),
        memory=memory.recent(session, MEMORY_WINDOW),
        session=session,
        knowledge=knowledge,
    )
    reply = coerce_reply(entry, usercode.call_entry(entry, context), context)
    understanding = context.understanding
    memory.record(
        Turn(
            session=session,
            message=request.message,
            response=reply.response,
            perspective=reply.perspective,
            confidence=reply.confidence,
            terms=understanding.terms,
            instruments=understanding.instruments,
            entries=reply.topics or tuple(hit.entry.id for hit in understanding.ranking.hits[:1]),
            on_topic=understanding.ranking.on_topic,
        )
    )
    return reply
