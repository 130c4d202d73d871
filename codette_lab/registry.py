"""Named, swappable functions: the perspectives and analysis types the engine answers with.

A notebook cell registers or replaces an entry while the server thread reads
the table, so writes build new dicts and swap them in (one atomic assignment
under the GIL): a reader sees the old table or the new one, never half of it.

A notebook function registered under a built-in's name shadows the built-in;
unregistering it brings the built-in back, and :meth:`Registry.reset` returns
to the built-ins alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
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


class Registry:
    """Name (or alias, case-insensitive) to :class:`Entry`, for one kind of thing."""

    def __init__(self, kind: str, *, default: str | None = None) -> None:
        self.kind = kind
        #: The name used when a request names none (``mix_engineering`` for perspectives).
        self.default = default
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}
        self._builtins: dict[str, Entry] = {}  # what unregistering a shadowing entry, or reset(), brings back

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
        if builtin:
            self._builtins = {**self._builtins, key: entry}
        self._put(entry)
        return entry

    def _put(self, entry: Entry) -> None:
        """Swap in tables where ``entry`` answers its name and aliases (an alias never hides a name)."""
        key = entry.name
        entries = {**self._entries, key: entry}
        aliases_map = {alias: target for alias, target in self._aliases.items() if key not in (target, alias)}
        aliases_map.update({alias: key for alias in entry.aliases})
        self._entries, self._aliases = entries, aliases_map

    def unregister(self, name: str) -> None:
        """Remove the entry for ``name`` (or alias); a built-in it shadowed answers again."""
        entry = self.resolve(name)
        builtin = self._builtins.get(entry.name)
        if builtin is not None and not entry.builtin:
            self._put(builtin)
            return
        self._entries = {k: v for k, v in self._entries.items() if k != entry.name}
        self._aliases = {alias: target for alias, target in self._aliases.items() if target != entry.name}

    def reset(self) -> None:
        """Back to the built-ins alone: every notebook entry removed, every built-in answering again."""
        builtins = self._builtins
        aliases = {alias: key for key, entry in builtins.items() for alias in entry.aliases if alias not in builtins}
        self._entries, self._aliases = dict(builtins), aliases

    def resolve(self, name: str) -> Entry:
        """The entry for a name or alias, or RequestError listing the available names."""
        key = name.strip().lower()
        entries = self._entries
        entry = entries.get(key) or entries.get(self._aliases.get(key, ""))
        if entry is None:
            raise RequestError(texts.unknown_choice(self.kind, name, entries))
        return entry

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.strip().lower()
        return key in self._entries or key in self._aliases

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)
