"""Functions a notebook defines into the engine's registries, and who is told when they change.

The Lab's ``perspective``/``analysis_type`` decorators and ``remove_*`` calls
go through a :class:`Definitions`; the panels listen to it to refresh their
dropdowns. Restoring a built-in that a notebook function shadowed is the
:class:`~codette_lab.registry.Registry`'s job; removing a built-in itself is
refused here, with the way to replace it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import RequestError
from ..registry import Registry

if TYPE_CHECKING:
    from ..engine import Engine

UserFunction = Callable[..., Any]

#: ``callback(kind, name)``: called after a perspective or analysis type is defined or removed
#: (``name`` is empty when all of that kind's notebook functions were removed at once).
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
        **options: Any,
    ) -> Any:
        """Register ``function`` as ``name``; without a function, the decorator that registers one.
        ``options`` are kept on the registry entry (an analysis type's ``figure``).

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
            entry = registry.register(key, fn, description=description, aliases=aliases, **options)
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

    def reset(self, *registries: Registry) -> None:
        """Remove every notebook function from ``registries``: only the built-ins answer again."""
        for registry in registries:
            registry.reset()
            self._changed(registry.kind, "")

    def add_listener(self, callback: DefinitionListener) -> None:
        self._listeners = (*self._listeners, callback)

    def remove_listener(self, callback: DefinitionListener) -> None:
        self._listeners = tuple(c for c in self._listeners if c != callback)

    def _changed(self, kind: str, name: str) -> None:
        for callback in self._listeners:
            callback(kind, name)


class NotebookDefinitions:
    """The Lab's define/remove/list calls (a base of :class:`~codette_lab.lab.Lab`, which provides the state)."""

    engine: Engine
    _definitions: Definitions

    def perspective(
        self,
        name: str | UserFunction,
        function: UserFunction | None = None,
        *,
        description: str = "",
        aliases: Iterable[str] = (),
    ) -> Any:
        """Define (or redefine) a chat perspective; usable as ``@lab.perspective("name")``.

        The function receives a ChatContext (``.message``, ``.perspective``,
        ``.daw_context``, ``.memory``, ...) and returns a string, a dict with
        ``response`` and ``confidence``, or a ChatReply. The next chat naming
        it, from any connected DAW, is answered by it.
        """
        return self._definitions.define(
            self.engine.perspectives, name, function, description=description, aliases=aliases
        )

    def analysis_type(
        self,
        name: str | UserFunction,
        function: UserFunction | None = None,
        *,
        description: str = "",
        aliases: Iterable[str] = (),
        figure: UserFunction | None = None,
    ) -> Any:
        """Define (or redefine) an analysis type; usable as ``@lab.analysis_type("name")``.

        The function receives a TrackRequest (``.track``, ``.levels``,
        ``.samples`` and ``.sample_rate`` when audio was sent, ``.measure(...)``)
        and returns an AnalysisResult or a dict with any of ``insights``,
        ``suggestions``, ``quality_score``, ``metrics``. ``figure``, when given,
        is what the Analysis tab draws for it: ``figure(samples, sample_rate,
        analysis)`` returning a matplotlib Figure.
        """
        options = {"figure": figure} if figure is not None else {}
        return self._definitions.define(
            self.engine.analysis_types, name, function, description=description, aliases=aliases, **options
        )

    def figure_function(self, analysis_type: str) -> UserFunction | None:
        """The figure a notebook analysis type was defined with (None: the Analysis tab's own figures)."""
        return self.engine.analysis_types.resolve(analysis_type).options.get("figure")

    def remove_perspective(self, name: str) -> None:
        """Remove a notebook perspective; one that replaced a built-in gives the built-in back."""
        self._definitions.remove(self.engine.perspectives, name)

    def remove_analysis_type(self, name: str) -> None:
        """Remove a notebook analysis type; one that replaced a built-in gives the built-in back."""
        self._definitions.remove(self.engine.analysis_types, name)

    def perspectives(self) -> list[str]:
        return self.engine.perspectives.names()

    @property
    def default_perspective(self) -> str | None:
        """The perspective that answers a chat naming none."""
        return self.engine.perspectives.default

    def analysis_types(self) -> list[str]:
        return self.engine.analysis_types.names()

    def resolve_analysis_type(self, name: str) -> str:
        """The registered name of an analysis type given by name or alias (RequestError lists the names)."""
        return self.engine.analysis_types.resolve(name).name

    def add_definition_listener(self, callback: DefinitionListener) -> None:
        """Call ``callback(kind, name)`` after a perspective or analysis type is defined or removed."""
        self._definitions.add_listener(callback)

    def remove_definition_listener(self, callback: DefinitionListener) -> None:
        self._definitions.remove_listener(callback)
