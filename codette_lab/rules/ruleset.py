"""The live rule set: tunable heuristics the engine holds and the notebook changes while the server runs.

A :class:`RuleSet` points at one immutable
:class:`~codette_lab.rules.snapshot.RuleSnapshot` (document + parameter
values); every change builds a new snapshot and swaps it in with one
assignment, so the server thread evaluating a request keeps a consistent
snapshot while a notebook cell or a slider changes values, and the change
applies to the next request. Evaluation is the snapshot's business:
``rules.snapshot().evaluate(...)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from . import files
from .diff import RulesDiff, compare
from .model import LoudnessTarget, Parameter
from .snapshot import RuleSnapshot

log = logging.getLogger(__name__)

ChangeCallback = Callable[[dict[str, float]], None]


class RuleSet:
    """The engine's tunable heuristics. Safe to change from one thread while another evaluates.

    Built with :meth:`default` (the built-in rules), :meth:`load` (a rule file; RulesError naming
    the file and field) or :meth:`from_dict`, not with the constructor, which takes a snapshot.
    ``rules[name]`` reads a parameter and ``rules[name] = value`` sets it (range-checked, RulesError
    otherwise); :meth:`update` sets several at once, :meth:`reset` goes back to the defaults,
    :meth:`diff` lists what changed, :meth:`export` writes a file and returns its path, and
    :meth:`snapshot` returns the immutable :class:`RuleSnapshot` a request is evaluated with.

    >>> rules = RuleSet.default()
    >>> rules["vocal.highpass_hz"] = 100          # range-checked; applies to the next request
    >>> rules.export("my_rules.json")             # codette-lab serve --rules my_rules.json answers the same
    """

    def __init__(self, snapshot: RuleSnapshot) -> None:
        self._snapshot = snapshot
        self._write_lock = threading.Lock()
        self._callbacks: list[ChangeCallback] = []

    # -- construction ------------------------------------------------------------------------------------

    @classmethod
    def default(cls) -> RuleSet:
        """The built-in rules (``default_rules.json`` shipped in the package)."""
        return cls(RuleSnapshot(*files.read_default()))

    @classmethod
    def load(cls, path: str | PathLike[str]) -> RuleSet:
        """A rule file written by :meth:`export` (or by hand); RulesError naming the file and the bad field."""
        return cls(RuleSnapshot(*files.read(path)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "a rules dict") -> RuleSet:
        """A rule set from the data :meth:`to_dict` returns."""
        document, values = files.parse(data, source=source)
        return cls(RuleSnapshot(document, values))

    def copy(self) -> RuleSet:
        """An independent rule set in the same state (its changes do not reach this one)."""
        return RuleSet(self._snapshot)

    def __getstate__(self) -> dict[str, Any]:
        return {"data": self.to_dict(), "source": self._snapshot.document.source}

    def __setstate__(self, state: dict[str, Any]) -> None:
        document, values = files.parse(state["data"], source=state["source"])
        self.__init__(RuleSnapshot(document, values))  # type: ignore[misc]

    # -- reading ----------------------------------------------------------------------------------------

    def snapshot(self) -> RuleSnapshot:
        """The current immutable state; a request evaluates against one snapshot from start to end."""
        return self._snapshot

    @property
    def source(self) -> str:
        """Where the rules came from (a file path, or the built-in file)."""
        return self._snapshot.document.source

    def __getitem__(self, name: str) -> float:
        return self._snapshot[name]

    def __contains__(self, name: object) -> bool:
        return name in self._snapshot

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._snapshot.document.parameters))

    def __len__(self) -> int:
        return len(self._snapshot.document.parameters)

    def parameter(self, name: str) -> Parameter:
        return self._snapshot.parameter(name)

    def parameters(self) -> list[Parameter]:
        """Every tunable parameter with its current value, in file order."""
        return self._snapshot.parameters()

    def groups(self) -> dict[str, list[Parameter]]:
        """Parameters by group (``general``, ``loudness``, then track types), for the Rules panel."""
        grouped: dict[str, list[Parameter]] = {}
        for parameter in self.parameters():
            grouped.setdefault(parameter.group, []).append(parameter)
        return grouped

    def values(self) -> dict[str, float]:
        return dict(self._snapshot.values)

    def changed(self) -> dict[str, float]:
        """Parameters whose value differs from their default."""
        return {p.name: p.value for p in self.parameters() if p.value != p.default}

    def diff(self, other: RuleSet | str | PathLike[str] | None = None) -> RulesDiff:
        """The parameters whose values differ from the built-in defaults (or from ``other``: a rule set or a
        rule file), one row each (name, before, after, unit, description); shown as a table.
        """
        if other is None:
            other = RuleSet.default()
        elif not isinstance(other, RuleSet):
            other = RuleSet.load(other)
        return compare(other.snapshot(), self._snapshot)

    def to_dict(self) -> dict[str, Any]:
        return self._snapshot.to_dict()

    def loudness_target(self, target: str | float | None = None) -> LoudnessTarget:
        return self._snapshot.loudness_target(target)

    # -- writing ----------------------------------------------------------------------------------------

    def __setitem__(self, name: str, value: float) -> None:
        self.update({name: value})

    def set(self, **values: float) -> None:
        """``rules.set(**{"vocal.highpass_hz": 100, "general.headroom_peak_dbfs": -8})``: all or nothing."""
        self.update(values)

    def update(self, values: Mapping[str, float]) -> None:
        """Set several parameters at once; if any is unknown or out of range nothing changes."""
        with self._write_lock:
            current = self._snapshot
            changes = {name: current.parameter(name).checked(value) for name, value in values.items()}
            self._swap(current.with_values(changes), changes)

    def reset(self, name: str | None = None) -> None:
        """Back to the default value: one parameter, or all of them."""
        with self._write_lock:
            current = self._snapshot
            chosen = [current.parameter(name)] if name is not None else current.parameters()
            changes = {parameter.name: parameter.default for parameter in chosen}
            self._swap(current.with_values(changes), changes)

    def replace(self, other: RuleSet) -> None:
        """Take over another rule set's whole state (e.g. one just loaded from a file), live."""
        with self._write_lock:
            snapshot = other.snapshot()
            self._swap(snapshot, dict(snapshot.values))

    def _swap(self, snapshot: RuleSnapshot, changes: dict[str, float]) -> None:
        self._snapshot = snapshot
        for callback in list(self._callbacks):
            try:
                callback(dict(changes))
            except Exception:  # a panel's refresh must not undo or block the change
                log.exception("rules on_change callback %r failed", callback)

    def on_change(self, callback: ChangeCallback) -> ChangeCallback:
        """Call ``callback(changes)`` (name -> new value) after every change; returns it (usable as decorator)."""
        self._callbacks.append(callback)
        return callback

    def remove_on_change(self, callback: ChangeCallback) -> None:
        self._callbacks = [registered for registered in self._callbacks if registered != callback]

    def export(self, path: str | PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the current rules to ``path`` atomically; ``RuleSet.load(path)`` answers identically.

        A file already there is replaced only if this process wrote it (unchanged since) or with
        ``overwrite=True``; the folder must exist. Both are RulesError naming the file otherwise.
        """
        return files.write(path, self.to_dict(), overwrite=overwrite)

    def __repr__(self) -> str:
        changed = self.changed()
        return f"<RuleSet from {self.source}: {len(self)} parameters, {len(changed)} changed>"
