"""The Chat tab: ask Codette a mixing question through the real server, as a DAW would.

The panel owns one simulated DAW connection, so what it shows is exactly what
a DAW gets back over the socket (user perspectives and their errors included).
A Send click may arrive on a comm subshell thread: the question then goes over
the socket on that thread (the kernel's main thread stays free for cells) and
the transcript is updated on the main thread, like every other panel's widgets.
"""

from __future__ import annotations

import html
import threading
from functools import partial
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..daw import SimulatedDAW
from ..errors import CodetteError
from .mainthread import MainThread

if TYPE_CHECKING:
    from .interface import LabLike

#: How many exchanges the transcript shows.
TRANSCRIPT_LIMIT = 50


class ChatPanel(widgets.VBox):
    """Perspective dropdown, message box, Send, transcript. :meth:`send` is the Send button."""

    def __init__(self, lab: LabLike, *, main: MainThread | None = None) -> None:
        self.lab = lab
        self.main = main or MainThread()
        self.perspective = widgets.Dropdown(description="Perspective")
        self.message = widgets.Textarea(
            placeholder="Ask a mixing question, e.g. How should I EQ the lead vocal?",
            layout=widgets.Layout(width="100%", height="60px"),
        )
        self.send_button = widgets.Button(description="Send", button_style="primary", icon="paper-plane")
        self.transcript = widgets.HTML("<i>No questions yet.</i>")
        self.exchanges: list[tuple[str, str, dict[str, Any]]] = []
        self._daw: SimulatedDAW | None = None
        self._lock = threading.Lock()
        self.send_button.on_click(lambda _: self.send())
        self.message.add_class("codette-chat-message")
        self.send_button.add_class("codette-chat-send")
        self.transcript.add_class("codette-chat-transcript")
        self.refresh_perspectives()
        lab.add_definition_listener(self._on_definition)
        super().__init__([self.perspective, self.message, self.send_button, self.transcript])

    def _on_definition(self, kind: str, name: str) -> None:
        """A perspective or analysis type was defined or removed: re-read the perspectives (keeps the choice)."""
        self.main.run(self.refresh_perspectives)

    def refresh_perspectives(self) -> None:
        """Re-read the perspective list (built-in and notebook-defined), keeping the current choice."""
        names = self.lab.perspectives()
        current = self.perspective.value
        default = self.lab.default_perspective
        self.perspective.options = names
        self.perspective.value = current if current in names else default if default in names else names[0]

    def send(self, message: str | None = None, *, perspective: str | None = None) -> dict[str, Any]:
        """Send ``message`` (default: the message box) and return the server's reply message.

        The reply (a ``chat_response`` or an ``error``) is added to the transcript.
        Called on the kernel's main thread (a cell, a test) that is done before
        returning; called elsewhere (a Send click on a comm subshell) the round
        trip runs on the calling thread and the transcript update is handed to
        the main thread, so it may show up just after this returns.
        """
        if self.main.is_current():
            self.refresh_perspectives()
        text = (self.message.value if message is None else message).strip()
        chosen = perspective or self.perspective.value
        reply = self._ask(text, chosen)
        self.main.run(partial(self._record, chosen, text, reply, clear_box=message is None))
        return reply

    def _ask(self, text: str, perspective: str) -> dict[str, Any]:
        """The server's reply to one question, over the panel's DAW connection (any thread; one at a time)."""
        if not text:
            return {"type": "error", "message": "Type a question first."}
        try:
            with self._lock:
                return self._connected_daw().chat(text, perspective=perspective)
        except CodetteError as exc:  # the server is not reachable: say so in the transcript
            return {"type": "error", "message": str(exc)}

    def _record(self, perspective: str, text: str, reply: dict[str, Any], *, clear_box: bool) -> None:
        """On the main thread: add the exchange to the transcript; empty the box if it still holds the question."""
        self.exchanges = [*self.exchanges, (perspective, text, reply)][-TRANSCRIPT_LIMIT:]
        if clear_box and reply.get("type") == "chat_response" and self.message.value.strip() == text:
            self.message.value = ""
        self._render()

    def close(self) -> None:
        self.lab.remove_definition_listener(self._on_definition)
        if self._daw is not None:
            self._daw.close()
            self._daw = None
        super().close()

    def _connected_daw(self) -> SimulatedDAW:
        """The panel's DAW connection (it reconnects by itself after a server restart on the same URL)."""
        if self._daw is None or self._daw.url != self.lab.url:
            if self._daw is not None:
                self._daw.close()
            self._daw = SimulatedDAW(self.lab.url, name="chat panel")
        return self._daw

    def _render(self) -> None:
        blocks = []
        for perspective, question, reply in reversed(self.exchanges):
            if reply.get("type") == "chat_response":
                answer = html.escape(reply["response"]).replace("\n", "<br>")
                meta = f"{html.escape(reply['perspective'])}, confidence {reply['confidence']:.2f}"
                body = f"<div>{answer}</div><div style='color:#777;font-size:11px'>{meta}</div>"
            else:
                body = f"<div style='color:#a00'>Error: {html.escape(str(reply.get('message')))}</div>"
            blocks.append(
                "<div style='margin:6px 0;padding:6px;border-left:3px solid #4a7'>"
                f"<div><b>You</b> ({html.escape(perspective)}): {html.escape(question)}</div>"
                f"<div style='margin-top:4px'><b>Codette</b>: {body}</div></div>"
            )
        self.transcript.value = "".join(blocks)
