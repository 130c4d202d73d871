"""Corpus results on disk: a folder of Parquet parts, written as rows arrive, so a run can stop any time.

``results.parquet/`` holds ``part-NNNNNN.parquet`` files, each written to a
temporary name and renamed when complete: an interrupted run leaves whole
parts only, and whatever reached the disk is kept. A file has one row: when
it is analyzed again (it failed, or changed), its new row is written first and
its old one then taken out of the older part (rewritten the same way), so the
folder read by any Parquet reader has one row per file. Should a run stop
between the two, the newest row counts when the table is read, and the next
run takes the old one out.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..extras import require
from .files import FileKey
from .task import KEY_COLUMNS, LIST_COLUMNS, Row

if TYPE_CHECKING:
    import pandas as pd

PART_GLOB = "part-*.parquet"
FINDING_PREFIX = "finding."


def _part_name(number: int) -> str:
    return f"part-{number:06d}.parquet"


class ResultStore:
    """The results folder of one run: what is done already, and new rows appended part by part."""

    def __init__(self, out: str | PathLike[str]) -> None:
        self.folder = Path(out)
        if self.folder.exists() and not self.folder.is_dir():
            raise FileExistsError(
                f"out: expected a results folder (Parquet parts) or a new path, got the file {self.folder}"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self._next = 1 + max((int(part.stem.split("-")[1]) for part in self.parts()), default=-1)
        #: The part holding each file's row (read on the first append after :meth:`compact`).
        self._holder: dict[str, Path] | None = None

    def parts(self) -> list[Path]:
        return sorted(self.folder.glob(PART_GLOB))

    def clear(self) -> None:
        """Forget every earlier result (a re-run from scratch)."""
        for part in self.parts():
            part.unlink()
        self._next = 0
        self._holder = None

    def done(self) -> set[FileKey]:
        """The files analyzed without error, as they were then (a changed file is no longer done)."""
        import pyarrow.parquet as pq

        keys: set[FileKey] = set()
        for part in self.parts():
            table = pq.read_table(part, columns=[*KEY_COLUMNS, "error"]).to_pydict()
            keys.update(
                FileKey(path, size, mtime)
                for path, size, mtime, error in zip(*(table[name] for name in (*KEY_COLUMNS, "error")), strict=True)
                if error is None
            )
        return keys

    def append(self, rows: list[Row]) -> None:
        """Write ``rows`` as one new part (atomically: a part is either whole or absent), then take the
        older rows of the same files out of their parts."""
        if not rows:
            return
        import pandas as pd

        holder = self._holders()
        frame = pd.DataFrame(rows)
        frame["error"] = frame["error"].astype("string")
        part = self.folder / _part_name(self._next)
        self._write(frame, part)
        self._next += 1
        written = set(frame["path"])
        for older in sorted({holder[path] for path in written if path in holder}):
            self._rewrite_without(older, written)
        holder.update(dict.fromkeys(written, part))

    def compact(self) -> None:
        """Leave one row per file, its newest (older rows are taken out of their parts; a part left empty
        is removed): what a run stopped between writing a row and taking out the one it replaced left."""
        import pyarrow.parquet as pq

        newer: set[str] = set()
        for part in reversed(self.parts()):
            paths = pq.read_table(part, columns=["path"])["path"].to_pylist()
            stale = newer.intersection(paths)
            if stale:
                self._rewrite_without(part, stale)
            newer.update(paths)
        self._holder = None

    def _holders(self) -> dict[str, Path]:
        """Which part holds each file's row (one row per file: see :meth:`compact`)."""
        if self._holder is None:
            import pyarrow.parquet as pq

            self._holder = {
                path: part
                for part in self.parts()
                for path in pq.read_table(part, columns=["path"])["path"].to_pylist()
            }
        return self._holder

    def _rewrite_without(self, part: Path, paths: set[str]) -> None:
        """``part`` without the rows of ``paths`` (removed when nothing is left)."""
        import pandas as pd

        frame = pd.read_parquet(part)
        kept = frame[~frame["path"].isin(paths)]
        if kept.empty:
            part.unlink()
        else:
            self._write(kept.reset_index(drop=True), part)

    def _write(self, frame: pd.DataFrame, destination: Path) -> None:
        """Write ``frame`` to ``destination`` through a temporary file renamed over it when complete."""
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        os.close(handle)
        try:
            frame.to_parquet(temporary, index=False)
            os.replace(temporary, destination)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)


def read_results(out: str | PathLike[str], *, paths: Iterable[str] | None = None) -> pd.DataFrame:
    """The results table stored in ``out``: see :func:`results_table`."""
    require("corpus", "codette_lab.corpus.read_results()", ("pandas", "pyarrow"))
    import pandas as pd

    return results_table([pd.read_parquet(part) for part in ResultStore(out).parts()], paths=paths)


def results_table(frames: list[pd.DataFrame], *, paths: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per file (its newest), in path order or in the order of ``paths``.

    Besides the stored columns (file identity, ``track_type``, ``error``,
    ``duration_s``, ``score.<kind>``, every metric, and the lists ``findings``
    (rule ids), ``problems`` and ``suggestions``) it has one boolean column
    ``finding.<rule id>`` per rule found anywhere in the table, for filtering:
    ``table[table["finding.rumble"]]``.
    """
    import pandas as pd

    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame(columns=[*KEY_COLUMNS, "track_type", "error", *LIST_COLUMNS])
    table = pd.concat(frames, ignore_index=True).drop_duplicates("path", keep="last")
    for column in LIST_COLUMNS:
        table[column] = table[column].map(_as_list)
    table = table.set_index("path", drop=False)
    if paths is not None:
        table = table.loc[[path for path in paths if path in table.index]]
    else:
        table = table.sort_index()
    table = table.reset_index(drop=True)
    found = sorted({rule for findings in table["findings"] for rule in findings})
    flags = {FINDING_PREFIX + rule: table["findings"].map(lambda fs, rule=rule: rule in fs) for rule in found}
    return pd.concat([table, pd.DataFrame(flags, index=table.index)], axis=1)


def _as_list(value: Any) -> list[Any]:
    """A list cell as read back from Parquet (an array, or None for a missing one) as a plain list."""
    return [] if value is None else list(value)
