"""The Chat tab: ask Codette a mixing question through the real server, as a DAW would.

The panel owns one simulated DAW connection, named as the notebook's own
(``?client=`` :data:`~codette_lab.server.events.NOTEBOOK_CLIENT`, so the
Monitor does not count it as a DAW): what it shows is exactly what a DAW gets
back over the socket (user perspectives and their errors included). The DAW
context sent with a question is chosen and shown: none, the demo session, or
the last context a connected DAW sent. Enter or Send asks; the question goes
over the socket on a thread of its own (see :class:`~.activity.Activity`) and
the transcript is updated on the kernel's main thread.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..daw import SimulatedDAW
from ..errors import CodetteError
from ..server import ServerEvent
from ..server.events import NOTEBOOK_CLIENT
from .activity import Activity
from .mainthread import Coalescer, MainThread

if TYPE_CHECKING:
    from .interface import ClientLike, LabLike

#: How many exchanges the transcript shows.
TRANSCRIPT_LIMIT = 50

#: The context choices that are not a connected DAW's.
NO_CONTEXT, DEMO_CONTEXT = "none", "demo"


@dataclass(frozen=True)
class Exchange:
    """One question and the server's reply, with the perspective and the DAW context it was asked in."""

    perspective: str
    question: str
    context: str
    reply: dict[str, Any]


def describe_context(context: Mapping[str, Any]) -> str:
    """``4 tracks, selected Lead Vocal`` (or ``no DAW context``)."""
    if not context:
        return "no DAW context"
    tracks = context.get("tracks")
    count = f"{len(tracks)} track(s)" if isinstance(tracks, list) else "no track list"
    selected = context.get("selected_track")
    name = selected.get("track_name") if isinstance(selected, Mapping) else None
    return f"{count}, selected {name}" if name else count


class ChatPanel(widgets.VBox):
    """Perspective and context pickers, message box (Enter sends), Send, transcript. :meth:`send` is Send."""

    def __init__(self, lab: LabLike, *, main: MainThread | None = None) -> None:
        self.lab = lab
        self.main = main or MainThread()
        self.perspective = widgets.Dropdown(description="Perspective")
        self.context = widgets.Dropdown(
            description="DAW context",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="100%", max_width="420px"),
        )
        self.context_shown = widgets.HTML()
        self.message = widgets.Text(
            placeholder="Ask a mixing question, e.g. How should I EQ the lead vocal?  (Enter sends)",
            continuous_update=True,
            layout=widgets.Layout(width="100%"),
        )
        self.send_button = widgets.Button(description="Send", button_style="primary", icon="paper-plane")
        self.activity = Activity(self.main, buttons=[self.send_button, self.message])
        self.status = widgets.HTML()
        self.transcript = widgets.HTML("<i>No questions yet.</i>")
        self.exchanges: list[Exchange] = []
        self._daw: SimulatedDAW | None = None
        self._demo: SimulatedDAW | None = None
        self._lock = threading.Lock()
        self.send_button.on_click(lambda _: self.send())
        self.message.on_msg(self._on_front_end_message)
        self.context.observe(lambda _: self._show_context(), names="value")
        for widget, name in ((self.message, "message"), (self.send_button, "send"), (self.transcript, "transcript")):
            widget.add_class(f"codette-chat-{name}")
        self.refresh()
        lab.add_definition_listener(self._on_definition)
        self._follow = Coalescer(self.main, self.refresh_contexts)
        lab.events.subscribe(self._on_event)
        super().__init__(
            [
                widgets.HBox([self.perspective, self.context]),
                self.context_shown,
                widgets.HBox([self.message, self.send_button], layout=widgets.Layout(width="100%")),
                widgets.HBox([self.activity.indicator, self.status]),
                self.transcript,
            ]
        )

    # -- what can be chosen -----------------------------------------------------------------

    def refresh(self) -> None:
        self.refresh_perspectives()
        self.refresh_contexts()

    def refresh_perspectives(self) -> None:
        """Re-read the perspective list (built-in and notebook-defined), keeping the current choice."""
        names = self.lab.perspectives()
        current = self.perspective.value
        default = self.lab.default_perspective
        self.perspective.options = names
        self.perspective.value = current if current in names else default if default in names else names[0]

    def refresh_contexts(self) -> None:
        """Re-list the contexts: none, the demo session, and each connected DAW's last one (keeps the choice)."""
        options: list[tuple[str, Any]] = [("none", NO_CONTEXT), ("the demo session", DEMO_CONTEXT)]
        options += [
            (f"{_with_track(client)}: its last context", client.connection_id)
            for client in self.lab.clients.all()
            if client.last_context and not client.is_notebook
        ]
        current = self.context.value
        self.context.options = options
        values = [value for _, value in options]
        self.context.value = current if current in values else DEMO_CONTEXT
        self._show_context()

    def chosen_context(self) -> tuple[str, dict[str, Any]]:
        """The label and ``daw_context`` of the context chosen now."""
        value = self.context.value
        if value == NO_CONTEXT:
            return "none", {}
        if value == DEMO_CONTEXT:
            return "the demo session", self._demo_daw().daw_context()
        client = self.lab.clients.get(value)
        return _with_track(client), dict(client.last_context)

    def _show_context(self) -> None:
        label, context = self.chosen_context()
        self.context_shown.value = (
            f"<span style='color:#555;font-size:12px'>Sent with the question: {html.escape(label)} "
            f"({html.escape(describe_context(context))})</span>"
        )

    # -- sending ------------------------------------------------------------------------------

    def send(self, message: str | None = None, *, perspective: str | None = None) -> Future[dict[str, Any] | None]:
        """Send ``message`` (default: the message box); the future resolves with the server's reply message.

        The reply (a ``chat_response`` or an ``error``) is added to the transcript on
        the main thread. An empty message is not sent: the status line asks for one
        and the future resolves with None.
        """
        text = (self.message.value if message is None else message).strip()
        if not text:
            self._say("Type a question first.", error=True)
            done: Future[dict[str, Any] | None] = Future()
            done.set_result(None)
            return done
        chosen = perspective or self.perspective.value
        label, context = self.chosen_context()
        self._say("")
        clear_box = message is None
        return self.activity.start(
            f"Asking ({chosen})",
            lambda: self._ask(text, chosen, context),
            lambda reply: self._record(Exchange(chosen, text, label, reply), clear_box=clear_box),
            lambda error: self._record(Exchange(chosen, text, label, _error(str(error))), clear_box=False),
        )

    def _ask(self, text: str, perspective: str, context: dict[str, Any]) -> dict[str, Any]:
        """The server's reply to one question, over the panel's DAW connection (any thread; one at a time)."""
        if not self.lab.running:
            return _error(STOPPED_TEXT)
        try:
            with self._lock:
                return self._connected_daw().chat(text, perspective=perspective, daw_context=context)
        except CodetteError as exc:  # the server is not reachable: say so in the transcript
            return _error(STOPPED_TEXT if not self.lab.running else str(exc))

    def _record(self, exchange: Exchange, *, clear_box: bool) -> None:
        """On the main thread: add the exchange to the transcript; empty the box if it still holds the question."""
        self.exchanges = [*self.exchanges, exchange][-TRANSCRIPT_LIMIT:]
        answered = exchange.reply.get("type") == "chat_response"
        if clear_box and answered and self.message.value.strip() == exchange.question:
            self.message.value = ""
        self._render()

    def _on_front_end_message(self, _: Any, content: dict[str, Any], buffers: Any) -> None:
        """Enter in the message box: the front end sends ``{"event": "submit"}``."""
        if content.get("event") == "submit" and not self.activity.busy:
            self.send()

    def _on_definition(self, kind: str, name: str) -> None:
        """A perspective or analysis type was defined or removed: re-read the perspectives (keeps the choice)."""
        self.main.run(self.refresh_perspectives)

    def _on_event(self, event: ServerEvent) -> None:
        """On the server thread: a DAW came, went or chatted: re-list the contexts on the main thread."""
        if event.kind in ("connect", "disconnect") or event.message_type == "chat":
            self._follow.request()

    def close(self) -> None:
        self.lab.remove_definition_listener(self._on_definition)
        self.lab.events.unsubscribe(self._on_event)
        for daw in (self._daw, self._demo):
            if daw is not None:
                daw.close()
        self._daw = None
        super().close()

    def _demo_daw(self) -> SimulatedDAW:
        """A DAW simulator over the demo session, never connected: it only builds the demo's context."""
        if self._demo is None:
            self._demo = SimulatedDAW(self.lab.url)
        return self._demo

    def _connected_daw(self) -> SimulatedDAW:
        """The panel's DAW connection (it follows the Lab to a new URL, and reconnects after a restart)."""
        url = f"{self.lab.url}{'&' if '?' in self.lab.url else '?'}client={NOTEBOOK_CLIENT}"
        if self._daw is None or self._daw.url != url:
            if self._daw is not None:
                self._daw.close()
            self._daw = SimulatedDAW(url, name="Chat tab")
        return self._daw

    def _say(self, text: str, *, error: bool = False) -> None:
        colour = "#a00" if error else "#555"
        self.status.value = f"<span style='color:{colour}'>{html.escape(text)}</span>" if text else ""

    def _render(self) -> None:
        blocks = []
        for exchange in reversed(self.exchanges):
            reply = exchange.reply
            if reply.get("type") == "chat_response":
                answer = html.escape(reply["response"]).replace("\n", "<br>")
                meta = f"{html.escape(reply['perspective'])}, confidence {reply['confidence']:.2f}"
                body = f"<div>{answer}</div><div style='color:#777;font-size:11px'>{meta}</div>"
            else:
                body = f"<div style='color:#a00'>Error: {html.escape(str(reply.get('message')))}</div>"
            blocks.append(
                "<div style='margin:6px 0;padding:6px;border-left:3px solid #4a7;overflow-wrap:anywhere'>"
                f"<div><b>You</b> ({html.escape(exchange.perspective)}; context: "
                f"{html.escape(exchange.context)}): {html.escape(exchange.question)}</div>"
                f"<div style='margin-top:4px'><b>Codette</b>: {body}</div></div>"
            )
        self.transcript.value = "".join(blocks)


#: What Chat says when the Lab is not serving (instead of a bare ConnectionRefusedError).
STOPPED_TEXT = (
    "The Lab is stopped, so nothing can answer: run lab.start() (or the notebook's start cell) "
    "and this panel follows it."
)


def _with_track(client: ClientLike) -> str:
    """``Studio B (Bass)``: a student and the track their context was about."""
    return f"{client.name} ({client.track})" if client.track else client.name


def _error(text: str) -> dict[str, Any]:
    return {"type": "error", "message": text}
