"""TLS for a classroom: the server speaks ``https://`` and ``wss://`` on its one port when given a certificate.

``tls`` is what ``serve(tls=...)``, ``Lab(tls=...)`` and ``--certfile/--keyfile``
give: an :class:`ssl.SSLContext` made by the caller, a ``(certfile, keyfile)``
pair of PEM paths, or one PEM path holding both. Without TLS a token sent
from another machine crosses the network in clear; the start-up line says so.
"""

from __future__ import annotations

import os
import ssl
from os import PathLike

from ..errors import ServerError

PathLikeStr = str | PathLike[str]
#: What a server may be given as its TLS setting.
TLSSetting = ssl.SSLContext | PathLikeStr | tuple[PathLikeStr, PathLikeStr]


def server_context(tls: TLSSetting | None) -> ssl.SSLContext | None:
    """The server-side SSLContext for ``tls`` (None without TLS); ServerError naming the file that
    cannot be used."""
    if tls is None or isinstance(tls, ssl.SSLContext):
        return tls
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
    return context
