"""What the Analysis tab shows about one analysis, and the report file it saves.

:func:`report_html` is the tab's text: the score (or "not scored"), the
insights, a table of every metric the analysis returned (a notebook type's
own metrics included) and the suggestions. :func:`save_report` writes the same
with the figures embedded as PNG into one self-contained HTML file.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .saving import write_text

if TYPE_CHECKING:
    from ..analysis_types import AnalysisResult

#: Text wrapping for every block the tab shows: long words and paths wrap instead of scrolling sideways.
WRAP = "overflow-wrap:anywhere;max-width:100%"


def _value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "&mdash;" if value is None else str(value).lower()
    if isinstance(value, float):
        return "&mdash;" if not math.isfinite(value) else f"{value:.4g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        shown = ", ".join(html.escape(str(item)) for item in value[:8])
        return shown + (f", &hellip; ({len(value)} values)" if len(value) > 8 else "")
    return html.escape(str(value))


def metrics_table(metrics: Mapping[str, Any]) -> str:
    """Every metric as a row (name, value); nested dicts are flattened to ``outer.inner``."""
    rows: list[tuple[str, Any]] = []
    for name, value in metrics.items():
        if isinstance(value, Mapping):
            rows.extend((f"{name}.{inner}", item) for inner, item in value.items())
        else:
            rows.append((name, value))
    if not rows:
        return "<p><i>No metrics.</i></p>"
    body = "".join(
        f"<tr><td style='padding:1px 16px 1px 0'><code>{html.escape(name)}</code></td>"
        f"<td style='text-align:right'>{_value(value)}</td></tr>"
        for name, value in rows
    )
    return f"<table class='codette-metrics' style='font-size:12px'>{body}</table>"


def score_text(analysis: AnalysisResult) -> str:
    """``quality 0.72``, or ``not scored`` when a notebook analysis type gave no score."""
    return f"quality {analysis.quality_score:.2f}" if analysis.scored else "not scored"


def report_html(analysis: AnalysisResult, track_name: str) -> str:
    """The tab's text about one analysis (see the module's docstring)."""
    suggestions = "".join(f"<li>{html.escape(text)}</li>" for text in analysis.suggestions) or "<li>None.</li>"
    return (
        f"<div style='{WRAP}'>"
        f"<h4>{html.escape(track_name)}: {html.escape(analysis.analysis_type)} "
        f"({score_text(analysis)})</h4>"
        f"<p>{html.escape(analysis.insights)}</p>"
        f"<b>Suggestions</b><ul class='codette-suggestions'>{suggestions}</ul>"
        f"<details open><summary><b>Metrics</b></summary>{metrics_table(analysis.metrics)}</details>"
        "</div>"
    )


def save_report(
    path: str | PathLike[str],
    analysis: AnalysisResult,
    track_name: str,
    pngs: Mapping[str, bytes],
    *,
    overwrite: bool = False,
    provenance: Mapping[str, str] | None = None,
) -> Path:
    """Write one self-contained HTML file: the text of :func:`report_html`, every figure as an embedded PNG,
    and what it was made from (``provenance``: source files, rules in force, version).

    A file there that this Lab did not write is replaced only with ``overwrite`` (see :mod:`.saving`).
    """
    figures = "".join(
        f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>"
        f"<figcaption>{html.escape(name)}</figcaption></figure>"
        for name, png in pngs.items()
    )
    title = f"{track_name}: {analysis.analysis_type}"
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif;max-width:900px'>"
        f"{report_html(analysis, track_name)}{figures}{_provenance_html(provenance or {})}"
        f"<p style='color:#777;font-size:11px'>Saved by codette_lab on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC</p>"
        "</body></html>"
    )
    return write_text(path, page, overwrite=overwrite, what="report")


def _provenance_html(provenance: Mapping[str, str]) -> str:
    """The report's "Made from" table: one row per fact."""
    if not provenance:
        return ""
    rows = "".join(
        f"<tr><th style='text-align:left;padding-right:12px'>{html.escape(key)}</th>"
        f"<td style='{WRAP}'>{html.escape(value)}</td></tr>"
        for key, value in provenance.items()
    )
    return f"<h4>Made from</h4><table class='codette-provenance'>{rows}</table>"
