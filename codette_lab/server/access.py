"""Who may talk to the server: the token required off loopback, and the Host names a loopback server answers.

Bound to loopback (the default), only this machine can connect, so no token
is needed; but a web page can point a DNS name it controls at 127.0.0.1 (DNS
rebinding), so requests whose ``Host`` is not a loopback name are refused.

Bound to any other address, everything on the network can connect: a client
must then send the server's token, as the query parameter ``token`` of the
WebSocket URL (``ws://192.168.1.20:8000/ws?token=...``, the *join URL*) or as
``Authorization: Bearer <token>``. The token is given (``token=``,
``--token``, or the ``CODETTE_TOKEN`` environment variable) or generated at
start. Clients on the server's own machine that name it by a loopback name
(``ws://localhost:8000/ws``) need none, so the protocol document's clients
work unchanged there. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import socket
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers, MultipleValuesError
from websockets.http11 import Request

from ..protocol.quoting import quote_client_text
from .address import WEBSOCKET_PATH, websocket_url

#: The environment variable a token may come from when none is given.
TOKEN_ENVIRONMENT_VARIABLE = "CODETTE_TOKEN"
#: The join URL's query parameter holding the token.
TOKEN_PARAMETER = "token"
#: Random bytes in a generated token (shown as URL-safe base64).
TOKEN_BYTES = 18

LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})
#: Bind addresses meaning "every interface".
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


def is_loopback_name(host: str) -> bool:
    """True for ``localhost`` (and ``*.localhost``), ``127.x.x.x`` and ``::1``, with or without brackets."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1, as a dual-stack socket reports it
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def host_name(header: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:8000`` -> ``::1``, ``example.org:80`` -> ``example.org``."""
    try:
        return urlsplit(f"//{header.strip()}").hostname or ""
    except ValueError:
        return header


def machine_address() -> str:
    """This machine's address on its network, as students would type it (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a UDP "connect" only picks the route's source address
            return str(probe.getsockname()[0])
        except OSError:
            pass
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return socket.gethostname()


class AccessPolicy:
    """The token and Host rules of one server bound to ``host`` (see the module's docstring)."""

    def __init__(self, host: str, token: str | None = None) -> None:
        self.host = host
        self.loopback_only = is_loopback_name(host)
        given = token or os.environ.get(TOKEN_ENVIRONMENT_VARIABLE) or None  # an empty token is no token
        #: True when the token was made up at start (it must then be shown to the teacher).
        self.generated = given is None and not self.loopback_only
        self.token: str | None = secrets.token_urlsafe(TOKEN_BYTES) if self.generated else given
        self._token_bytes = self.token.encode("utf-8") if self.token is not None else b""

    def join_address(self) -> str:
        """The address students connect to: the bound one, or this machine's for a wildcard bind."""
        return machine_address() if self.host in WILDCARD_HOSTS else self.host

    def join_url(self, port: int) -> str:
        """``ws://<address>:<port>/ws?token=...``: what a student types into the DAW (no token on loopback)."""
        url = websocket_url(self.join_address(), port)
        return url if self.loopback_only or self.token is None else f"{url}?{TOKEN_PARAMETER}={self.token}"

    def refusal(self, remote_host: str, request: Request) -> tuple[HTTPStatus, str] | None:
        """Why ``request`` from ``remote_host`` is refused (status and body), or None to let it in."""
        headers = request.headers
        try:
            host_header = headers.get("Host")
        except MultipleValuesError:
            return HTTPStatus.BAD_REQUEST, "Expected one Host header, got several\n"
        host = host_name(host_header) if host_header is not None else ""
        named_locally = host_header is None or is_loopback_name(host)
        if self.loopback_only and not named_locally:
            shown = quote_client_text(host_header or "")
            return HTTPStatus.FORBIDDEN, (
                f"Host '{shown}' is not a name of this server: it listens on loopback only and answers "
                f"requests for localhost, 127.0.0.1 or [::1]\n"
            )
        if self.token is None or (is_loopback_name(remote_host) and named_locally):
            return None
        return self._token_refusal(request)

    def _token_refusal(self, request: Request) -> tuple[HTTPStatus, str] | None:
        offered = _offered_token(request.path, request.headers)
        if offered is None:
            return HTTPStatus.UNAUTHORIZED, (
                f"This Codette server needs its token: connect to {WEBSOCKET_PATH}?{TOKEN_PARAMETER}=<token> "
                "(the join URL the server printed) or send 'Authorization: Bearer <token>'\n"
            )
        if not hmac.compare_digest(offered.encode("utf-8", "replace"), self._token_bytes):
            return HTTPStatus.FORBIDDEN, "Wrong token for this Codette server: use the join URL the server printed\n"
        return None


def _offered_token(path: str, headers: Headers) -> str | None:
    """The token a request offers in the query or an ``Authorization: Bearer`` header (the query wins)."""
    query = parse_qs(urlsplit(path).query, keep_blank_values=True).get(TOKEN_PARAMETER)
    if query:
        return query[0]
    try:
        authorization = headers.get("Authorization")
    except MultipleValuesError:
        return ""
    if authorization is None:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""
