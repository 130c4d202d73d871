"""The built-in perspectives: one knowledge base told from five angles, plus ``teaching`` for students."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..knowledge import KnowledgeBase
from ..registry import Registry
from .compose import compose_answer
from .reply import ChatReply
from .teaching import TEACHING_PERSPECTIVE, teach

if TYPE_CHECKING:
    from .context import ChatContext

#: The perspectives told from the knowledge entries' texts (``facets``), in the order they are listed.
FACET_PERSPECTIVES = (
    "mix_engineering",
    "audio_theory",
    "creative_production",
    "technical_troubleshooting",
    "workflow_optimization",
)

#: Every built-in perspective: the facet ones, then ``teaching``.
BUILTIN_PERSPECTIVES = (*FACET_PERSPECTIVES, TEACHING_PERSPECTIVE)


def builtin_answer(context: ChatContext, perspective: str) -> ChatReply:
    """The answer the built-in perspective ``perspective`` gives to ``context``."""
    if perspective == TEACHING_PERSPECTIVE:
        return teach(context)
    return compose_answer(context, perspective=perspective)


def _builtin_perspective(name: str, description: str) -> Callable[[ChatContext], ChatReply]:
    def perspective(context: ChatContext) -> ChatReply:
        return builtin_answer(context, name)

    perspective.__name__ = perspective.__qualname__ = name
    perspective.__doc__ = description
    return perspective


def builtin_perspectives(knowledge: KnowledgeBase | None = None) -> Registry:
    """A fresh registry of the built-in perspectives (default ``mix_engineering``)."""
    knowledge = knowledge or KnowledgeBase.builtin()
    registry = Registry("perspective", default="mix_engineering")
    descriptions = {name: knowledge.perspectives[name]["description"] for name in FACET_PERSPECTIVES}
    descriptions[TEACHING_PERSPECTIVE] = knowledge.teaching.description
    for name in BUILTIN_PERSPECTIVES:
        description = descriptions[name]
        registry.register(name, _builtin_perspective(name, description), description=description, builtin=True)
    return registry
