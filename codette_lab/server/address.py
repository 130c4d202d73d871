"""Where the server answers: its two HTTP paths and the URLs built from a host and port.

The one place that knows the WebSocket endpoint is ``/ws`` and the health
check ``/health``: the server's routes, its ``url`` properties, the Lab and
the DAW simulator all build their addresses here.
"""

from __future__ import annotations

WEBSOCKET_PATH = "/ws"
HEALTH_PATH = "/health"


def _authority(host: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets (``[::1]:8000``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def websocket_url(host: str, port: int) -> str:
    """The URL a DAW connects to: ``ws://127.0.0.1:8000/ws``."""
    return f"ws://{_authority(host, port)}{WEBSOCKET_PATH}"


def health_url(host: str, port: int) -> str:
    """The URL of the JSON health check: ``http://127.0.0.1:8000/health``."""
    return f"http://{_authority(host, port)}{HEALTH_PATH}"
