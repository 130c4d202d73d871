"""Figures in the base's texts whose home is elsewhere: named as placeholders and filled when an answer is told.

A number the rule set already holds (the streaming loudness target, its
true-peak ceiling) is not copied into the knowledge base: a text names the
rule parameter instead, ``"about {loudness.streaming_lufs:g} LUFS"``, and chat
fills it from the rule snapshot that answers the request. Chat and analysis
then quote the same number, and a target tuned in a notebook changes both.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: ``{group.name}`` or ``{group.name:spec}``: a rule parameter's name with an optional number format.
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)(?::([^{}]*))?\}")

#: Shown for a figure the rules at hand do not have (a custom rule file without that parameter).
UNKNOWN = "n/a"


def figure_names(text: str) -> list[str]:
    """The parameter names a text's placeholders name, in order."""
    return [match.group(1) for match in PLACEHOLDER.finditer(text)]


def figure_problem(text: str) -> str | None:
    """Why ``text`` is not a valid text with figures (a stray brace, a bad format), or None when it is."""
    rest = PLACEHOLDER.sub("", text)
    if "{" in rest or "}" in rest:
        return "has a brace that is not a {group.parameter} or {group.parameter:format} placeholder"
    for match in PLACEHOLDER.finditer(text):
        try:
            format(1.5, match.group(2) or "")
        except ValueError as exc:
            return f"formats {{{match.group(1)}}} with {match.group(2)!r}, not a number format ({exc})"
    return None


def fill_figures(text: str, lookup: Callable[[str], float | None]) -> str:
    """``text`` with each placeholder replaced by ``lookup(name)`` in its format (``g`` when it names none)."""
    if "{" not in text:
        return text

    def figure(match: re.Match[str]) -> str:
        value = lookup(match.group(1))
        return UNKNOWN if value is None else format(value, match.group(2) or "g")

    return PLACEHOLDER.sub(figure, text)
