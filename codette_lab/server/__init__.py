"""The Codette WebSocket server: ``serve()`` on any asyncio loop, ``BackgroundServer`` inside a kernel.

It only moves text between sockets and an :class:`~codette_lab.engine.Engine`;
``/health`` answers JSON, other HTTP paths 404, web pages from anywhere but
localhost are refused unless allowed (see :mod:`.origins`), and off loopback a
client needs the server's token (see :mod:`.access`). What it holds at once is
bounded (see :mod:`.limits`).
"""

from .address import HEALTH_PATH, PAGE_PATH, WEBSOCKET_PATH, health_url, page_url, websocket_url
from .background import BackgroundServer, running_servers
from .core import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_REQUEST_TIMEOUT, CodetteServer, serve
from .events import EVENT_KINDS, ConnectionInfo, ServerEvent
from .origins import OriginPolicy, is_local_origin

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_REQUEST_TIMEOUT",
    "EVENT_KINDS",
    "HEALTH_PATH",
    "PAGE_PATH",
    "WEBSOCKET_PATH",
    "BackgroundServer",
    "CodetteServer",
    "ConnectionInfo",
    "OriginPolicy",
    "ServerEvent",
    "health_url",
    "is_local_origin",
    "page_url",
    "running_servers",
    "serve",
    "websocket_url",
]
