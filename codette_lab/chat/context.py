"""What a perspective function receives: the question, the DAW's state, memory, knowledge and rules."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..knowledge import KnowledgeBase, Ranking
from ..memory import Turn
from ..rules import RuleSnapshot
from .daw import DawContext
from .perspectives import BUILTIN_PERSPECTIVES, builtin_answer
from .reply import ChatReply
from .understanding import Understanding, understand


@dataclass(frozen=True)
class ChatContext:
    """Everything a perspective function gets: ``def my_view(context): return "..."``.

    - ``message``: the question as the DAW sent it.
    - ``perspective``: the name the request resolved to.
    - ``daw_context``: a :class:`DawContext` (``.tracks``, ``.selected_track``, ``.track_count``, ``.raw``).
    - ``memory``: this session's recent :class:`~codette_lab.memory.Turn` objects, oldest first.
    - ``session``: which connection (or ``"notebook"``) is asking.
    - ``knowledge``: the :class:`~codette_lab.knowledge.KnowledgeBase`, to ``search`` it yourself.
    - ``rules``: the engine's :class:`~codette_lab.rules.RuleSnapshot` when the request came in (the
      thresholds built-in answers judge the selected track's levels by).
    - ``understanding``: the question resolved against memory and DAW (computed on first use).
    """

    message: str
    perspective: str
    daw_context: DawContext
    memory: tuple[Turn, ...]
    session: str
    knowledge: KnowledgeBase
    rules: RuleSnapshot

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
        return builtin_answer(self, name)
