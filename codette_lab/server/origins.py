"""Which web pages may open a WebSocket to the server (the handshake's ``Origin`` header).

Browsers let any page open a WebSocket to localhost, so a page on the open web
could drive a local Codette server. Clients that send no Origin (native DAWs,
scripts), pages served from this machine, and the server's own join page
(same origin: the scheme, host and port the request itself was sent to, as in
``http://192.168.1.20:8000``) are let in; any other origin must be listed
explicitly (``--allow-origin``), or ``"*"`` opens the door to all.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
WEB_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
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


def _scheme_host_port(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(origin.strip())
        scheme = parts.scheme.lower()
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in WEB_SCHEMES or not parts.hostname or port is None:
        return None
    return scheme, parts.hostname, port


def is_same_origin(origin: str, *, host_header: str | None, tls: bool) -> bool:
    """True when ``origin`` is the server itself as this request reached it: the same scheme and the
    host and port of the request's ``Host`` header (a page the server served, opening its WebSocket)."""
    if not host_header:
        return False
    own = _scheme_host_port(f"{'https' if tls else 'http'}://{host_header.strip()}")
    return own is not None and _scheme_host_port(origin) == own


class OriginPolicy:
    """Decides whether a handshake's Origin is accepted; ``allowed`` adds exact origins or ``"*"``."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = tuple(allowed)
        self._exact = frozenset(_normalise(origin) for origin in self.allowed)
        self._any = ANY_ORIGIN in self._exact

    def allows(self, origin: str | None, *, host_header: str | None = None, tls: bool = False) -> bool:
        """Whether a request with ``origin``, sent to ``host_header`` (over TLS or not), is let in."""
        if origin is None or self._any:
            return True
        if is_local_origin(origin) or _normalise(origin) in self._exact:
            return True
        return is_same_origin(origin, host_header=host_header, tls=tls)

    def refusal(self, origin: str) -> str:
        """The body of the 403 reply: what was refused and how to allow it."""
        return (
            f"Origin {origin!r} is not allowed to connect to this Codette server. "
            f"Pages from localhost and the server's own page are; start the server with --allow-origin {origin} "
            f"(or allowed_origins=[{origin!r}]) to let this one in.\n"
        )
