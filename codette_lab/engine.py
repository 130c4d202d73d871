"""The Codette engine: turns text frames into reply messages, with no server in sight.

One :class:`Engine` holds everything that decides an answer: the mixing
knowledge base and conversation memory (chat), the perspectives and analysis
types (two :class:`~codette_lab.registry.Registry` tables a notebook can
extend live) and the rule set (the tunable heuristics).

It is also the one frame-to-reply pipeline, free of I/O: :meth:`Engine.receive`
turns a frame into a :class:`Job`, :meth:`Engine.answer` turns a job into a
reply message, and :func:`failure_of` turns whatever either raised into the
``error`` reply (``Processing error: ...`` for our own bugs).
:meth:`Engine.respond` chains the three; the server calls them one by one,
since it decides where each step runs and how long it may take.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from types import MappingProxyType
from typing import Any, NamedTuple, cast

from .analysis_types import answer_analyze, builtin_analysis_types
from .attached_audio import parse_with_audio
from .audio_input import DEFAULT_MAX_AUDIO_SECONDS, AudioRoots, DecodedAudio
from .chat import ChatReply, answer_chat, builtin_perspectives
from .errors import CodetteError, RequestTimeoutError, UserCodeError
from .knowledge import KnowledgeBase
from .memory import ConversationMemory
from .protocol import AnalyzeRequest, ChatRequest, PingRequest, Request, StatusRequest, parse_request, replies
from .protocol.attachments import is_attachment_frame
from .protocol.quoting import printable
from .registry import Entry, Registry
from .rules import RuleSet

logger = logging.getLogger("codette_lab.engine")

#: How many chat turns the conversation memory keeps (across all connections).
DEFAULT_MEMORY_LIMIT = 1000

#: The session name used for calls made from Python rather than from a connection.
NOTEBOOK_SESSION = "notebook"

#: Chat messages longer than this (characters) are answered off the event loop: understanding
#: one is linear in its length, but a long one would still hold every other connection up.
INLINE_CHAT_LIMIT = 2000
#: Chats whose ``daw_context`` lists more tracks than this are answered off the event loop too: each listed
#: track is read, and a session review judges each one's levels (about half a millisecond a track).
INLINE_CHAT_TRACKS = 32

#: An absolute path in an exception's text (``/home/x/data/a.wav``); error replies show only its last part.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s'\"/:]+/)+([^\s'\"/:]*)")


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
    #: Audio already decoded from the request's ``samples`` (by field), which the request then no longer holds.
    decoded: DecodedAudio = MappingProxyType({})

    @property
    def message_type(self) -> str:
        """The request's wire ``type`` (``chat``, ``analyze``, ...)."""
        return self.request.TYPE

    @property
    def runs_user_code(self) -> bool:
        """True when a function defined in a notebook answers: held to the server's per-request time limit."""
        return self.entry is not None and not self.entry.builtin

    @property
    def needs_worker(self) -> bool:
        """True when answering may take long (audio, or code from a notebook): run it off the event loop.

        A built-in analysis of the levels a DAW reported takes a fraction of a millisecond: it is answered
        inline, as a ping is, and saves the hand-over to a worker thread (about a fifth of its round trip).
        """
        request = self.request
        if isinstance(request, ChatRequest):
            tracks = request.daw_context.get("tracks")
            many = isinstance(tracks, list) and len(tracks) > INLINE_CHAT_TRACKS
            return self.runs_user_code or many or len(request.message) > INLINE_CHAT_LIMIT
        if isinstance(request, AnalyzeRequest):
            audio = bool(self.decoded) or request.audio.has_audio or request.other_track is not None
            return audio or self.runs_user_code
        return self.runs_user_code

    @property
    def label(self) -> str:
        """Who answers, for error texts: ``perspective 'x' (function f)``."""
        return self.entry.label if self.entry is not None else f"the {type(self.request).__name__} handler"


#: A function called with every job, and the session that sent it, before the job is answered.
RequestHook = Callable[[Job, str], object]


@dataclass(frozen=True)
class Failure:
    """Why a frame got an ``error`` reply: the reply's text, and what a server reports about it.

    ``by_user_code`` is True when a function defined in a notebook raised or
    returned something unusable; ``traceback`` says where, when known (for a
    request past its time limit: where its worker thread was still running);
    ``bug`` is True for an exception of our own code, which the DAW sees as
    ``Processing error: ...``.
    """

    text: str
    by_user_code: bool = False
    traceback: str = ""
    bug: bool = False

    def reply(self) -> replies.Message:
        return replies.error(self.text)


def failure_of(exc: Exception) -> Failure:
    """The one mapping from an exception raised while answering a frame to its ``error`` reply.

    Its text is safe to send and to log: control characters escaped, length capped (client text in
    it is clipped where it is quoted), and for our own bugs no absolute path of the server's files.
    """
    if isinstance(exc, UserCodeError):
        return Failure(printable(str(exc)), by_user_code=True, traceback=exc.traceback)
    if isinstance(exc, RequestTimeoutError):
        return Failure(printable(str(exc)), traceback=exc.stack)
    if isinstance(exc, CodetteError):
        return Failure(printable(str(exc)))
    text = _ABSOLUTE_PATH.sub(r"\1", f"Processing error: {type(exc).__name__}: {exc}")
    return Failure(printable(text), traceback="".join(traceback.format_exception(exc)), bug=True)


def offered(registry: Registry) -> list[dict[str, str]]:
    """What a registry offers right now (built-ins, then notebook definitions), as ``status_response``
    lists it: ``{"name", "description"}`` each, so a page's pickers come from the server."""
    return [{"name": entry.name, "description": entry.description} for entry in registry]


class Engine:
    """Answers chat, status, ping and analyze requests.

    ``rules`` is a :class:`RuleSet`, a path to an exported rule file, or None
    for the built-in rules; ``audio_roots`` are the folders whose files an
    ``analyze`` request may name (default: the demo session's folder).
    """

    def __init__(
        self,
        *,
        rules: RuleSet | str | PathLike[str] | None = None,
        audio_roots: Iterable[str | PathLike[str]] | None = None,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        max_audio_seconds: float = DEFAULT_MAX_AUDIO_SECONDS,
    ) -> None:
        self.knowledge = KnowledgeBase.builtin()
        self.memory = ConversationMemory(limit=memory_limit)
        self.perspectives = builtin_perspectives()
        self.analysis_types = builtin_analysis_types()
        self.rules = rules if isinstance(rules, RuleSet) else RuleSet.load(rules) if rules else RuleSet.default()
        self.audio_roots = AudioRoots(audio_roots, max_seconds=max_audio_seconds)
        self._hooks: tuple[RequestHook, ...] = ()
        #: The handler of each request type, by its wire name.
        self._handlers: dict[str, Callable[..., replies.Message]] = {
            PingRequest.TYPE: self._pong,
            StatusRequest.TYPE: self._status,
            ChatRequest.TYPE: self._chat,
            AnalyzeRequest.TYPE: self._analyze,
        }

    @property
    def engine_type(self) -> str:
        """What ``status_response.engine_type`` reports: this engine's class."""
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}"

    # -- the pipeline: frame -> Job -> reply ---------------------------------------

    def receive(self, frame: str | bytes) -> Job:
        """The job for one frame; raises ProtocolError naming what is wrong with it. A binary frame with
        attached audio files (see :mod:`codette_lab.protocol.attachments`) is decoded here, in full."""
        if is_attachment_frame(frame):
            return self.prepare(*parse_with_audio(frame, max_seconds=self.audio_roots.max_seconds))
        return self.prepare(parse_request(frame))

    def prepare(self, request: Request, decoded: DecodedAudio | None = None) -> Job:
        """Bind ``request`` to the function that will answer it (see :class:`Job`), with any audio
        already decoded from its samples (see :func:`~codette_lab.audio_input.parse_with_samples`)."""
        return Job(request, self._entry_for(request), decoded or {})

    def answer(
        self, job: Job | Request, *, session: str = NOTEBOOK_SESSION, active_connections: int = 0
    ) -> replies.Message:
        """The reply message to one job (or parsed request), after the request hooks saw it.

        Raises CodetteError for a request it cannot answer (see :func:`failure_of`).
        """
        job = job if isinstance(job, Job) else self.prepare(job)
        for hook in self._hooks:
            try:
                hook(job, session)
            except Exception:  # watching requests must never fail one
                logger.exception("Request hook %r failed on a %s request", hook, job.message_type)
        handler = self._handlers[job.message_type]
        return handler(job, session=session, active_connections=active_connections)

    def respond(
        self, frame: str | bytes, *, session: str = NOTEBOOK_SESSION, active_connections: int = 0
    ) -> replies.Message:
        """The reply to one raw text frame, as the server would send it (errors included)."""
        try:
            return self.answer(self.receive(frame), session=session, active_connections=active_connections)
        except Exception as exc:  # every failure, our own bugs included, is an error reply
            return failure_of(exc).reply()

    def add_request_hook(self, hook: RequestHook) -> None:
        """Call ``hook(job, session)`` for every request before it is answered.

        It runs on the thread that answers the request (the server's loop or
        one of its workers, possibly several at once), so it must be quick and
        thread-safe; one that raises is logged and the request answered anyway.
        """
        if not callable(hook):
            raise TypeError(f"a request hook must be callable, got {type(hook).__name__}")
        self._hooks = (*self._hooks, hook)

    def remove_request_hook(self, hook: RequestHook) -> None:
        """Stop calling ``hook`` (no error if it was not added)."""
        self._hooks = tuple(h for h in self._hooks if h is not hook)

    def _entry_for(self, request: Request) -> Entry | None:
        """The registered function that answers a chat or analyze request; None for others or unknown names."""
        try:
            if isinstance(request, ChatRequest):
                return self.perspectives.resolve(request.perspective or self.perspectives.default or "")
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
            rules=self.rules.snapshot(),
        )

    # -- handlers, one per request type ---------------------------------------------

    def _pong(self, job: Job, **_: Any) -> replies.Message:
        return replies.pong()

    def _status(self, job: Job, *, active_connections: int, **_: Any) -> replies.Message:
        rules = self.rules.snapshot()  # one state: its source and identity agree
        return replies.status_response(
            codette_available=True,
            engine_type=self.engine_type,
            memory_size=len(self.memory),
            active_connections=active_connections,
            rules={"source": rules.document.source, "identity": rules.identity},
            perspectives=offered(self.perspectives),
            analysis_types=offered(self.analysis_types),
        )

    def _chat(self, job: Job, *, session: str, **_: Any) -> replies.Message:
        reply = answer_chat(
            cast(ChatRequest, job.request),
            session=session,
            perspectives=self.perspectives,
            knowledge=self.knowledge,
            memory=self.memory,
            rules=self.rules.snapshot(),
            entry=job.entry,
        )
        return reply.to_message()

    def _analyze(self, job: Job, **_: Any) -> replies.Message:
        request = cast(AnalyzeRequest, job.request)
        analysis = answer_analyze(
            request,
            analysis_types=self.analysis_types,
            rules=self.rules,
            audio_roots=self.audio_roots,
            entry=job.entry,
            decoded=job.decoded,
        )
        return replies.analysis_response(track_id=request.track.track_id, analysis=analysis.to_wire())
