"""Rule files on disk: reading one (or the built-in one) into a document, writing one atomically.

Reading turns every failure into a RulesError naming the file (missing,
unreadable, not a regular file, too large, not JSON, nested too deeply, or
invalid, the last via :mod:`.schema`) and never blocks: a FIFO or a device
is refused at once instead of hanging start-up. Writing replaces the target
in one rename, so a server reading the file never sees half of it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import stat
import threading
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

#: The largest rule file read, in bytes (the built-in one is about 60 kB).
MAX_RULES_FILE_BYTES = 4 * 1024 * 1024


@functools.lru_cache(maxsize=1)
def read_default() -> tuple[Document, Mapping[str, float]]:
    """The built-in rules shipped in the package (``default_rules.json``), read and validated once."""
    text = resources.files(__package__).joinpath(DEFAULT_RULES_FILE).read_text(encoding="utf-8")
    return parse_document(json.loads(text), source=f"the built-in {DEFAULT_RULES_FILE}", known_parameters=None)


def parse(data: Any, *, source: str) -> tuple[Document, dict[str, float]]:
    """Rule file data (already decoded) validated against the built-in parameters; RulesError naming ``source``."""
    return parse_document(data, source=source, known_parameters=read_default()[0].parameters)


def read(path: str | PathLike[str]) -> tuple[Document, dict[str, float]]:
    """A rule file's document and parameter values; RulesError naming the file and the bad field."""
    file = Path(path)
    text = _read_text(file)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RulesError(
            f"Rules file {file} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise RulesError(
            f"Rules file {file} is not usable JSON: arrays and objects nested too deeply for the decoder "
            "(a rule file needs a few levels)"
        ) from None
    return parse(data, source=str(file))


def _read_text(file: Path) -> str:
    """The file's text, read from one descriptor opened without blocking and checked to be a regular file."""
    try:
        handle = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise RulesError(f"Cannot read rules file {file}: no such file") from None
    except OSError as exc:
        raise RulesError(f"Cannot read rules file {file}: {exc.strerror or exc}") from None
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise RulesError(f"Cannot read rules file {file}: expected a regular file, got {_kind(status.st_mode)}")
        if status.st_size > MAX_RULES_FILE_BYTES:
            raise _too_large(file, status.st_size)
        chunks = []
        size = 0
        while chunk := os.read(handle, 1 << 20):
            size += len(chunk)
            if size > MAX_RULES_FILE_BYTES:  # grew while being read
                raise _too_large(file, size)
            chunks.append(chunk)
    except OSError as exc:
        raise RulesError(f"Cannot read rules file {file}: {exc.strerror or exc}") from None
    finally:
        os.close(handle)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulesError(f"Cannot read rules file {file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _too_large(file: Path, size: int) -> RulesError:
    return RulesError(
        f"Cannot read rules file {file}: expected at most {MAX_RULES_FILE_BYTES} bytes, got {size} or more"
    )


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


#: Files this process wrote, by resolved path, with what they were then (inode, mtime, size): these may be
#: written again without ``overwrite=True`` as long as nobody else changed them meanwhile.
_written: dict[Path, tuple[int, int, int]] = {}
_written_lock = threading.Lock()


def _identity(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns, info.st_size


def written_here(path: str | PathLike[str]) -> bool:
    """True when ``path`` is a file this process wrote (through :func:`write` or :func:`remember_written`),
    unchanged since."""
    target = Path(path).expanduser().resolve()
    with _written_lock:
        known = _written.get(target)
    try:
        return known is not None and known == _identity(target)
    except OSError:
        return False


def remember_written(path: str | PathLike[str]) -> None:
    """Note that this process just wrote ``path`` (so writing it again needs no ``overwrite=True``)."""
    target = Path(path).expanduser().resolve()
    with contextlib.suppress(OSError), _written_lock:
        _written[target] = _identity(target)


def writable_target(path: str | PathLike[str], *, overwrite: bool, what: str) -> Path:
    """``path`` as a Path, checked before anything is written: its folder exists, and an existing file there
    is one this process wrote or ``overwrite`` says to replace. Raises RulesError naming ``what`` otherwise."""
    target = Path(path).expanduser()
    folder = target.parent
    if not folder.is_dir():
        raise RulesError(f"Cannot write {what} {target}: the folder {folder} does not exist (create it first)")
    if target.exists() and not target.is_dir() and not overwrite and not written_here(target):
        raise RulesError(
            f"Cannot write {what} {target}: the file exists and was not written by this Lab; "
            "pass overwrite=True to replace it, or choose another name"
        )
    return target


def write(path: str | PathLike[str], data: Mapping[str, Any], *, overwrite: bool = False) -> Path:
    """Write rule file data to ``path`` atomically; RulesError naming the file when that fails.

    An existing file is replaced only when this process wrote it (unchanged since) or with ``overwrite``;
    a missing folder is an error (see :func:`writable_target`). A new file gets the usual mode (0o666
    less the umask), so a server run by another account can read it; an existing file keeps its mode.
    Errors name the file asked for, never the temporary file written beside it.
    """
    target = writable_target(path, overwrite=overwrite, what="rules file")
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        handle, temporary = _create_beside(target)
    except OSError as exc:
        raise RulesError(f"Cannot write rules file {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
        remember_written(target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise RulesError(f"Cannot write rules file {target}: {exc.strerror or exc}") from None  # not the temp name
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
