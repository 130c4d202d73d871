"""``analyze``: a corpus of files through the analysis on a Dask cluster, into one table, resumably.

Without a client a :class:`distributed.LocalCluster` with one single-threaded
worker process per core is started for the call and closed after it (in a
script, call it under ``if __name__ == "__main__":``, as worker processes
re-import the main module). A :class:`distributed.Client` is used as it is
and left open; a scheduler address (``"tcp://host:8786"``) is connected to for
the call. The same call therefore runs on a laptop or on many machines.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..extras import require
from .files import FileKey, PathsOrGlob, TrackTypeChoice, corpus_files, track_type_picker
from .store import ResultStore, results_table
from .task import MAX_SECONDS, Row, analyze_files, describe_failure, empty_row

if TYPE_CHECKING:
    import pandas as pd
    from distributed import Client, LocalCluster

    from ..rules import RuleSet

#: Rows are written to the results folder once this many are waiting...
FLUSH_ROWS = 16
#: ...or when the oldest waiting row is this old (seconds), so a stopped run loses little work.
FLUSH_SECONDS = 5.0

DEFAULT_KINDS = ("quality",)

#: Most files one task analyses. Tasks take fewer as the run nears its end (see :func:`batches`).
MAX_BATCH_FILES = 8


def _rule_set(rules: RuleSet | str | PathLike[str] | None) -> RuleSet | None:
    from ..rules import RuleSet

    return rules if rules is None or isinstance(rules, RuleSet) else RuleSet.load(rules)


@contextmanager
def _environment_kept() -> Iterator[None]:
    """``os.environ`` as it was, once the block ends: a Dask nanny writes the variables it gives its
    worker into the environment of the process that started it (here, the caller's)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for name in set(os.environ) - set(saved):
            del os.environ[name]
        os.environ.update(saved)


def _local_cluster() -> LocalCluster:
    """One single-threaded worker process per core, each started with the process settings of
    :func:`~codette_lab.processes.local_cluster_environment`, through Dask's own worker configuration."""
    import dask
    from distributed import LocalCluster

    from ..processes import local_cluster_environment

    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **local_cluster_environment()}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        # dashboard_address ":0": any free port, so it never clashes with another cluster's 8787
        return LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=":0")


@contextmanager
def connected(client: Client | str | None) -> Iterator[Client]:
    """The client to run on: the one given (its cluster as it is), one connected to a scheduler
    address, or a new local cluster (closed on the way out)."""
    from distributed import Client

    if isinstance(client, Client):
        yield client
    elif isinstance(client, str):
        with Client(client) as remote:
            yield remote
    else:
        with _environment_kept(), _local_cluster() as cluster, Client(cluster) as local:
            yield local


def _progress(total: int, done: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc="analyzing", unit="file", disable=not enabled)


def analyze(
    paths_or_glob: PathsOrGlob,
    *,
    kinds: str | Sequence[str] = DEFAULT_KINDS,
    track_type: TrackTypeChoice = "audio",
    rules: RuleSet | str | PathLike[str] | None = None,
    client: Client | str | None = None,
    out: str | PathLike[str] | None = None,
    rerun: bool = False,
    progress: bool = True,
    max_seconds: float = MAX_SECONDS,
    part_rows: int = FLUSH_ROWS,
) -> pd.DataFrame:
    """Analyze every file of ``paths_or_glob`` on a Dask cluster: a DataFrame, one row per file, in order.

    ``paths_or_glob``: files, folders (their audio files) or glob patterns.
    ``kinds``: analysis types of :func:`codette_lab.analyze` (default
    ``quality``), each giving a ``score.<kind>`` column. ``track_type``: one
    type for every file, ``"from-folder"`` (the type is the file's folder
    name: ``reference/vocal/take.wav``), or a function of the path. ``rules``:
    a :class:`~codette_lab.RuleSet` or rule file (default: the built-in rules),
    sent to the workers once. ``client``: see the module text. ``max_seconds``
    bounds a worker's memory: longer files are recorded with an error.
    ``progress`` shows a progress bar (tqdm).

    Returns the results table: columns ``path``, ``size``, ``mtime_ns``,
    ``track_type``, ``error`` (None when analyzed), ``duration_s``, one column
    per measurement (``band_energy_db.sub_bass``, ...), ``score.<kind>``, and
    the lists ``findings``, ``problems`` and ``suggestions``.

    With ``out`` (a folder, e.g. ``results.parquet``) rows are written there as
    they arrive; a later call with the same ``out`` skips every file analyzed
    without error whose path, size and modification time are unchanged, and
    analyzes again the files that failed or changed, their new rows replacing
    the old: the folder always holds one row per file (all are analyzed again
    with ``rerun=True``, the thing to do after changing ``kinds``,
    ``track_type`` or ``rules``). Rows go to disk in parts of at
    most ``part_rows`` rows (sooner when rows come slowly), and on an
    interruption (KeyboardInterrupt) the rows already received are written
    before it propagates. A file that cannot be read or analyzed gets its
    ``error`` text and the run goes on.
    """
    require("corpus", "codette_lab.corpus.analyze()")
    import pandas as pd

    kind_list = [kinds] if isinstance(kinds, str) else list(kinds)
    files = corpus_files(paths_or_glob)
    pick_type = track_type_picker(track_type)
    store = ResultStore(out) if out is not None else None
    if store is not None:
        if rerun:
            store.clear()
        store.compact()  # a run stopped between writing a new row and taking out the old one
    done = store.done() if store is not None else set()
    todo = [key for key in (FileKey.of(path) for path in files) if key not in done]
    rows: list[Row] = []
    if todo:
        rule_set = _rule_set(rules)
        with connected(client) as running, _progress(len(files), len(files) - len(todo), progress) as bar:
            shipped = running.scatter(rule_set, broadcast=True) if rule_set is not None else None
            futures = {
                running.submit(
                    analyze_files,
                    [(key.path, key.size, key.mtime_ns) for key in batch],
                    track_types=[pick_type(Path(key.path)) for key in batch],
                    kinds=kind_list,
                    rules=shipped,
                    max_seconds=max_seconds,
                    pure=False,
                ): batch
                for batch in batches(todo, workers=max(1, sum(running.nthreads().values())))
            }
            rows = _collect(futures, pick_type, store, bar, part_rows)
    paths = [str(path) for path in files]
    if store is None:
        return results_table([pd.DataFrame(rows)], paths=paths)
    from .store import read_results

    return read_results(store.folder, paths=paths)


def batches(keys: Sequence[FileKey], *, workers: int) -> list[list[FileKey]]:
    """``keys`` cut into tasks: the largest files first, in tasks that shrink as the run goes on.

    Each task takes its share of what is left spread over twice the workers (at most
    MAX_BATCH_FILES), so early tasks amortise Dask's per-task cost over several files while the
    last ones hold a single small file each, and no worker is left with a long task at the end.
    """
    remaining = sorted(keys, key=lambda key: key.size, reverse=True)
    cut: list[list[FileKey]] = []
    while remaining:
        take = min(MAX_BATCH_FILES, max(1, len(remaining) // (2 * workers)))
        cut.append(remaining[:take])
        remaining = remaining[take:]
    return cut


def _collect(
    futures: dict[Any, list[FileKey]],
    pick_type: Callable[[Path], str],
    store: ResultStore | None,
    bar: Any,
    part_rows: int,
) -> list[Row]:
    """Gather rows as tasks finish, writing them to ``store`` in small parts (and whatever is left on the way out)."""
    from distributed import as_completed

    rows: list[Row] = []
    waiting: list[Row] = []
    oldest = time.monotonic()
    try:
        for future in as_completed(futures):
            batch = futures[future]
            try:
                done: list[Row] = future.result()
            except Exception as exc:  # KilledWorker, CancelledError, ...: reported against each of its files
                done = [
                    empty_row(
                        (key.path, key.size, key.mtime_ns),
                        pick_type(Path(key.path)),
                        f"task for {key.path} failed: {describe_failure(exc)}",
                    )
                    for key in batch
                ]
            rows.extend(done)
            if not waiting:
                oldest = time.monotonic()
            waiting.extend(done)
            bar.update(len(done))
            if store is not None and (len(waiting) >= part_rows or time.monotonic() - oldest >= FLUSH_SECONDS):
                part, waiting = waiting, []  # taken first: an interruption mid-write never writes it twice
                store.append(part)
    finally:
        if store is not None:
            store.append(waiting)
        for future in futures:
            future.cancel()
    return rows
