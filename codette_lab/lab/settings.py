"""The arguments a Lab was made with, kept so that re-running the start cell applies only what changed.

Re-running ``lab = Lab(port=8000)`` hands back the Lab this kernel already
runs (see :class:`~codette_lab.lab.Lab`); comparing the new
:class:`LabSettings` with the old ones says what to do: nothing when the cell
is the same, swap the audio roots or reload the rules when those arguments
changed, and restart the server only when an argument it was started with
changed (port, host, time limit, allowed origins, token, TLS, require_token).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from typing import Any

from ..rules import RuleSet


@dataclass(frozen=True)
class LabSettings:
    """A Lab's constructor arguments, normalized so that equal cells give equal settings."""

    port: int
    host: str
    rules: RuleSet | str | None
    audio_roots: tuple[str, ...] | None
    request_timeout: float
    allowed_origins: tuple[str, ...]
    event_limit: int
    warm_up: bool
    #: What clients off this machine must send (see :mod:`codette_lab.server.access`); None: generated there.
    token: str | None = None
    #: TLS for https:// and wss:// (see :mod:`codette_lab.server.tls`): an SSLContext, a PEM path or a
    #: (certfile, keyfile) pair of paths; None for plain http:// and ws://.
    tls: Any = None
    #: True when clients on this machine must send the token too.
    require_token: bool = False

    @classmethod
    def of(
        cls,
        *,
        port: int,
        host: str,
        rules: RuleSet | str | PathLike[str] | None,
        audio_roots: Iterable[str | PathLike[str]] | None,
        request_timeout: float,
        allowed_origins: Iterable[str],
        event_limit: int,
        warm_up: bool,
        token: str | None,
        tls: Any = None,
        require_token: bool = False,
    ) -> LabSettings:
        return cls(
            port=port,
            host=host,
            rules=rules if rules is None or isinstance(rules, RuleSet) else os.fspath(rules),
            audio_roots=None if audio_roots is None else tuple(os.fspath(root) for root in audio_roots),
            request_timeout=float(request_timeout),
            allowed_origins=tuple(allowed_origins),
            event_limit=event_limit,
            warm_up=warm_up,
            token=token,
            tls=_normalised_tls(tls),
            require_token=bool(require_token),
        )

    def server_options(self) -> dict[str, Any]:
        """What the server is started with; a change here needs a restart."""
        return {
            "host": self.host,
            "port": self.port,
            "request_timeout": self.request_timeout,
            "allowed_origins": self.allowed_origins,
            "token": self.token,
            "tls": self.tls,
            "require_token": self.require_token,
        }

    def starting_rules(self) -> RuleSet:
        """A fresh copy of the rules this Lab starts from (its ``rules`` argument, or the built-in defaults)."""
        if isinstance(self.rules, RuleSet):
            return self.rules.copy()
        return RuleSet.load(self.rules) if self.rules else RuleSet.default()


def _normalised_tls(tls: Any) -> Any:
    """Paths as strings (a pair as a tuple), so that the same files given twice compare equal."""
    if isinstance(tls, str | PathLike):
        return os.fspath(tls)
    if isinstance(tls, tuple | list):
        return tuple(os.fspath(part) for part in tls)
    return tls
