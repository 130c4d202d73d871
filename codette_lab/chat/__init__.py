"""Chat: answering mixing questions from perspectives, the knowledge base and the conversation.

A perspective is a function ``f(context) -> str | dict | ChatReply`` kept in a
:class:`~codette_lab.registry.Registry`. Five built-in ones answer from the
curated knowledge base, each from its own angle, and ``teaching`` explains for
a student why each suggestion about the selected track was made (``explain``
does the same for an analysis result in a notebook); a notebook user writes more::

    def gentle(context):
        '''Everything the mix engineer says, plus a reminder.'''
        reply = context.builtin_answer()
        return {"response": reply.response + " Take a break every hour.", "confidence": reply.confidence}

The :class:`ChatContext` a perspective receives holds the question, the DAW's
state (:class:`DawContext`), this session's recent turns, the knowledge base
and the engine's rule snapshot, plus :attr:`ChatContext.understanding`: what
the question is about once follow-ups ("and for the bass?") and the selected
track are taken into account.

The rooms: ``daw`` reads the DAW's state, ``understanding`` resolves a
question, ``levels`` judges the selected track by the rules, ``compose``
words a built-in answer, ``teaching`` explains findings for students,
``perspectives`` registers the built-in ones,
``coerce`` checks what a notebook perspective returns and ``answer`` runs a
request through all of them.
"""

from .answer import MEMORY_WINDOW, answer_chat
from .coerce import coerce_reply
from .compose import compose_answer
from .context import ChatContext
from .daw import DawContext, TrackView
from .levels import LEVEL_ANALYSIS_TYPE
from .perspectives import BUILTIN_PERSPECTIVES, FACET_PERSPECTIVES, builtin_perspectives
from .reply import ChatReply
from .teaching import TEACHING_PERSPECTIVE, explain
from .understanding import Understanding, understand

__all__ = [
    "BUILTIN_PERSPECTIVES",
    "FACET_PERSPECTIVES",
    "LEVEL_ANALYSIS_TYPE",
    "MEMORY_WINDOW",
    "TEACHING_PERSPECTIVE",
    "ChatContext",
    "ChatReply",
    "DawContext",
    "TrackView",
    "Understanding",
    "answer_chat",
    "builtin_perspectives",
    "coerce_reply",
    "compose_answer",
    "explain",
    "understand",
]
