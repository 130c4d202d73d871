"""One path-tracking reader for decoded JSON: typed getters whose errors name the field by its full path.

Protocol messages, rule files and the knowledge base are all JSON-like data
read field by field. :class:`Reader` wraps one value and knows where it sits
(``entries[12].facets.audio_theory``); every getter checks the kind (and, for
numbers, the range) of one field and either returns it or raises an error
made by the caller's :class:`ErrorTexts`, so each user keeps its own wording
while the walking, path building and kind checks live here once. Pure, no I/O.

Usage::

    class KnowledgeTexts:
        def missing(self, path, expected):
            return KnowledgeError(f"Knowledge base: field '{path}' missing (expected {expected})")
        def invalid(self, path, expected, value):
            return KnowledgeError(f"Knowledge base: field '{path}': expected {expected}, got {kind_of(value)}")
        out_of_range = invalid
        def problem(self, path, text):
            return KnowledgeError(f"Knowledge base: field '{path}': {text}")

    root = Reader(json.loads(text), KnowledgeTexts())
    for entry in root.array("entries"):          # readers at entries[0], entries[1], ...
        topic = entry.text("topic", non_empty=True)         # required: raises missing(...)
        weight = entry.number("weight", 1.0, minimum=0)     # optional: 1.0 when absent
        facets = entry.object("facets", None)               # a Reader at entries[i].facets, or None
        tags = entry.strings("tags", required=False)        # () when absent

A getter without a default requires its field; with one, an absent field
gives the default. ``null_is_absent=True`` (the wire protocol's rule) treats
a JSON ``null`` like a missing field; otherwise ``null`` is a wrong kind.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any, Protocol, TypeVar

_T = TypeVar("_T")

#: Marks a getter call without a default: the field is required.
_REQUIRED: Any = object()
_ABSENT = object()
_new_reader = object.__new__
_isfinite = math.isfinite


class ErrorTexts(Protocol):
    """Builds the exception for each kind of bad field; ``path`` is the field's full dotted/indexed path."""

    def missing(self, path: str, expected: str) -> Exception:
        """A required field is absent."""
        ...

    def invalid(self, path: str, expected: str, value: object) -> Exception:
        """A field holds the wrong kind of value."""
        ...

    def out_of_range(self, path: str, expected: str, value: object) -> Exception:
        """A number outside its range (``value`` as it came, before any conversion)."""
        ...

    def problem(self, path: str, text: str) -> Exception:
        """Anything else wrong with a field, said in the caller's own words."""
        ...


def join(path: str, key: str | int) -> str:
    """The path of ``key`` under ``path``: ``a.b`` for names, ``a[3]`` for indexes."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _range_text(kind: str, minimum: float | None, maximum: float | None, exclusive: bool) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} between {minimum:g} and {maximum:g}"
    if minimum is not None:
        return f"{kind} {'>' if exclusive else '>='} {minimum:g}"
    return f"{kind} <= {maximum:g}"


class Reader:
    """One JSON value (usually an object) at ``path``, read through typed getters.

    Every protocol message is read through readers, so the happy path is kept
    cheap: a nested reader remembers its parent and key and builds its path
    text only when an error (or a caller) asks for it.
    """

    __slots__ = ("_key", "_parent", "_path", "data", "errors", "null_is_absent")

    def __init__(self, data: Any, errors: ErrorTexts, path: str = "", *, null_is_absent: bool = False) -> None:
        self.data = data
        self.errors = errors
        self.null_is_absent = null_is_absent
        self._path: str | None = path  # a top-level reader knows its path; a child's is built from its parent's

    # -- paths and errors ---------------------------------------------------------------------

    @property
    def path(self) -> str:
        """Where this value sits: ``entries[12].facets`` (empty for the top level)."""
        path = self._path
        if path is None:
            assert self._parent is not None
            path = self._path = join(self._parent.path, self._key)
        return path

    def at(self, key: str | int | None) -> str:
        """The full path of ``key`` inside this value (None: this value's own path)."""
        return self.path if key is None else join(self.path, key)

    def child(self, key: str | int, value: Any) -> Reader:
        """A reader for ``value`` found at ``key`` inside this one (its path is built only when asked for)."""
        reader: Reader = _new_reader(Reader)
        reader.data = value
        reader.errors = self.errors
        reader.null_is_absent = self.null_is_absent
        reader._path = None
        reader._parent = self
        reader._key = key
        return reader

    def fail(self, key: str | int | None, expected: str, value: object) -> Exception:
        """The caller's "wrong kind" error for ``key`` (None: this value itself)."""
        return self.errors.invalid(self.at(key), expected, value)

    def problem(self, key: str | int | None, text: str) -> Exception:
        """The caller's free-worded error for ``key`` (None: this value itself)."""
        return self.errors.problem(self.at(key), text)

    # -- raw access ---------------------------------------------------------------------------

    def _mapping(self) -> dict[str, Any]:
        if not isinstance(self.data, dict):
            raise self.errors.invalid(self.path, "an object", self.data)
        return self.data

    def _lookup(self, key: str | None) -> Any:
        """The value at ``key`` (None: this value itself), or ``_ABSENT``. Every protocol field passes here."""
        if key is None:
            return self.data
        try:
            value = self.data.get(key, _ABSENT)
        except AttributeError:  # not an object: JSON arrays, strings, numbers have no members
            raise self.errors.invalid(self.path, "an object", self.data) from None
        return _ABSENT if value is None and self.null_is_absent else value

    def has(self, key: str) -> bool:
        """Whether ``key`` is present (a ``null`` counts as absent when ``null_is_absent``)."""
        return self._lookup(key) is not _ABSENT

    def get(self, key: str | None, default: Any = _REQUIRED) -> Any:
        """The raw value of ``key`` (None: this value itself), unchecked; ``default`` when absent."""
        value = self._lookup(key)
        return self._absent(key, default, "a value") if value is _ABSENT else value

    def only(self, known: Iterable[str], *, what: str = "field") -> None:
        """Refuse a member of this object not among ``known``: a misspelt optional field is an error, not ignored."""
        allowed = tuple(known)
        for key in self._mapping():
            if key not in allowed:
                raise self.errors.problem(self.at(key), f"unknown {what} (expected one of {', '.join(allowed)})")

    def items(self) -> Iterator[tuple[str, Reader]]:
        """Each member of this object with a reader for its value, in file order."""
        return ((key, self.child(key, value)) for key, value in self._mapping().items())

    # -- typed getters ------------------------------------------------------------------------

    def text(self, key: str | None, default: _T = _REQUIRED, *, non_empty: bool = False) -> str | _T:
        """A string (``non_empty``: with something besides whitespace)."""
        value = self._lookup(key)
        if isinstance(value, str) and (not non_empty or value.strip()):
            return value
        expected = "a non-empty string" if non_empty else "a string"
        if value is _ABSENT:
            return self._absent(key, default, expected)
        raise self.errors.invalid(self.at(key), expected, value)

    def number(
        self,
        key: str,
        default: _T = _REQUIRED,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive: bool = False,
    ) -> float | _T:
        """A finite number as float, within ``minimum``..``maximum`` (``exclusive``: strictly above minimum)."""
        value = self._lookup(key)
        kind = type(value)
        if kind is not float and kind is not int:
            if value is _ABSENT:
                return self._absent(key, default, "a number")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.errors.invalid(self.at(key), "a number", value)
        if not _isfinite(value):
            raise self.errors.invalid(self.at(key), "a finite number", value)
        if (minimum is not None and (value <= minimum if exclusive else value < minimum)) or (
            maximum is not None and value > maximum
        ):
            raise self._out_of_range(key, "a number", value, minimum, maximum, exclusive)
        return float(value)

    def integer(
        self, key: str, default: _T = _REQUIRED, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | _T:
        """A whole number (``3`` or ``3.0``) as int, within ``minimum``..``maximum``."""
        value = self._lookup(key)
        if value is _ABSENT:
            return self._absent(key, default, "a whole number")
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not _isfinite(value)
            or value != int(value)
        ):
            raise self.errors.invalid(self.at(key), "a whole number", value)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise self._out_of_range(key, "a whole number", value, minimum, maximum, False)
        return int(value)

    def flag(self, key: str | None, default: _T = _REQUIRED) -> bool | _T:
        """``true`` or ``false``."""
        value = self._lookup(key)
        if value is True or value is False:
            return value
        if value is _ABSENT:
            return self._absent(key, default, "true or false")
        raise self.errors.invalid(self.at(key), "true or false", value)

    def object(self, key: str, default: _T = _REQUIRED) -> Reader | _T:
        """A reader for the JSON object at ``key``."""
        value = self._lookup(key)
        if isinstance(value, dict):
            return self.child(key, value)
        if value is _ABSENT:
            return self._absent(key, default, "an object")
        raise self.errors.invalid(self.at(key), "an object", value)

    def array(self, key: str, *, required: bool = True) -> list[Reader]:
        """A reader for each item of the array at ``key`` (``[]`` when absent and not ``required``)."""
        value = self._lookup(key)
        if value is _ABSENT:
            return self._absent(key, _REQUIRED if required else [], "an array")
        if not isinstance(value, list):
            raise self.errors.invalid(self.at(key), "an array", value)
        items = self.child(key, value)
        return [items.child(index, item) for index, item in enumerate(value)]

    def strings(self, key: str, *, required: bool = True, choices: Iterable[str] | None = None) -> tuple[str, ...]:
        """An array of strings, each one of ``choices`` when given (``()`` when absent and not ``required``)."""
        allowed = tuple(choices) if choices is not None else None
        items = self.array(key, required=required)
        if allowed is None:
            return tuple(item.text(None) for item in items)
        return tuple(item.choice(None, allowed) for item in items)

    def choice(self, key: str | None, choices: Iterable[str]) -> str:
        """A string that is one of ``choices`` (key None: this value itself)."""
        options = tuple(choices)
        value = self.text(key)
        if value not in options:
            raise self.fail(key, f"one of {', '.join(options)}", value)
        return value

    # -- helpers ------------------------------------------------------------------------------

    def _absent(self, key: str | None, default: Any, expected: str) -> Any:
        if default is _REQUIRED:
            raise self.errors.missing(self.at(key), expected)
        return default

    def _out_of_range(
        self, key: str, kind: str, value: float, minimum: float | None, maximum: float | None, exclusive: bool
    ) -> Exception:
        return self.errors.out_of_range(self.at(key), _range_text(kind, minimum, maximum, exclusive), value)
