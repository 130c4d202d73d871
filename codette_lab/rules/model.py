"""The pieces a rule set is made of, all immutable: parameters, rules, targets, findings.

A :class:`Document` is one validated rule file minus the parameter values;
the values live beside it in a :class:`~codette_lab.rules.ruleset.RuleSnapshot`,
so changing a slider builds a new snapshot that shares everything else.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import RulesError
from .templates import Template

#: Severities, least serious first; findings are listed most serious first.
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")

#: Comparison operators a rule may use.
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}

#: Written in a rule's ``track_types`` or ``analysis_types``: applies to all.
ANY = "*"


@dataclass(frozen=True)
class Parameter:
    """One tunable number of the heuristics, with its range and where the Rules panel shows it."""

    name: str
    value: float
    default: float
    minimum: float
    maximum: float
    step: float
    unit: str
    group: str
    description: str

    def checked(self, value: object) -> float:
        """``value`` as a float, or RulesError saying why it is not acceptable for this parameter."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise RulesError(f"Rule parameter '{self.name}' must be a finite number, got {value!r}")
        if not self.minimum <= value <= self.maximum:
            raise RulesError(
                f"Rule parameter '{self.name}' must be between {self.minimum:g} and {self.maximum:g}"
                f"{' ' + self.unit if self.unit else ''}, got {value:g}"
            )
        return float(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "default": self.default,
            "min": self.minimum,
            "max": self.maximum,
            "step": self.step,
            "unit": self.unit,
            "group": self.group,
            "description": self.description,
        }


@dataclass(frozen=True)
class Condition:
    """``metric op threshold``; the threshold names a parameter (``type.x`` for the track type's) or is a number."""

    metric: str
    op: str
    threshold: str | float


@dataclass(frozen=True)
class Rule:
    """One heuristic: when ``condition`` (and every ``when``) holds, it fires a finding."""

    id: str
    analysis_types: frozenset[str]
    track_types: frozenset[str]
    not_track_types: frozenset[str]
    condition: Condition
    when: tuple[Condition, ...]
    suppressed_by: tuple[str, ...]
    severity: str
    penalty: float
    problem: Template
    suggestion: Template

    def applies(self, *, track_type: str, analysis_type: str) -> bool:
        return (
            (ANY in self.analysis_types or analysis_type in self.analysis_types)
            and (ANY in self.track_types or track_type in self.track_types)
            and track_type not in self.not_track_types
        )


@dataclass(frozen=True)
class Band:
    """A named frequency band of ``band_energy_db`` and its label for texts."""

    name: str
    label: str
    low_hz: float
    high_hz: float

    @property
    def centre_hz(self) -> float:
        """Geometric centre: where a cut for this band goes."""
        return math.sqrt(self.low_hz * self.high_hz)


@dataclass(frozen=True)
class TargetSpec:
    """A named loudness target as the file describes it: parameter names, not values."""

    name: str
    label: str
    lufs_parameter: str
    true_peak_parameter: str


@dataclass(frozen=True)
class LoudnessTarget:
    """A loudness target resolved against the current parameter values."""

    name: str
    label: str
    lufs: float
    true_peak_dbtp: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "lufs": self.lufs, "true_peak_dbtp": self.true_peak_dbtp}


@dataclass(frozen=True)
class Advice:
    """One piece of track-type advice; left out when a rule in ``unless`` fired (its finding says it better).

    A measurement may contradict a generic tip: ``when`` are conditions over the track's metrics under which
    the tip holds (else ``otherwise`` is said instead, or nothing); ``move`` (``cut`` or ``boost``) and ``hz``
    (the parameter naming the tip's frequency) let a build-up measured near that frequency re-aim the cut at
    the measured one, or drop a boost that would pull against it.
    """

    template: Template
    unless: frozenset[str] = frozenset()
    when: tuple[Condition, ...] = ()
    otherwise: Template | None = None
    move: str | None = None
    hz: str | None = None


@dataclass(frozen=True)
class AnalysisTypeTexts:
    """What an analysis type says: its opening line, which advice it gives, which metrics it summarises."""

    name: str
    opening: Template
    advice: tuple[str, ...]
    summary: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    """A validated rule file without parameter values (those are in the snapshot)."""

    source: str
    parameters: Mapping[str, Parameter]
    rules: tuple[Rule, ...]
    targets: Mapping[str, TargetSpec]
    default_target: str
    custom_true_peak_parameter: str
    #: Levels-only requests estimate loudness as RMS plus this parameter.
    rms_to_lufs_parameter: str
    bands: Mapping[str, Band]
    advice: Mapping[str, Mapping[str, tuple[Advice, ...]]]
    analysis_types: Mapping[str, AnalysisTypeTexts]
    metric_labels: Mapping[str, Template]
    texts: Mapping[str, Template]
    masking_priority: tuple[str, ...]
    #: Everything but the parameters, as read (for export).
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """A rule that fired: what it read, what it compared with, how bad, and what to do."""

    rule_id: str
    metric: str
    value: float | None
    threshold: float | None
    severity: str
    problem: str
    suggestion: str
    penalty: float = 0.0

    def problem_detail(self) -> dict[str, Any]:
        """One entry of ``problems_detected``."""
        return self._detail(self.problem)

    def suggestion_detail(self) -> dict[str, Any]:
        """One entry of ``suggestion_details``."""
        return self._detail(self.suggestion)

    def _detail(self, text: str) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "severity": self.severity,
            "text": text,
        }
