"""codette_lab: the Codette WebSocket server for DAWs, run and reshaped live from a notebook.

Names are imported on first use, so ``codette-lab serve`` starts without
paying for librosa, numba or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Engine": "codette_lab.engine",
    "RuleSet": "codette_lab.rules",
    "analyze": "codette_lab.analysis_types",
    "AnalysisResult": "codette_lab.analysis_types",
    "Lab": "codette_lab.lab",
    "serve": "codette_lab.server",
    "BackgroundServer": "codette_lab.server",
    "CodetteError": "codette_lab.errors",
}

__all__ = ["__version__", *_EXPORTS]  # noqa: PLE0604 (the keys of _EXPORTS are strings)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'codette_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
