"""Where the server answers: its HTTP paths and the URLs built from a host and port.

The one place that knows the WebSocket endpoint is ``/ws``, the health
check ``/health`` and the page ``/``: the server's routes, its ``url`` properties, the Lab and
the DAW simulator all build their addresses here.
"""

from __future__ import annotations

WEBSOCKET_PATH = "/ws"
HEALTH_PATH = "/health"
#: The join page (its assets are the other files at the root, see :mod:`.static`).
PAGE_PATH = "/"


def _authority(host: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets (``[::1]:8000``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def websocket_url(host: str, port: int, *, tls: bool = False) -> str:
    """The URL a DAW connects to: ``ws://127.0.0.1:8000/ws`` (``wss://`` with TLS)."""
    return f"{'wss' if tls else 'ws'}://{_authority(host, port)}{WEBSOCKET_PATH}"


def health_url(host: str, port: int, *, tls: bool = False) -> str:
    """The URL of the JSON health check: ``http://127.0.0.1:8000/health`` (``https://`` with TLS)."""
    return f"{'https' if tls else 'http'}://{_authority(host, port)}{HEALTH_PATH}"


def daw_url(url: str) -> str:
    """The WebSocket URL for a URL a teacher handed out: a join page's ``http(s)://host:port/?token=...``
    becomes ``ws(s)://host:port/ws?token=...`` (its query kept); a ``ws(s)://`` URL is returned as it is."""
    scheme, _, rest = url.partition("://")
    websocket = {"http": "ws", "https": "wss"}.get(scheme.lower())
    if websocket is None:
        return url
    authority, _, tail = rest.partition("/")
    path, _, query = tail.partition("?")
    if path.strip("/") not in ("", WEBSOCKET_PATH.strip("/")):
        return url
    return f"{websocket}://{authority}{WEBSOCKET_PATH}{'?' + query if query else ''}"


def page_url(host: str, port: int, *, tls: bool = False) -> str:
    """The URL of the join page: ``http://127.0.0.1:8000/`` (``https://`` with TLS)."""
    return f"{'https' if tls else 'http'}://{_authority(host, port)}{PAGE_PATH}"
