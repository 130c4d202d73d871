"""Analysis types: from an ``analyze`` request (or an array in a notebook) to insights, suggestions and a score.

An analysis type is a function taking a :class:`TrackRequest` and returning an
:class:`AnalysisResult` (or a dict); the engine keeps them in a
:class:`~codette_lab.registry.Registry` that a notebook extends live. The
package is split along its seams:

- :mod:`.model`: what a function receives and returns (``Levels``, ``TrackRequest``, ``AnalysisResult``);
- :mod:`.builtin_types`: the built-in types and their shared pipeline (``judge_metrics``);
- :mod:`.insights`: the prose of a built-in analysis;
- :mod:`.coerce`: checking what a notebook's function returned;
- :mod:`.wire`: an ``analyze`` request to a result, audio decoding included (``answer_analyze``);
- :mod:`.arrays`: the Python entry point ``analyze(y, sr, ...)``.

The measurements themselves (arrays in, metrics out) are :mod:`codette_lab.analysis`.
"""

from .arrays import analyze
from .builtin_types import builtin_analysis_types, judge_metrics
from .model import NOT_RATED_SCORE, AnalysisResult, Levels, TrackRequest
from .wire import answer_analyze

__all__ = [
    "NOT_RATED_SCORE",
    "AnalysisResult",
    "Levels",
    "TrackRequest",
    "analyze",
    "answer_analyze",
    "builtin_analysis_types",
    "judge_metrics",
]
