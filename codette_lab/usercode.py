"""Calling functions defined in notebook cells, so that their failures become clear replies.

A user function that raises must not take the server down or leave the DAW
waiting: the exception becomes a :class:`UserCodeError` naming the function,
with the full traceback kept for the notebook's Monitor panel.
"""

from __future__ import annotations

import traceback
from typing import Any

from .errors import UserCodeError
from .registry import Entry


def call_entry(entry: Entry, *args: Any) -> Any:
    """Call ``entry.function(*args)``; a user function's exception becomes UserCodeError."""
    if entry.builtin:
        return entry.function(*args)
    try:
        return entry.function(*args)
    except UserCodeError:
        raise
    except Exception as exc:  # anything a cell's code can raise
        raise UserCodeError(
            f"{entry.label} raised {type(exc).__name__}: {exc}",
            function=entry.label,
            traceback=traceback.format_exc(),
        ) from exc


def malformed(entry: Entry, problem: str) -> UserCodeError:
    """The error for a user function whose return value cannot be used."""
    return UserCodeError(f"{entry.label} returned {problem}", function=entry.label)
