"""The Codette engine: turns requests into replies, with no server in sight.

One :class:`Engine` holds everything that decides an answer: the mixing
knowledge base and conversation memory (chat), the perspectives and analysis
types (two :class:`~codette_lab.registry.Registry` tables a notebook can
extend live) and the rule set (the tunable heuristics). The server only moves
text between sockets and :meth:`Engine.handle`; a notebook or a test calls
:meth:`Engine.chat`, :meth:`Engine.respond` or :meth:`Engine.handle` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from os import PathLike
from typing import Any, NamedTuple

from . import protocol
from .analysis_types import builtin_analysis_types, run_analysis
from .audio_input import AudioRoots
from .chat import ChatReply, answer_chat, builtin_perspectives
from .errors import CodetteError
from .knowledge import KnowledgeBase
from .memory import ConversationMemory
from .protocol import AnalyzeRequest, ChatRequest, PingRequest, Request, StatusRequest, replies
from .registry import Entry
from .rules import RuleSet

#: How many chat turns the conversation memory keeps (across all connections).
DEFAULT_MEMORY_LIMIT = 1000

#: The session name used for calls made from Python rather than from a connection.
NOTEBOOK_SESSION = "notebook"


class Job(NamedTuple):
    """A parsed request bound, once, to the function that will answer it.

    The server decides from a job whether to answer on the event loop or in a
    worker, and whether the time limit applies; the same job is then run. A
    notebook redefining a perspective in between cannot make its code run on
    the event loop, because the decision and the call use the same entry.
    (A NamedTuple: one is made per message, and tuples are the cheapest to build.)
    """

    request: Request
    entry: Entry | None = None

    @property
    def runs_user_code(self) -> bool:
        """True when a function defined in a notebook answers: held to the server's per-request time limit."""
        return self.entry is not None and not self.entry.builtin

    @property
    def needs_worker(self) -> bool:
        """True when answering may take long (audio, or code from a notebook): run it off the event loop."""
        return isinstance(self.request, AnalyzeRequest) or self.runs_user_code

    @property
    def label(self) -> str:
        """Who answers, for error texts: ``perspective 'x' (function f)``."""
        return self.entry.label if self.entry is not None else f"the {type(self.request).__name__} handler"


class Engine:
    """Answers chat, status, ping and analyze requests.

    ``rules`` is a :class:`RuleSet`, a path to an exported rule file, or None
    for the built-in rules; ``audio_roots`` are the folders whose files an
    ``analyze`` request may name (default: the project's ``data/``).
    """

    def __init__(
        self,
        *,
        rules: RuleSet | str | PathLike[str] | None = None,
        audio_roots: Iterable[str | PathLike[str]] | None = None,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        self.knowledge = KnowledgeBase.builtin()
        self.memory = ConversationMemory(limit=memory_limit)
        self.perspectives = builtin_perspectives()
        self.analysis_types = builtin_analysis_types()
        self.rules = rules if isinstance(rules, RuleSet) else RuleSet.load(rules) if rules else RuleSet.default()
        self.audio_roots = AudioRoots(audio_roots)
        self._handlers: dict[type, Callable[..., protocol.replies.Message]] = {
            PingRequest: self._pong,
            StatusRequest: self._status,
            ChatRequest: self._chat,
            AnalyzeRequest: self._analyze,
        }

    @property
    def engine_type(self) -> str:
        """What ``status_response.engine_type`` reports: this engine's class."""
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}"

    # -- the protocol entry points -------------------------------------------------

    def prepare(self, request: Request) -> Job:
        """Bind ``request`` to the function that will answer it (see :class:`Job`)."""
        return Job(request, self._entry_for(request))

    def handle(
        self, request: Request | Job, *, session: str = NOTEBOOK_SESSION, active_connections: int = 0
    ) -> replies.Message:
        """The reply message to one parsed request. Raises CodetteError for requests it cannot answer."""
        job = request if isinstance(request, Job) else self.prepare(request)
        handler = self._handlers[type(job.request)]
        return handler(job, session=session, active_connections=active_connections)

    def respond(
        self, text: str | bytes, *, session: str = NOTEBOOK_SESSION, active_connections: int = 0
    ) -> replies.Message:
        """The reply to one raw text frame, as the server would send it (errors included)."""
        try:
            request = protocol.parse_request(text)
            return self.handle(request, session=session, active_connections=active_connections)
        except CodetteError as exc:
            return replies.error(str(exc))

    def _entry_for(self, request: Request) -> Entry | None:
        """The registered function that answers a chat or analyze request; None for others or unknown names."""
        try:
            if isinstance(request, ChatRequest):
                return self.perspectives.resolve(request.perspective or self.perspectives.default)
            if isinstance(request, AnalyzeRequest):
                return self.analysis_types.resolve(request.analysis_type)
        except CodetteError:
            pass
        return None

    # -- Python-side conveniences -------------------------------------------------

    def chat(
        self,
        message: str,
        *,
        perspective: str | None = None,
        daw_context: Mapping[str, Any] | None = None,
        session: str = NOTEBOOK_SESSION,
    ) -> ChatReply:
        """Ask a mixing question from Python; the same answer a DAW would get."""
        request = ChatRequest(message=message, perspective=perspective, daw_context=dict(daw_context or {}))
        return answer_chat(
            request,
            session=session,
            perspectives=self.perspectives,
            knowledge=self.knowledge,
            memory=self.memory,
        )

    # -- handlers, one per request type ---------------------------------------------

    def _pong(self, job: Job, **_: Any) -> replies.Message:
        return replies.pong()

    def _status(self, job: Job, *, active_connections: int, **_: Any) -> replies.Message:
        return replies.status_response(
            codette_available=True,
            engine_type=self.engine_type,
            memory_size=len(self.memory),
            active_connections=active_connections,
        )

    def _chat(self, job: Job, *, session: str, **_: Any) -> replies.Message:
        reply = answer_chat(
            job.request,
            session=session,
            perspectives=self.perspectives,
            knowledge=self.knowledge,
            memory=self.memory,
            entry=job.entry,
        )
        return reply.to_message()

    def _analyze(self, job: Job, **_: Any) -> replies.Message:
        analysis = run_analysis(
            job.request,
            analysis_types=self.analysis_types,
            rules=self.rules,
            audio_roots=self.audio_roots,
            entry=job.entry,
        )
        return replies.analysis_response(track_id=job.request.track.track_id, analysis=analysis.to_wire())
