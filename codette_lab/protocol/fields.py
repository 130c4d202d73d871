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

import difflib
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


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name most like ``name`` (difflib), or None when none is close: for "did you mean" hints."""
    matches = difflib.get_close_matches(name, list(known), n=1)
    return matches[0] if matches else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest known name, or nothing when none is close."""
    match = closest(name, known)
    return f"; did you mean '{match}'?" if match is not None else ""


def _range_text(kind: str, minimum: float | None, maximum: float | None, exclusive: bool) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} between {minimum:g} and {maximum:g}"
    if minimum is not None:
        return f"{kind} {'>' if exclusive else '>='} {minimum:g}"
    return f"{kind} <= {maximum:g}"


class Reader:
    """One JSON value (usually an object) at ``path``, read through typed getters.

    Every protocol message is read through readers, so the usual case is kept
    cheap: each getter looks its field up inline, an absent field is recognised
    by one identity test (``_absent`` is the marker ``dict.get`` returns for a
    missing key: ``None`` itself when null counts as absent), and a nested
    reader builds its path text only when an error (or a caller) asks for it.
    """

    __slots__ = ("_absent", "_key", "_parent", "_path", "data", "errors")
    _parent: Reader  # set on children only (their ``_path`` is None until asked for)
    _key: str | int

    # null_is_absent may be passed by position: a keyword argument makes constructing a reader (once per
    # protocol message) measurably slower.
    def __init__(self, data: Any, errors: ErrorTexts, path: str = "", null_is_absent: bool = False) -> None:
        self.data = data
        self.errors = errors
        self._absent: Any = None if null_is_absent else _ABSENT
        self._path: str | None = path  # a top-level reader knows its path; a child's is built from its parent's

    # -- paths and errors ---------------------------------------------------------------------

    @property
    def path(self) -> str:
        """Where this value sits: ``entries[12].facets`` (empty for the top level)."""
        path = self._path
        if path is None:
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
        reader._absent = self._absent
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
    # Each getter starts with the same inline lookup (a method call per field would cost more than the
    # rest of reading it):
    #     value = data.get(key, self._absent) if type(data) is dict and key is not None else self._lookup(key)

    def _mapping(self) -> dict[str, Any]:
        if not isinstance(self.data, dict):
            raise self.errors.invalid(self.path, "an object", self.data)
        return self.data

    def _lookup(self, key: str | None) -> Any:
        """The lookup's other cases: this value itself (key None), a dict subclass, or not an object at all."""
        if key is None:
            return self.data
        return self._mapping().get(key, self._absent)

    def has(self, key: str) -> bool:
        """Whether ``key`` is present (a ``null`` counts as absent when ``null_is_absent``)."""
        return self._lookup(key) is not self._absent

    def get(self, key: str | None, default: Any = _REQUIRED) -> Any:
        """The raw value of ``key`` (None: this value itself), unchecked; ``default`` when absent."""
        data = self.data
        value = data.get(key, self._absent) if type(data) is dict and key is not None else self._lookup(key)
        if value is self._absent:
            if default is _REQUIRED:
                raise self.errors.missing(self.at(key), "a value")
            return default
        return value

    def only(self, known: Iterable[str], *, what: str = "field") -> None:
        """Refuse a member of this object not among ``known``: a misspelt optional field is an error, not ignored."""
        allowed = tuple(known)
        for key in self._mapping():
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                raise self.errors.problem(self.at(key), f"unknown {what} (expected one of {', '.join(allowed)}{hint})")

    def items(self) -> Iterator[tuple[str, Reader]]:
        """Each member of this object with a reader for its value, in file order."""
        return ((key, self.child(key, value)) for key, value in self._mapping().items())

    # -- typed getters ------------------------------------------------------------------------

    def text(self, key: str | None, default: _T = _REQUIRED, *, non_empty: bool = False) -> str | _T:
        """A string (``non_empty``: with something besides whitespace)."""
        data = self.data
        value = data.get(key, self._absent) if type(data) is dict and key is not None else self._lookup(key)
        if value is self._absent:
            if default is _REQUIRED:
                raise self.errors.missing(self.at(key), "a non-empty string" if non_empty else "a string")
            return default
        if not isinstance(value, str) or (non_empty and not value.strip()):
            raise self.errors.invalid(self.at(key), "a non-empty string" if non_empty else "a string", value)
        return value

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
        data = self.data
        value = data.get(key, self._absent) if type(data) is dict else self._lookup(key)
        if value is self._absent:
            if default is _REQUIRED:
                raise self.errors.missing(self.at(key), "a number")
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.errors.invalid(self.at(key), "a number", value)
        if not _isfinite(value):
            raise self.errors.invalid(self.at(key), "a finite number", value)
        if (minimum is not None and (value <= minimum if exclusive else value < minimum)) or (
            maximum is not None and value > maximum
        ):
            raise self._out_of_range(key, "a number", value, (minimum, maximum, exclusive))
        return float(value)

    def integer(
        self, key: str, default: _T = _REQUIRED, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | _T:
        """A whole number (``3`` or ``3.0``) as int, within ``minimum``..``maximum``."""
        data = self.data
        value = data.get(key, self._absent) if type(data) is dict else self._lookup(key)
        if value is self._absent:
            if default is _REQUIRED:
                raise self.errors.missing(self.at(key), "a whole number")
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not _isfinite(value)
            or value != int(value)
        ):
            raise self.errors.invalid(self.at(key), "a whole number", value)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise self._out_of_range(key, "a whole number", value, (minimum, maximum, False))
        return int(value)

    def flag(self, key: str | None, default: _T = _REQUIRED) -> bool | _T:
        """``true`` or ``false``."""
        data = self.data
        value = data.get(key, self._absent) if type(data) is dict and key is not None else self._lookup(key)
        if value is self._absent:
            if default is _REQUIRED:
                raise self.errors.missing(self.at(key), "true or false")
            return default
        if value is not True and value is not False:
            raise self.errors.invalid(self.at(key), "true or false", value)
        return value

    def object(self, key: str, default: _T = _REQUIRED) -> Reader | _T:
        """A reader for the JSON object at ``key``."""
        data = self.data
        value = data.get(key, self._absent) if type(data) is dict else self._lookup(key)
        if value is self._absent:
            if default is _REQUIRED:
                raise self.errors.missing(self.at(key), "an object")
            return default
        if not isinstance(value, dict):
            raise self.errors.invalid(self.at(key), "an object", value)
        return self.child(key, value)

    def array(self, key: str, *, required: bool = True) -> list[Reader]:
        """A reader for each item of the array at ``key`` (``[]`` when absent and not ``required``)."""
        value = self._lookup(key)
        if value is self._absent:
            if required:
                raise self.errors.missing(self.at(key), "an array")
            return []
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

    def _out_of_range(
        self, key: str, kind: str, value: float, bounds: tuple[float | None, float | None, bool]
    ) -> Exception:
        """The caller's out-of-range error; ``bounds`` is (minimum, maximum, exclusive)."""
        return self.errors.out_of_range(self.at(key), _range_text(kind, *bounds), value)
