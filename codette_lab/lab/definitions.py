"""Functions a notebook defines into the engine's registries, and who is told when they change.

The Lab's ``perspective``/``analysis_type`` decorators and ``remove_*`` calls
go through a :class:`Definitions`; the panels listen to it to refresh their
dropdowns. Restoring a built-in that a notebook function shadowed is the
:class:`~codette_lab.registry.Registry`'s job; removing a built-in itself is
refused here, with the way to replace it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..errors import RequestError
from ..registry import Registry

UserFunction = Callable[..., Any]

#: ``callback(kind, name)``: called after a perspective or analysis type is defined or removed.
DefinitionListener = Callable[[str, str], None]


class Definitions:
    """Define and remove notebook functions in a registry, telling the listeners after each change."""

    def __init__(self) -> None:
        self._listeners: tuple[DefinitionListener, ...] = ()

    def define(
        self,
        registry: Registry,
        name: str | UserFunction,
        function: UserFunction | None,
        *,
        description: str,
        aliases: Iterable[str],
    ) -> Any:
        """Register ``function`` as ``name``; without a function, the decorator that registers one.

        ``name`` may itself be the function (a bare ``@lab.perspective``): it is then named after it.
        """
        if isinstance(name, str):
            key = name
        elif function is None:
            function, key = name, name.__name__
        else:
            raise RequestError(f"A {registry.kind} needs a name (a string) before its function, got {name!r}")
        aliases = tuple(aliases)

        def register(fn: UserFunction) -> UserFunction:
            entry = registry.register(key, fn, description=description, aliases=aliases)
            self._changed(registry.kind, entry.name)
            return fn

        return register(function) if function is not None else register

    def remove(self, registry: Registry, name: str) -> None:
        """Remove a notebook function (a built-in it shadowed answers again); built-ins cannot be removed."""
        entry = registry.resolve(name)
        if entry.builtin:
            raise RequestError(
                f"{entry.label} is built in and cannot be removed; define a {registry.kind} "
                f"named '{entry.name}' to replace it"
            )
        registry.unregister(entry.name)
        self._changed(registry.kind, entry.name)

    def add_listener(self, callback: DefinitionListener) -> None:
        self._listeners = (*self._listeners, callback)

    def remove_listener(self, callback: DefinitionListener) -> None:
        self._listeners = tuple(c for c in self._listeners if c != callback)

    def _changed(self, kind: str, name: str) -> None:
        for callback in self._listeners:
            callback(kind, name)
