"""Checking the texts a knowledge base fills in: only known placeholders, and each one renders."""

from __future__ import annotations

from string import Formatter

from ..protocol.fields import Reader


def check_template(reader: Reader, key: str, allowed: frozenset[str], *, words: frozenset[str]) -> str:
    """The text at ``reader[key]``, refused unless every placeholder is one of ``allowed`` and it renders.

    It is tried with a word for each placeholder in ``words`` and a number for the others, so a number
    format on a placeholder filled with words (or the reverse) fails here, not in the middle of an answer.
    """
    text = reader.text(key)
    try:
        names = [name for _, name, _, _ in Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise reader.problem(key, f"is not a valid template ({exc}): {text!r}") from None
    for name in names:
        if name not in allowed:
            expected = ", ".join(f"{{{field}}}" for field in sorted(allowed)) or "no placeholders"
            raise reader.problem(key, f"names the unknown placeholder {{{name}}} (expected {expected})")
    samples = {name: "x" if name in words else 1.5 for name in allowed}
    try:
        text.format(**samples)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise reader.problem(key, f"is not a valid template ({exc}): {text!r}") from None
    return text
