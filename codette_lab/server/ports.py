"""Turning a failed bind into an error that says what to do about it."""

from __future__ import annotations

import errno

from ..errors import PortInUseError, ServerError


def bind_error(exc: OSError, host: str, port: int) -> ServerError:
    """PortInUseError when ``host:port`` is taken, ServerError for any other reason it cannot be bound."""
    if exc.errno == errno.EADDRINUSE or "address already in use" in str(exc).lower():
        return PortInUseError(
            f"Port {port} on {host} is already in use by another process: "
            f"stop that process or choose another port (port=0 picks a free one)"
        )
    return ServerError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}")
