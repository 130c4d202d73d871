"""TLS for a classroom: the server speaks ``https://`` and ``wss://`` on its one port when given a certificate.

``tls`` is what ``serve(tls=...)``, ``Lab(tls=...)`` and ``--certfile/--keyfile``
give: an :class:`ssl.SSLContext` made by the caller, a ``(certfile, keyfile)``
pair of PEM paths, or one PEM path holding both. Without TLS a token sent
from another machine crosses the network in clear; the start-up line says so.

The server issues no TLS 1.3 session tickets (:data:`SESSION_TICKETS`), on
the context it makes and on one it is given. OpenSSL sends them right after
the handshake, unasked; a client that reads its TLS socket in one thread and
writes it in another (``websockets.sync.client``: the DAW client, the Ardour
bridge, the tests) then has its background thread blocked inside an SSL read
that consumed the tickets and found no data, while its own thread writes the
HTTP upgrade request on the same SSL object. That request can be lost
(OpenSSL issue 7967; websockets' own tests turn tickets off for it): the
server never sees it and the client times out waiting for the handshake's
answer. Tickets only spare a reconnecting client one full handshake.
"""

from __future__ import annotations

import contextlib
import os
import ssl
from os import PathLike

from ..errors import ServerError

PathLikeStr = str | PathLike[str]
#: What a server may be given as its TLS setting.
TLSSetting = ssl.SSLContext | PathLikeStr | tuple[PathLikeStr, PathLikeStr]
#: TLS 1.3 session tickets the server sends after each handshake: none (see the module's docstring).
SESSION_TICKETS = 0


def server_context(tls: TLSSetting | None) -> ssl.SSLContext | None:
    """The server-side SSLContext for ``tls`` (None without TLS), issuing no session tickets;
    ServerError naming the file that cannot be used."""
    if tls is None:
        return None
    if isinstance(tls, ssl.SSLContext):
        return _without_tickets(tls)
    if isinstance(tls, tuple):
        if len(tls) != 2:
            raise ServerError(f"tls: expected (certfile, keyfile), got {len(tls)} items")
        certfile, keyfile = os.fspath(tls[0]), os.fspath(tls[1])
    elif isinstance(tls, str | PathLike):
        certfile, keyfile = os.fspath(tls), None
    else:
        raise ServerError(
            f"tls: expected an ssl.SSLContext, a (certfile, keyfile) pair or a PEM path, got {type(tls).__name__}"
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile, keyfile)
    except FileNotFoundError as exc:
        raise ServerError(f"tls: no file at '{exc.filename or certfile}' (certfile/keyfile)") from None
    except (ssl.SSLError, OSError) as exc:
        raise ServerError(f"tls: cannot use certificate '{certfile}' with key '{keyfile or certfile}': {exc}") from None
    return _without_tickets(context)


def _without_tickets(context: ssl.SSLContext) -> ssl.SSLContext:
    """``context``, set to send no TLS 1.3 session tickets (a client-side context has none to send:
    left as it is, as its handshakes fail anyway)."""
    with contextlib.suppress(ValueError):  # "not a server context": PROTOCOL_TLS_CLIENT
        context.num_tickets = SESSION_TICKETS
    return context
