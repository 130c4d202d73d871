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
work unchanged there, unless the server requires the token on loopback too
(``require_token``: a teacher checking the URL they hand out, tests trying a
wrong one). Tokens are compared in constant time.

The join URL students open is the page's (``http://192.168.1.20:8000/?token=...``;
the page adds ``&name=``); the WebSocket URL with the token is what a DAW
connects to. Refusals say which of the three happened, in their body and in
the ``X-Codette-Refusal`` header (:data:`REFUSAL_HEADER`): the token is missing
(401), the token is wrong (403), or the page's origin is refused (403).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers, MultipleValuesError
from websockets.http11 import Request

from ..protocol.quoting import quote_client_text
from .address import WEBSOCKET_PATH, page_url, websocket_url

#: The environment variable a token may come from when none is given.
TOKEN_ENVIRONMENT_VARIABLE = "CODETTE_TOKEN"
#: The join URL's query parameter holding the token.
TOKEN_PARAMETER = "token"
#: Random bytes in a generated token (shown as URL-safe base64).
TOKEN_BYTES = 18

LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})
#: Bind addresses meaning "every interface".
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
#: The response header naming why a request was refused (one of the REFUSED_* values), for pages and scripts.
REFUSAL_HEADER = "X-Codette-Refusal"
REFUSED_TOKEN_MISSING = "token-missing"
REFUSED_TOKEN_WRONG = "token-wrong"
REFUSED_ORIGIN = "origin"
REFUSED_HOST = "host"


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: its HTTP status, its plain-text body, and its REFUSED_* kind."""

    status: HTTPStatus
    body: str
    kind: str


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

    def __init__(self, host: str, token: str | None = None, *, require_token: bool = False, tls: bool = False) -> None:
        self.host = host
        self.loopback_only = is_loopback_name(host)
        #: True when loopback clients need the token too.
        self.require_token = require_token
        #: True when the server speaks https:// and wss:// (its URLs follow).
        self.tls = tls
        given = token or os.environ.get(TOKEN_ENVIRONMENT_VARIABLE) or None  # an empty token is no token
        #: True when the token was made up at start (it must then be shown to the teacher).
        self.generated = given is None and (require_token or not self.loopback_only)
        self.token: str | None = secrets.token_urlsafe(TOKEN_BYTES) if self.generated else given
        self._token_bytes = self.token.encode("utf-8") if self.token is not None else b""

    def join_address(self) -> str:
        """The address students connect to: the bound one, or this machine's for a wildcard bind."""
        return machine_address() if self.host in WILDCARD_HOSTS else self.host

    def _with_token(self, url: str) -> str:
        shown = self.token is not None and (self.require_token or not self.loopback_only)
        return f"{url}?{TOKEN_PARAMETER}={self.token}" if shown else url

    def join_url(self, port: int) -> str:
        """``http(s)://<address>:<port>/?token=...``: the page students open (no token on loopback unless
        required); the page adds ``&name=<student>``."""
        return self._with_token(page_url(self.join_address(), port, tls=self.tls))

    def ws_join_url(self, port: int) -> str:
        """``ws(s)://<address>:<port>/ws?token=...``: what a DAW connects to (no token on loopback unless required)."""
        return self._with_token(websocket_url(self.join_address(), port, tls=self.tls))

    def refusal(self, remote_host: str, request: Request, *, public: bool = False) -> Refusal | None:
        """Why ``request`` from ``remote_host`` is refused, or None to let it in. A ``public`` path (the
        page's files) needs no token; the Host rule holds for every path."""
        headers = request.headers
        try:
            host_header = headers.get("Host")
        except MultipleValuesError:
            return Refusal(HTTPStatus.BAD_REQUEST, "Expected one Host header, got several\n", REFUSED_HOST)
        host = host_name(host_header) if host_header is not None else ""
        named_locally = host_header is None or is_loopback_name(host)
        if self.loopback_only and not named_locally:
            shown = quote_client_text(host_header or "")
            return Refusal(
                HTTPStatus.FORBIDDEN,
                f"Host '{shown}' is not a name of this server: it listens on loopback only and answers "
                f"requests for localhost, 127.0.0.1 or [::1]\n",
                REFUSED_HOST,
            )
        if public or self.token is None:
            return None
        if not self.require_token and is_loopback_name(remote_host) and named_locally:
            return None
        return self._token_refusal(request)

    def _token_refusal(self, request: Request) -> Refusal | None:
        offered = _offered_token(request.path, request.headers)
        if offered is None:
            return Refusal(
                HTTPStatus.UNAUTHORIZED,
                f"This Codette server needs its token: connect to {WEBSOCKET_PATH}?{TOKEN_PARAMETER}=<token> "
                "(the join URL the server printed) or send 'Authorization: Bearer <token>'\n",
                REFUSED_TOKEN_MISSING,
            )
        if not hmac.compare_digest(offered.encode("utf-8", "replace"), self._token_bytes):
            return Refusal(
                HTTPStatus.FORBIDDEN,
                "Wrong token for this Codette server: use the join URL the server printed\n",
                REFUSED_TOKEN_WRONG,
            )
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
