"""The plain-HTTP side of the server, decided before any WebSocket handshake.

In this order: a request with several ``Origin`` headers, or one to ``/health``
or ``/ws`` whose origin the origin policy refuses, gets 403 (the page's files
are served to any origin: they hold no secret, and a page reached by an address
the server refuses must still load to tell its student so); a request the access policy refuses (a ``Host``
that is not a loopback name on a loopback server, a missing or wrong token
off loopback, or anywhere with ``require_token``) gets 400, 401 or 403, each
naming its reason in the ``X-Codette-Refusal`` header too; then ``GET
/health`` answers JSON (as the original server did), ``/ws`` goes on to the
WebSocket handshake, and any other path is a file of the join page
(:mod:`.static`; no token needed: the page holds no secret) or 404. This is
websockets' ``process_request`` hook: returning a response ends the exchange
before any WebSocket frame, returning None lets the handshake go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import MultipleValuesError
from websockets.http11 import Request, Response

from ..protocol import encode, replies
from ..protocol.quoting import quote_client_text
from .access import REFUSAL_HEADER, REFUSED_ORIGIN, AccessPolicy
from .address import HEALTH_PATH, WEBSOCKET_PATH
from .connections import remote_host
from .origins import OriginPolicy
from .static import PageFiles

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


def _host_header(request: Request) -> str | None:
    try:
        return request.headers.get("Host")
    except MultipleValuesError:
        return None


def http_routes(
    policy: OriginPolicy,
    access: AccessPolicy,
    *,
    codette_available: Callable[[], bool],
    page: PageFiles | None = None,
) -> ProcessRequest:
    """The ``process_request`` hook for a server with these Origin and access policies, serving ``page``."""

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        path = _path(request)
        shown_path = quote_client_text(path)
        try:
            origin = request.headers.get("Origin")
        except MultipleValuesError:
            logger.info("Refused a request with several Origin headers (path %s)", shown_path)
            return connection.respond(HTTPStatus.FORBIDDEN, "Expected at most one Origin header, got several\n")
        public = path not in (WEBSOCKET_PATH, HEALTH_PATH)
        # the page's files hold no secret: served whatever the origin, so that a page reached by an address
        # the server refuses (behind a proxy) still loads, and can tell its student why it cannot connect
        if (
            origin is not None
            and not public
            and not policy.allows(origin, host_header=_host_header(request), tls=access.tls)
        ):
            logger.info("Refused a connection from origin '%s' (path %s)", quote_client_text(origin), shown_path)
            response = connection.respond(HTTPStatus.FORBIDDEN, policy.refusal(quote_client_text(origin)))
            response.headers[REFUSAL_HEADER] = REFUSED_ORIGIN
            return response
        peer = remote_host(connection)
        refused = access.refusal(peer, request, public=public)
        if refused is not None:
            logger.info("Refused a request from %s (path %s): %s", peer, shown_path, refused.body.strip())
            response = connection.respond(refused.status, refused.body)
            response.headers[REFUSAL_HEADER] = refused.kind
            if refused.status is HTTPStatus.UNAUTHORIZED:
                response.headers["WWW-Authenticate"] = 'Bearer realm="codette"'
            return response
        if path == WEBSOCKET_PATH:
            return None
        if path == HEALTH_PATH:
            body = encode(replies.health(codette_available=codette_available()))
            return _json_response(connection, body, origin=origin)
        if page is not None:
            try:
                if_none_match = request.headers.get("If-None-Match")
            except MultipleValuesError:
                if_none_match = None
            served = page.response(path, if_none_match)
            if served is not None:
                return served
        return connection.respond(
            HTTPStatus.NOT_FOUND,
            f"Not found: {shown_path} (WebSocket at {WEBSOCKET_PATH}, health at {HEALTH_PATH}, page at /)\n",
        )

    return process_request
