"""Named, swappable functions: the perspectives and analysis types the engine answers with.

A notebook cell registers or replaces an entry while the server thread reads
the table, so a write builds a new frozen :class:`Table` (entries, aliases and
built-ins together) and swaps it in with one assignment: a reader sees the old
table or the new one, never half of each.

A notebook function registered under a built-in's name shadows the built-in;
unregistering it brings the built-in back, and :meth:`Registry.reset` returns
to the built-ins alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .errors import RequestError
from .protocol import texts


@dataclass(frozen=True)
class Entry:
    """One registered function. ``builtin`` is False for functions defined in a notebook."""

    kind: str
    name: str
    function: Callable[..., Any]
    description: str = ""
    aliases: tuple[str, ...] = ()
    builtin: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How errors name it: ``perspective 'brighter' (function brighter_mix)``."""
        function_name = getattr(self.function, "__qualname__", None) or repr(self.function)
        return f"{self.kind} '{self.name}' (function {function_name})"


@dataclass(frozen=True)
class Table:
    """One consistent state of a registry: names to entries, aliases to names, and the built-ins
    (what unregistering a shadowing entry, or ``reset()``, brings back). Never changed once built."""

    entries: Mapping[str, Entry] = field(default_factory=lambda: MappingProxyType({}))
    aliases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    builtins: Mapping[str, Entry] = field(default_factory=lambda: MappingProxyType({}))

    def resolve(self, key: str) -> Entry | None:
        return self.entries.get(key) or self.entries.get(self.aliases.get(key, ""))

    def with_entry(self, entry: Entry) -> Table:
        """This table with ``entry`` answering its name and aliases (an alias never hides a name)."""
        key = entry.name
        aliases = {alias: target for alias, target in self.aliases.items() if key not in (target, alias)}
        aliases.update({alias: key for alias in entry.aliases})
        builtins = {**self.builtins, key: entry} if entry.builtin else self.builtins
        return _table({**self.entries, key: entry}, aliases, builtins)

    def without(self, name: str) -> Table:
        entries = {key: entry for key, entry in self.entries.items() if key != name}
        aliases = {alias: target for alias, target in self.aliases.items() if target != name}
        return _table(entries, aliases, self.builtins)

    def builtins_only(self) -> Table:
        builtins = self.builtins
        aliases = {alias: key for key, entry in builtins.items() for alias in entry.aliases if alias not in builtins}
        return _table(dict(builtins), aliases, builtins)


def _table(entries: Mapping[str, Entry], aliases: Mapping[str, str], builtins: Mapping[str, Entry]) -> Table:
    return Table(MappingProxyType(dict(entries)), MappingProxyType(dict(aliases)), MappingProxyType(dict(builtins)))


class Registry:
    """Name (or alias, case-insensitive) to :class:`Entry`, for one kind of thing.

    Its state is one frozen :class:`Table`, replaced whole by every write (writers
    serialised by a lock); a reader takes the table once, so it never pairs the
    entries of one state with the aliases of another.
    """

    def __init__(self, kind: str, *, default: str | None = None) -> None:
        self.kind = kind
        #: The name used when a request names none (``mix_engineering`` for perspectives).
        self.default = default
        self._table = Table()
        self._writing = threading.Lock()

    @property
    def table(self) -> Table:
        """The current state, to read several things from one consistent table."""
        return self._table

    def register(
        self,
        name: str,
        function: Callable[..., Any],
        *,
        description: str = "",
        aliases: Iterable[str] = (),
        builtin: bool = False,
        **options: Any,
    ) -> Entry:
        """Add ``function`` under ``name`` (live, for the next request), replacing any entry of that name.

        A built-in it replaces is shadowed, not lost: :meth:`unregister` brings it back.
        Returns the new :class:`Entry`; RequestError if the name is empty or the function not callable.
        """
        if not isinstance(name, str) or not name.strip():
            raise RequestError(f"A {self.kind} needs a non-empty name, got {name!r}")
        if not callable(function):
            raise RequestError(f"{self.kind} '{name}' must be a function, got {type(function).__name__}")
        key = name.strip().lower()
        entry = Entry(
            kind=self.kind,
            name=key,
            function=function,
            description=description or (function.__doc__ or "").strip().split("\n")[0],
            aliases=tuple(alias.lower() for alias in aliases),
            builtin=builtin,
            options=dict(options),
        )
        with self._writing:
            self._table = self._table.with_entry(entry)
        return entry

    def unregister(self, name: str) -> None:
        """Remove the entry for ``name`` (or alias); a built-in it shadowed answers again."""
        with self._writing:
            table = self._table
            entry = self._resolve_in(table, name)
            builtin = table.builtins.get(entry.name)
            if builtin is not None and not entry.builtin:
                self._table = table.with_entry(builtin)
            else:
                self._table = table.without(entry.name)

    def reset(self) -> None:
        """Back to the built-ins alone: every notebook entry removed, every built-in answering again."""
        with self._writing:
            self._table = self._table.builtins_only()

    def resolve(self, name: str) -> Entry:
        """The entry for a name or alias, or RequestError listing the available names."""
        return self._resolve_in(self._table, name)

    def _resolve_in(self, table: Table, name: str) -> Entry:
        entry = table.resolve(name.strip().lower())
        if entry is None:
            raise RequestError(texts.unknown_choice(self.kind, name, table.entries))
        return entry

    def names(self) -> list[str]:
        return sorted(self._table.entries)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return self._table.resolve(name.strip().lower()) is not None

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._table.entries.values()))

    def __len__(self) -> int:
        return len(self._table.entries)
