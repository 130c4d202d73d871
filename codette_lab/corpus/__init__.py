"""A corpus of audio files through the analysis on Dask: one table, resumable, and rules fitted to it.

- :func:`analyze` maps the analysis the server runs over many files on a
  Dask cluster (local or remote) into a pandas DataFrame, one row per file,
  written incrementally to Parquet so an interrupted run resumes.
- :func:`fit_rules` derives rule thresholds from reference tracks (per track
  type, at percentiles you choose) into a :class:`~codette_lab.RuleSet` that
  can be exported and served; :func:`fit_between` sets thresholds between clean
  tracks and tracks with faults; :func:`distance_from_reference` shows where a
  mix sits against that reference.
- ``codette-lab corpus DIR --out results.parquet`` does the analysis from a shell.

pandas, dask and distributed are imported when a corpus is analyzed, never by the server.
"""

from ..audio_input import AUDIO_SUFFIXES
from .files import FROM_FOLDER, audio_files, track_type_from_folder
from .fit import distance_from_reference, fit_between, fit_report, fit_rules
from .run import analyze
from .store import read_results
from .task import MAX_SECONDS

__all__ = [
    "AUDIO_SUFFIXES",
    "FROM_FOLDER",
    "MAX_SECONDS",
    "analyze",
    "audio_files",
    "distance_from_reference",
    "fit_between",
    "fit_report",
    "fit_rules",
    "read_results",
    "track_type_from_folder",
]
