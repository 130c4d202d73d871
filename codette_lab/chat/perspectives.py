"""The five built-in perspectives: one knowledge base, told from five angles."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..knowledge import KnowledgeBase
from ..registry import Registry
from .compose import compose_answer
from .reply import ChatReply

if TYPE_CHECKING:
    from .context import ChatContext

#: The built-in perspectives, in the order they are listed.
BUILTIN_PERSPECTIVES = (
    "mix_engineering",
    "audio_theory",
    "creative_production",
    "technical_troubleshooting",
    "workflow_optimization",
)


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
