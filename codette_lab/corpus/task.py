"""Corpus tasks, run on Dask workers: read a file, analyze it, return one flat table row (a task
takes a few files in turn, see :func:`analyze_files`).

Workers read the files themselves (only paths travel to them, only a row of
numbers and texts travels back), so the client never holds audio. A file
longer than ``max_seconds`` is refused before it is read, which bounds the
memory one task can take; any failure becomes the row's ``error`` text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..rules import RuleSet

#: Longest file a task reads, in seconds (20 minutes of stereo float32 audio is about 0.4 GB).
MAX_SECONDS = 1200.0

#: Columns every row has besides the measurements; the list columns hold one entry per finding.
KEY_COLUMNS = ("path", "size", "mtime_ns")
INFO_COLUMNS = ("track_type", "error", "duration_s")
LIST_COLUMNS = ("findings", "problems", "suggestions")

#: Per-kind score columns are named SCORE_PREFIX + kind (``score.quality``).
SCORE_PREFIX = "score."

Row = dict[str, Any]


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metrics as one level, named as the rules name them (``band_energy_db.sub_bass``)."""
    flat: dict[str, Any] = {}
    for name, value in metrics.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def describe_failure(exc: BaseException) -> str:
    """Our errors carry their own exact text; anything else is named by its type."""
    from ..errors import CodetteError

    return str(exc) if isinstance(exc, CodetteError) else f"{type(exc).__name__}: {exc}"


def empty_row(key: Sequence[Any], track_type: str, error: str | None) -> Row:
    """A row with its file's identity and no results (the start of every row, and all of a failed one)."""
    row: Row = dict(zip(KEY_COLUMNS, key, strict=True))
    row.update(track_type=track_type, error=error, duration_s=None, findings=[], problems=[], suggestions=[])
    return row


def _read(path: str, max_seconds: float) -> tuple[Any, int]:
    """(channels, n) float32 audio and its rate; ValueError for a file over ``max_seconds`` (before reading it)."""
    from ..audio_input import read_samples

    def too_long(seconds: float) -> ValueError:
        return ValueError(f"the file lasts {seconds:.0f} s, longer than the {max_seconds:g} s a task reads")

    return read_samples(path, max_seconds=max_seconds, too_long=too_long)


def analyze_file(
    key: Sequence[Any],
    *,
    kinds: Sequence[str],
    track_type: str,
    rules: RuleSet | None,
    max_seconds: float = MAX_SECONDS,
) -> Row:
    """Read the file of ``key`` (path, size, mtime_ns) and analyze it for every kind; never raises.

    Metrics of all kinds share one set of columns (a measurement has one value
    whichever kind asked for it); findings and suggestions are the union over
    the kinds, each once, in the order found.
    """
    from ..analysis import single_threaded
    from ..analysis_types import analyze

    path = str(key[0])
    try:
        y, sr = _read(path, max_seconds)
    except Exception as exc:  # soundfile raises LibsndfileError, TypeError, OSError, ... for bad files
        return empty_row(key, track_type, f"cannot read audio file {path}: {exc}")
    row = empty_row(key, track_type, None)
    metrics: dict[str, Any] = {}
    findings: dict[str, str] = {}
    suggestions: dict[str, None] = {}
    try:
        with single_threaded():  # the cluster already spreads files over the cores
            for kind in kinds:
                result = analyze(y, sr, kind=kind, track_type=track_type, rules=rules)
                row[SCORE_PREFIX + kind] = result.quality_score
                metrics.update(flatten(result.metrics))
                findings.update((finding.rule_id, finding.problem) for finding in result.problems)
                suggestions.update(dict.fromkeys(result.suggestions))
    except Exception as exc:  # one broken file must not end the corpus run
        return empty_row(key, track_type, f"analysis of {path} failed: {describe_failure(exc)}")
    row.update(metrics)
    row.update(
        duration_s=y.shape[1] / sr,
        findings=list(findings),
        problems=list(findings.values()),
        suggestions=list(suggestions),
    )
    return row


def analyze_files(keys: Sequence[Sequence[Any]], *, track_types: Sequence[str], **options: Any) -> list[Row]:
    """:func:`analyze_file` for each key in turn (``track_types[i]`` for ``keys[i]``): one row per file.

    One task for several files spends Dask's per-task work (scheduling, fetching the result) once for
    them all; the files are still read and analyzed one at a time, so memory is that of one file.
    """
    return [
        analyze_file(key, track_type=track_type, **options) for key, track_type in zip(keys, track_types, strict=True)
    ]
