"""Text templates of the rule set: ``"High-pass at {vocal.highpass_hz:.0f} Hz"``.

Placeholders name a parameter (``vocal.highpass_hz``), the current track
type's parameter (``type.highpass_hz``: the track type's own, else the
``general`` one), a metric (``integrated_lufs``, ``band_energy_db.sub_bass``)
or a value of the finding (``value``, ``threshold``, ``track``, ...), with an
optional Python format spec. Templates are checked when the rule set loads,
so a typo fails with the file and field named rather than at request time.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Shown for a placeholder whose value is not known (a metric the request did not measure).
MISSING = "n/a"

_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and (placeholder name, format spec) pairs."""

    source: str
    parts: tuple[tuple[str, str | None, str], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for _, name, _ in self.parts if name is not None)

    def render(self, lookup: Callable[[str], Any]) -> str:
        """The text with each placeholder replaced by ``lookup(name)`` formatted by its spec; a finding's
        ``value`` that its spec would round onto its ``threshold`` gets the decimals that keep them apart, and an
        amount (:data:`AMOUNTS`) those that keep it from reading as zero ("lower the gain by about 0.0 dB")."""
        pieces: list[str] = []
        for literal, name, spec in self.parts:
            pieces.append(literal)
            if name is not None:
                value = lookup(name)
                shown = _apart(value, lookup("threshold"), spec) if name == "value" else spec
                shown = _apart(value, 0.0, spec) if name in AMOUNTS else shown
                pieces.append(_format(value, shown))
        return "".join(pieces)


#: A finding's distances from its threshold: the amount a remedy moves.
AMOUNTS = frozenset({"over", "under"})

#: The most decimals :func:`_apart` adds to a fixed-point spec.
EXTRA_DECIMALS = 3


def decimals_apart(value: float, threshold: float, decimals: int) -> int:
    """The fewest decimals, from ``decimals`` up to EXTRA_DECIMALS more, that show ``value`` apart from
    ``threshold`` (``decimals`` when they are equal or stay together)."""
    for more in range(decimals, decimals + EXTRA_DECIMALS + 1):
        if value == threshold or round(value, more) != round(threshold, more):
            return more
    return decimals


def _apart(value: Any, threshold: Any, spec: str) -> str:
    """``spec`` (".1f" style), with more decimals when it would show ``value`` equal to ``threshold`` though they
    differ: a width of 0.0299 under a threshold of 0.03 is not "0.03", a peak of -5.96 over -6 not "-6.0"."""
    match = re.fullmatch(r"\.(\d)f", spec)
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (value, threshold))
    if match is None or not numbers:
        return spec
    return f".{decimals_apart(value, threshold, int(match.group(1)))}f"


def _format(value: Any, spec: str) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float) and spec == "":
        return f"{value:g}"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def parse_template(text: str, *, field: str, fail: Callable[[str, str], Exception]) -> Template:
    """Parse ``text``; ``fail(field, problem)`` builds the error for bad syntax."""
    try:
        pieces = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise fail(field, f"a text template with balanced {{placeholders}} ({exc})") from None
    parts: list[tuple[str, str | None, str]] = []
    for literal, name, spec, conversion in pieces:
        if name is not None and (not name or conversion or "[" in name or "{" in (spec or "")):
            raise fail(
                field, f"placeholders like {{value:.1f}} (no positional, indexed or !conversion ones), got {text!r}"
            )
        parts.append((literal, name, spec or ""))
    return Template(source=text, parts=tuple(parts))


def lookup_in(*mappings: Mapping[str, Any]) -> Callable[[str], Any]:
    """A lookup reading the first mapping that has the name."""

    def lookup(name: str) -> Any:
        for mapping in mappings:
            if name in mapping:
                return mapping[name]
        return None

    return lookup
