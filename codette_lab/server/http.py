"""The plain-HTTP side of the server, decided before any WebSocket handshake.

A request carrying a refused Origin gets 403 whatever its path; otherwise
``GET /health`` answers JSON (as the original server did), ``/ws`` goes on to
the WebSocket handshake, and every other path is 404.
This is websockets' ``process_request`` hook: returning a response ends the
exchange, returning None lets the handshake go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from ..protocol import encode, replies
from .address import HEALTH_PATH, WEBSOCKET_PATH
from .origins import OriginPolicy

logger = logging.getLogger("codette_lab.server")

ProcessRequest = Callable[[ServerConnection, Request], Response | None]


def _path(request: Request) -> str:
    return request.path.split("?", 1)[0]


def _json_response(connection: ServerConnection, body: str, *, origin: str | None) -> Response:
    response = connection.respond(HTTPStatus.OK, body)
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    response.headers["Cache-Control"] = "no-store"
    if origin is not None:  # only reached for origins the policy allows: let their pages read it
        response.headers["Access-Control-Allow-Origin"] = origin
    return response


def http_routes(policy: OriginPolicy, *, codette_available: Callable[[], bool]) -> ProcessRequest:
    """The ``process_request`` hook for a server with this Origin policy."""

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        path = _path(request)
        origin = request.headers.get("Origin")
        if origin is not None and not policy.allows(origin):
            logger.info("Refused a connection from origin %r (path %s)", origin, path)
            return connection.respond(HTTPStatus.FORBIDDEN, policy.refusal(origin))
        if path == WEBSOCKET_PATH:
            return None
        if path == HEALTH_PATH:
            body = encode(replies.health(codette_available=codette_available()))
            return _json_response(connection, body, origin=origin)
        return connection.respond(
            HTTPStatus.NOT_FOUND, f"Not found: {path} (WebSocket at {WEBSOCKET_PATH}, health at {HEALTH_PATH})\n"
        )

    return process_request
