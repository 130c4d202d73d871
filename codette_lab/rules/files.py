"""Rule files on disk: reading one (or the built-in one) into a document, writing one atomically.

Reading turns every failure into a RulesError naming the file (missing,
unreadable, not JSON, or invalid, the last via :mod:`.schema`); writing
replaces the target in one rename, so a server reading the file never
sees half of it.
"""

from __future__ import annotations

import functools
import json
import os
import stat
import uuid
from collections.abc import Mapping
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import RulesError
from .model import Document
from .schema import parse_document

DEFAULT_RULES_FILE = "default_rules.json"


@functools.lru_cache(maxsize=1)
def read_default() -> tuple[Document, Mapping[str, float]]:
    """The built-in rules shipped in the package (``default_rules.json``), read and validated once."""
    text = resources.files(__package__).joinpath(DEFAULT_RULES_FILE).read_text(encoding="utf-8")
    return parse_document(json.loads(text), source=f"the built-in {DEFAULT_RULES_FILE}")


def read(path: str | PathLike[str]) -> tuple[Document, dict[str, float]]:
    """A rule file's document and parameter values; RulesError naming the file and the bad field."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(f"Cannot read rules file {file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"Cannot read rules file {file}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RulesError(
            f"Rules file {file} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_document(data, source=str(file))


def write(path: str | PathLike[str], data: Mapping[str, Any]) -> Path:
    """Write rule file data to ``path`` atomically; RulesError naming the file when that fails.

    A new file gets the usual mode (0o666 less the umask), so a server run by another account can read
    it; an existing file keeps its mode.
    """
    target = Path(path)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = _create_beside(target)
    except OSError as exc:
        raise RulesError(f"Cannot write rules file {target}: {exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise RulesError(f"Cannot write rules file {target}: {exc}") from None
    return target


def _create_beside(target: Path) -> tuple[int, Path]:
    """A new, uniquely named temporary file beside ``target``, opened for writing.

    Created with mode 0o666 less the umask, as ``open()`` would (mkstemp's
    0o600 would hide the rules from a service account running ``codette-lab
    serve --rules``); when ``target`` exists its mode is kept instead, as
    rewriting it in place would.
    """
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
    except FileNotFoundError:  # a new file: the mode it was created with stays
        pass
    except OSError:
        os.close(handle)
        temporary.unlink(missing_ok=True)
        raise
    return handle, temporary
