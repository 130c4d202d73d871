"""Which files a corpus run covers, and how a file is recognised as unchanged when a run resumes."""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from ..audio_input import AUDIO_SUFFIXES
from ..tracktypes import GENERIC, TRACK_TYPES

#: The ``track_type`` value that takes each file's type from its folder's name (``reference/vocal/a.wav``).
FROM_FOLDER = "from-folder"

PathsOrGlob = str | PathLike[str] | Iterable[str | PathLike[str]]
TrackTypeChoice = str | Callable[[Path], str]


@dataclass(frozen=True)
class FileKey:
    """What identifies one version of a file: a re-run skips a file whose key is already in the results."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileKey:
        """The key of ``path`` as it is now; a missing file gets size and mtime -1 (it is never "done")."""
        try:
            stat = path.stat()
        except OSError:
            return cls(str(path), -1, -1)
        return cls(str(path), stat.st_size, stat.st_mtime_ns)


def audio_files(root: str | PathLike[str], *, extensions: Sequence[str] = AUDIO_SUFFIXES) -> list[Path]:
    """Every audio file under ``root`` (recursively), sorted."""
    wanted = {extension.lower() for extension in extensions}
    return sorted(path for path in Path(root).rglob("*") if path.is_file() and path.suffix.lower() in wanted)


def corpus_files(paths_or_glob: PathsOrGlob) -> list[Path]:
    """The files a run covers, as absolute paths without duplicates, in the order given.

    A folder stands for its audio files (recursively, sorted); a string with
    ``*``, ``?`` or ``[`` is a glob pattern (``**`` reaches into sub-folders);
    anything else is one file, kept even when it does not exist so that its
    row says why it could not be read.
    """
    items = [paths_or_glob] if isinstance(paths_or_glob, (str, PathLike)) else list(paths_or_glob)
    found: list[Path] = []
    for item in items:
        text = str(item)
        if isinstance(item, str) and any(mark in text for mark in "*?["):
            found.extend(Path(match) for match in sorted(glob.glob(text, recursive=True)) if Path(match).is_file())
        elif Path(text).is_dir():
            found.extend(audio_files(text))
        else:
            found.append(Path(text))
    return list(dict.fromkeys(path.absolute() for path in found))


def track_type_from_folder(path: Path) -> str:
    """The track type named by a file's folder (``.../vocal/take1.wav`` -> ``vocal``), else the generic type."""
    folder = path.parent.name.lower()
    return folder if folder in TRACK_TYPES else GENERIC


def track_type_picker(choice: TrackTypeChoice) -> Callable[[Path], str]:
    """``track_type`` as a function of the file: one type for all, FROM_FOLDER, or the caller's own function."""
    if callable(choice):
        return choice
    if choice == FROM_FOLDER:
        return track_type_from_folder
    return lambda _path: choice
