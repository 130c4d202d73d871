"""Analyse a whole corpus of audio files on a Dask cluster, when one machine's loop is not enough.

:func:`analyze_corpus` sends one task per file to a ``distributed`` cluster
(a local one made for the call, or the :class:`distributed.Client` you pass,
which may reach many machines). Each task reads its file with soundfile and
runs the very analysis the server runs for a DAW,
:func:`codette_lab.analyze`, with the rules you tuned, so a corpus study and
the live server agree. A file that cannot be read or analysed gives a result
with its ``error`` filled in; the other files carry on.

dask and distributed are imported when a corpus is analysed, never by the
server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client

    from .rules import RuleSet

#: Extensions :func:`audio_files` collects (what libsndfile reads).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif")

#: The local cluster made when no client is given: two single-threaded worker processes.
LOCAL_WORKERS = 2

CorpusResult = dict[str, Any]


def audio_files(root: str | PathLike[str], *, extensions: Sequence[str] = AUDIO_EXTENSIONS) -> list[Path]:
    """Every audio file under ``root`` (recursively), sorted, for :func:`analyze_corpus`."""
    wanted = {extension.lower() for extension in extensions}
    return sorted(path for path in Path(root).rglob("*") if path.is_file() and path.suffix.lower() in wanted)


def _describe_failure(exc: BaseException) -> str:
    """Our errors carry their own exact text; anything else is named by its type."""
    from .errors import CodetteError

    return str(exc) if isinstance(exc, CodetteError) else f"{type(exc).__name__}: {exc}"


def _empty_result(path: str, kind: str, track_type: str, error: str | None) -> CorpusResult:
    return {
        "path": path,
        "kind": kind,
        "track_type": track_type,
        "quality_score": None,
        "metrics": {},
        "suggestions": [],
        "problems": [],
        "error": error,
    }


def analyze_file(path: str, *, kind: str, track_type: str, rules: RuleSet | None) -> CorpusResult:
    """One corpus task: read ``path`` and analyse it; failures become the result's ``error``, never raise.

    Runs on a Dask worker (any process), so it takes and returns plain,
    picklable values.
    """
    import soundfile as sf

    from .analysis_types import analyze

    try:
        frames, sr = sf.read(path, dtype="float32")
    except Exception as exc:  # soundfile raises LibsndfileError, TypeError, OSError, ... for bad files
        return _empty_result(path, kind, track_type, f"cannot read audio file {path}: {exc}")
    try:
        y = frames.T if frames.ndim == 2 else frames  # analyze takes (channels, n); soundfile gives (n, channels)
        wire = analyze(y, sr, kind=kind, track_type=track_type, rules=rules).to_wire()
    except Exception as exc:  # one broken file must not end the corpus run
        return _empty_result(path, kind, track_type, f"analysis of {path} failed: {_describe_failure(exc)}")
    result = _empty_result(path, kind, track_type, None)
    result.update(
        quality_score=wire.get("quality_score"),
        metrics=dict(wire.get("metrics") or {}),
        suggestions=list(wire.get("mixing_suggestions") or []),
        problems=list(wire.get("problems_detected") or []),
    )
    return result


def _run(client: Client, paths: list[str], *, kind: str, track_type: str, rules: RuleSet | None) -> list[CorpusResult]:
    """Map :func:`analyze_file` over ``paths`` on ``client``; a lost task (dead worker) becomes an error entry.

    The rule set travels to each worker once (scattered), not with every task.
    """
    shipped = client.scatter(rules, broadcast=True) if rules is not None else None
    futures = client.map(analyze_file, paths, kind=kind, track_type=track_type, rules=shipped, pure=False)
    results = []
    for path, future in zip(paths, futures):
        try:
            results.append(future.result())
        except Exception as exc:  # KilledWorker, CancelledError, ...: report it against its file
            results.append(_empty_result(path, kind, track_type, f"task for {path} failed: {_describe_failure(exc)}"))
    return results


def analyze_corpus(
    paths: Iterable[str | PathLike[str]],
    *,
    kind: str = "quality",
    track_type: str = "audio",
    client: Client | None = None,
    rules: RuleSet | None = None,
) -> list[CorpusResult]:
    """Analyse every file in ``paths`` on a Dask cluster; one result dict per file, in the order given.

    Each result has ``path``, ``kind``, ``track_type``, ``quality_score``,
    ``metrics`` (the analysis's measurements), ``suggestions`` (the mixing
    suggestions' texts), ``problems`` (what the rules found: rule, measured
    value, threshold, severity, text) and ``error`` (None, or why this file
    has no analysis). ``kind`` and ``track_type`` are those of
    :func:`codette_lab.analyze`; ``rules`` a :class:`~codette_lab.RuleSet`
    (default: the built-in rules), sent to the workers once.

    With ``client=None`` a local cluster of two single-threaded worker
    processes is started for the call and shut down after it (in a script,
    call it under ``if __name__ == "__main__":``, as worker processes re-import
    the main module); a given ``client`` is used as it is and left open.
    """
    files = [str(Path(path)) for path in paths]
    if not files:
        return []
    if client is not None:
        return _run(client, files, kind=kind, track_type=track_type, rules=rules)
    from distributed import Client, LocalCluster

    # dashboard_address ":0": any free port, so it never clashes with another cluster's 8787
    with (
        LocalCluster(n_workers=LOCAL_WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as local_client,
    ):
        return _run(local_client, files, kind=kind, track_type=track_type, rules=rules)
