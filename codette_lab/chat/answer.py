"""Answering one chat request: resolve the perspective, build its context, call it, remember the turn."""

from __future__ import annotations

from .. import usercode
from ..knowledge import KnowledgeBase
from ..memory import ConversationMemory, Turn
from ..protocol import ChatRequest
from ..registry import Entry, Registry
from ..rules import RuleSnapshot
from .coerce import coerce_reply
from .context import ChatContext
from .daw import DawContext
from .reply import ChatReply

#: How many of the session's turns a perspective sees in ``context.memory``.
MEMORY_WINDOW = 10


def answer_chat(
    request: ChatRequest,
    *,
    session: str,
    perspectives: Registry,
    knowledge: KnowledgeBase,
    memory: ConversationMemory,
    rules: RuleSnapshot,
    entry: Entry | None = None,
) -> ChatReply:
    """Answer one chat request with its perspective and remember the turn.

    ``rules`` is the rule snapshot the selected track's levels are judged by
    (the engine passes its current one, so chat and analysis agree).
    ``entry`` is the perspective already resolved by the caller (the engine
    resolves once per request); None resolves it here. Raises RequestError for
    an unknown perspective (listing the available ones) and UserCodeError when
    a notebook perspective raises or returns something unusable.
    """
    entry = entry or perspectives.resolve(request.perspective or perspectives.default or "")
    context = ChatContext(
        message=request.message,
        perspective=entry.name,
        daw_context=DawContext.from_mapping(request.daw_context),
        memory=memory.recent(session, MEMORY_WINDOW),
        session=session,
        knowledge=knowledge,
        rules=rules,
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
            instruments=_remembered_instruments(
                understanding.instruments, understanding.query.steer_only, reply, knowledge
            ),
            entries=reply.topics or tuple(hit.entry.id for hit in understanding.ranking.hits[:1]),
            on_topic=understanding.ranking.on_topic,
        )
    )
    return reply


def _remembered_instruments(
    instruments: tuple[str, ...], steered: bool, reply: ChatReply, knowledge: KnowledgeBase
) -> tuple[str, ...]:
    """The instruments a follow-up to this turn is about: those asked, and the selected track's only when they
    steered the answer to an entry about it. "How should I compress?" with a vocal selected was about the vocal,
    "What is sidechain compression?" was not: "how do I set it up?" after it is about side-chaining."""
    if not steered:
        return instruments
    lead = reply.topics[0] if reply.topics else ""
    answered = knowledge.get(lead).instruments if lead in knowledge else ()
    return instruments if set(answered).intersection(instruments) else ()
