"""Which web pages may open a WebSocket to the server (the handshake's ``Origin`` header).

Browsers let any page open a WebSocket to localhost, so a page on the open web
could drive a local Codette server. Clients that send no Origin (native DAWs,
scripts) and pages served from this machine are let in; any other origin must
be listed explicitly (``--allow-origin``), or ``"*"`` opens the door to all.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
WEB_SCHEMES = frozenset({"http", "https"})
ANY_ORIGIN = "*"


def _normalise(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def is_local_origin(origin: str) -> bool:
    """True for ``http(s)://localhost``, ``127.0.0.1`` or ``[::1]``, on any port."""
    try:
        parts = urlsplit(origin.strip())
        hostname, _ = parts.hostname, parts.port  # .port raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and hostname in LOCAL_HOSTS


class OriginPolicy:
    """Decides whether a handshake's Origin is accepted; ``allowed`` adds exact origins or ``"*"``."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = tuple(allowed)
        self._exact = frozenset(_normalise(origin) for origin in self.allowed)
        self._any = ANY_ORIGIN in self._exact

    def allows(self, origin: str | None) -> bool:
        if origin is None or self._any:
            return True
        return is_local_origin(origin) or _normalise(origin) in self._exact

    def refusal(self, origin: str) -> str:
        """The body of the 403 reply: what was refused and how to allow it."""
        return (
            f"Origin {origin!r} is not allowed to connect to this Codette server. "
            f"Pages from localhost are; start the server with --allow-origin {origin} "
            f"(or allowed_origins=[{origin!r}]) to let this one in.\n"
        )
