"""One immutable state of a rule set: the validated document and every parameter's value.

A :class:`RuleSnapshot` answers everything a request needs from the rules
(findings, score, coverage, texts, loudness targets) without ever changing;
the live :class:`~codette_lab.rules.ruleset.RuleSet` swaps in a new one on
every change, so a request judged against one snapshot stays consistent.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import RequestError, RulesError
from ..tracktypes import canonical_track_type
from . import balance
from . import evaluate as evaluation
from .advising import advise
from .model import ANY, AnalysisTypeTexts, Document, Finding, LoudnessTarget, Parameter, Rule
from .schema import resolver
from .templates import lookup_in
from .vocabulary import FORMAT, VERSION

#: A numeric loudness target (LUFS) must lie in this range.
CUSTOM_TARGET_RANGE = (-70.0, 0.0)
CUSTOM_TARGET_NAME = "custom"


@dataclass(frozen=True)
class Coverage:
    """Which of the rules that apply to a request its metrics let be judged, by rule id in file order.

    A rule is judged when every metric it reads (its condition's and its
    ``when`` conditions', derived ones included) is a number: it then either
    fired or passed. A rule missing one could do neither (a levels-only
    request has no stereo correlation). ``specific`` rules are written for
    some analysis types only: the checks a type is about, as opposed to the
    ones every type runs (muted, clipping, ...).
    """

    judged: tuple[str, ...]
    not_judged: tuple[str, ...]
    specific: tuple[str, ...]

    @property
    def specific_not_judged(self) -> tuple[str, ...]:
        """The type's own checks that could not be judged."""
        return tuple(rule_id for rule_id in self.specific if rule_id in self.not_judged)

    @property
    def type_judged(self) -> bool:
        """True when at least one of the type's own checks was judged (or it has none and another check was)."""
        if self.specific:
            return len(self.specific_not_judged) < len(self.specific)
        return bool(self.judged)


class RuleSnapshot:
    """One immutable state of a rule set: the document and every parameter's value."""

    def __init__(self, document: Document, values: Mapping[str, float]) -> None:
        self.document = document
        self.values: Mapping[str, float] = dict(values)
        self._resolve = resolver(document)
        self._applicable: dict[tuple[str, str], tuple[Rule, ...]] = {}

    # -- parameters ---------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> float:
        return self.values[self.parameter(name).name]

    def __contains__(self, name: object) -> bool:
        return name in self.document.parameters

    def parameter(self, name: str) -> Parameter:
        """The parameter ``name`` with its current value, or RulesError listing the groups."""
        spec = self.document.parameters.get(name) if isinstance(name, str) else None
        if spec is None:
            groups = sorted({parameter.group for parameter in self.document.parameters.values()})
            raise RulesError(
                f"Unknown rule parameter {name!r}: expected a name like 'vocal.highpass_hz' "
                f"(groups: {', '.join(groups)})"
            )
        return Parameter(**{**spec.__dict__, "value": self.values[spec.name]})

    def parameters(self) -> list[Parameter]:
        return [self.parameter(name) for name in self.document.parameters]

    def resolve(self, name: str, track_type: str) -> str:
        """The parameter a threshold or placeholder means for a track type (``type.x`` -> ``vocal.x``)."""
        resolved = self._resolve(name, track_type)
        if resolved is None:
            raise RulesError(f"Rule parameter {name!r} has no value for track type {track_type!r}")
        return resolved

    def lookup_for(self, track_type: str) -> Callable[[str], Any]:
        """Parameter values by name, ``type.x`` names read for ``track_type``."""

        def lookup(name: str) -> Any:
            resolved = self._resolve(name, track_type)
            return self.values[resolved] if resolved is not None else None

        return lookup

    def with_values(self, changes: Mapping[str, float]) -> RuleSnapshot:
        return RuleSnapshot(self.document, {**self.values, **changes})

    # -- targets --------------------------------------------------------------------------------------

    def loudness_target(self, target: str | float | None = None) -> LoudnessTarget:
        """A named target (``streaming``, ``broadcast``, ``podcast``), a LUFS number, or None for the default."""
        if target is None:
            target = self.document.default_target
        if isinstance(target, str):
            spec = self.document.targets.get(target.strip().lower())
            if spec is None:
                raise RequestError(self.target_error(target))
            return LoudnessTarget(
                name=spec.name,
                label=spec.label,
                lufs=self.values[spec.lufs_parameter],
                true_peak_dbtp=self.values[spec.true_peak_parameter],
            )
        low, high = CUSTOM_TARGET_RANGE
        numeric = isinstance(target, (int, float)) and not isinstance(target, bool)
        if not numeric or not math.isfinite(target) or not low <= target <= high:
            raise RequestError(self.target_error(target))
        return LoudnessTarget(
            name=CUSTOM_TARGET_NAME,
            label=f"{target:g} LUFS",
            lufs=float(target),
            true_peak_dbtp=self.values[self.document.custom_true_peak_parameter],
        )

    def target_error(self, target: object) -> str:
        low, high = CUSTOM_TARGET_RANGE
        names = ", ".join(f"'{name}'" for name in self.document.targets)
        return f"Unknown loudness target {target!r}: expected one of {names} or a LUFS number from {low:g} to {high:g}"

    # -- evaluation -----------------------------------------------------------------------------------

    def evaluate(
        self,
        metrics: Mapping[str, Any],
        *,
        track_type: str,
        analysis_type: str,
        track_name: str | None = None,
        target: str | float | LoudnessTarget | None = None,
        other_track_name: str | None = None,
        other_track_type: str | None = None,
        render_texts: bool = True,
    ) -> list[Finding]:
        """The findings of the rules that apply to this track type and analysis type, most serious first.

        ``track_type`` may be any alias (``"vox"``); ``target`` a target name, a LUFS number or None;
        ``render_texts=False`` leaves the findings' problem and suggestion texts empty.
        """
        situation = evaluation.Situation(
            track_type=canonical_track_type(track_type),
            analysis_type=analysis_type,
            track_name=track_name,
            target=target if isinstance(target, LoudnessTarget) else self.loudness_target(target),
            other_track_name=other_track_name,
            other_track_type=canonical_track_type(other_track_type) if other_track_type else None,
        )
        return evaluation.evaluate(self, metrics, situation, render_texts=render_texts)

    def measures(self, metrics: Mapping[str, Any], *, track_type: str, analysis_type: str) -> dict[str, Any]:
        """``metrics`` as the rules read them (flat), plus every derived measure, for the default target.

        The derived ones include the amounts remedies name (``peak_over_headroom_db``, ...): a caller wording
        findings itself (chat) quotes the same figures as the rules' suggestions.
        """
        situation = evaluation.Situation(
            track_type=canonical_track_type(track_type),
            analysis_type=analysis_type,
            track_name=None,
            target=self.loudness_target(None),
        )
        return evaluation.derive(evaluation.flatten(metrics), self, situation)

    def score(
        self,
        findings: list[Finding],
        metrics: Mapping[str, Any] | None = None,
        *,
        track_type: str = "audio",
        analysis_type: str = "quality",
    ) -> float:
        """A quality score in [0, 1] that follows from the findings' penalties and, given the track's
        ``metrics`` for an analysis that judges the tone, from how far its tonal balance leans past what is
        normal for its type (:mod:`.balance`: a fault too small for a finding still lowers the score)."""
        kept, _ = self._balance(metrics, track_type=track_type, analysis_type=analysis_type)
        return evaluation.score(findings, kept)

    def balance_insight(self, metrics: Mapping[str, Any], *, track_type: str, analysis_type: str) -> str | None:
        """The sentence naming how the tone leans when it costs the score (the rule file's ``balance_lean``
        text; None when nothing leans :data:`.balance.MENTION_Z` spreads past the middle, or the file has no
        such text)."""
        if "balance_lean" not in self.document.texts:
            return None
        kept, measures = self._balance(metrics, track_type=track_type, analysis_type=analysis_type)
        lean = balance.strongest(measures) if kept < 1.0 else None
        if lean is None:
            return None
        values = {"leaning": lean[0], "spreads": lean[1], "cost": 1.0 - kept, "track_type": track_type}
        return self.text("balance_lean", track_type=track_type, values=values)

    def _balance(
        self, metrics: Mapping[str, Any] | None, *, track_type: str, analysis_type: str
    ) -> tuple[float, Mapping[str, Any]]:
        """The share the balance keeps and the measures it was read from (derived once for both)."""
        parameter = self.lookup_for(canonical_track_type(track_type))  # None for a parameter a rule file lacks
        rate, cap = parameter("general.balance_cost_rate"), parameter("general.balance_cost_max")
        if metrics is None or analysis_type not in balance.ANALYSIS_TYPES or rate is None or cap is None:
            return 1.0, {}
        measures = self.measures(metrics, track_type=track_type, analysis_type=analysis_type)
        return balance.kept(measures.get("balance_lean"), rate=rate, cap=cap), measures

    def applicable(self, track_type: str, analysis_type: str) -> tuple[Rule, ...]:
        """The rules that apply to this track type and analysis type, in file order (found once per pair:
        the document never changes, and every request of that pair asks again)."""
        key = (track_type, analysis_type)
        rules = self._applicable.get(key)
        if rules is None:
            rules = tuple(
                rule for rule in self.document.rules if rule.applies(track_type=track_type, analysis_type=analysis_type)
            )
            self._applicable[key] = rules
        return rules

    def rule(self, rule_id: str) -> Rule | None:
        """The first rule with this id in file order (the one its teaching words and unit describe), or None."""
        return next((rule for rule in self.document.rules if rule.id == rule_id), None)

    def rule_count(self, *, track_type: str, analysis_type: str) -> int:
        """How many rules would be checked for this track type and analysis type."""
        return len(self.applicable(track_type, analysis_type))

    def coverage(
        self,
        metrics: Mapping[str, Any],
        *,
        track_type: str,
        analysis_type: str,
        target: str | float | LoudnessTarget | None = None,
    ) -> Coverage:
        """Which of the rules that apply could be judged on these metrics (see :class:`Coverage`)."""
        track_type = canonical_track_type(track_type)
        situation = evaluation.Situation(
            track_type=track_type,
            analysis_type=analysis_type,
            track_name=None,
            target=target if isinstance(target, LoudnessTarget) else self.loudness_target(target),
        )
        flat = evaluation.derive(evaluation.flatten(metrics), self, situation)
        judged: list[str] = []
        not_judged: list[str] = []
        specific: list[str] = []
        for rule in self.applicable(track_type, analysis_type):
            conditions = (rule.condition, *rule.when)
            measured = all(evaluation.number(flat.get(condition.metric)) is not None for condition in conditions)
            (judged if measured else not_judged).append(rule.id)
            if ANY not in rule.analysis_types:
                specific.append(rule.id)
        return Coverage(judged=tuple(judged), not_judged=tuple(not_judged), specific=tuple(specific))

    # -- texts ------------------------------------------------------------------------------------------

    def advice(
        self,
        track_type: str,
        categories: Iterable[str],
        *,
        fired: Iterable[str] = (),
        metrics: Mapping[str, Any] | None = None,
    ) -> list[tuple[str, str]]:
        """(category, text) of the track type's advice in those categories, parameters filled in.

        Advice that names a rule in its ``unless`` is left out when that rule ``fired``; with the track's
        ``metrics``, a tip they contradict is adapted or left out (:mod:`.advising`).
        """
        track_type = canonical_track_type(track_type)
        items = self.document.advice.get(track_type, {})
        lookup = self.lookup_for(track_type)
        flat = None
        if metrics is not None:
            situation = evaluation.Situation(
                track_type=track_type, analysis_type="", track_name=None, target=self.loudness_target(None)
            )
            flat = evaluation.derive(evaluation.flatten(metrics), self, situation)
        fired_ids = set(fired)
        return [
            (category, text)
            for category in categories
            for text in advise(items.get(category, ()), lookup=lookup, fired=fired_ids, flat=flat)
        ]

    def analysis_texts(self, analysis_type: str) -> AnalysisTypeTexts | None:
        return self.document.analysis_types.get(analysis_type)

    def text(self, name: str, *, track_type: str, values: Mapping[str, Any]) -> str:
        """One of the document's ``texts`` (or ``metric_labels`` entries via :meth:`metric_label`)."""
        return evaluation.render(self.document.texts[name], _with_parameters(values, self.lookup_for(track_type)))

    def words(self, name: str, values: Mapping[str, Any] | None = None, *, track_type: str = "audio") -> str:
        """A short text of the document used inside sentences (``unnamed_track``: "this track"), filled in with
        ``values`` (metrics) and the parameters of ``track_type``; empty for an optional text the file lacks
        (written before it existed)."""
        text = self.document.texts.get(name)
        if text is None:
            return ""
        lookup = self.lookup_for(track_type)
        return text.render(lookup if values is None else _with_parameters(values, lookup))

    def situation(
        self,
        *,
        track_type: str,
        analysis_type: str,
        track_name: str | None = None,
        target: LoudnessTarget,
        other_track_name: str | None = None,
        other_track_type: str | None = None,
    ) -> dict[str, Any]:
        """The values texts can name about a request (track, target, other track), without metrics."""
        situation = evaluation.Situation(
            track_type=track_type,
            analysis_type=analysis_type,
            track_name=track_name,
            target=target,
            other_track_name=other_track_name,
            other_track_type=other_track_type,
        )
        return evaluation.context_for({}, self, situation)

    def metric_label(self, metric: str, value: Any, *, track_type: str) -> str:
        template = self.document.metric_labels[metric]
        return template.render(_with_parameters({"value": value}, self.lookup_for(track_type)))

    def opening(self, analysis_type: str, *, track_type: str, values: Mapping[str, Any]) -> str | None:
        texts = self.analysis_texts(analysis_type)
        if texts is None:
            return None
        return evaluation.render(texts.opening, _with_parameters(values, self.lookup_for(track_type)))

    # -- data ---------------------------------------------------------------------------------------------

    @functools.cached_property
    def identity(self) -> str:
        """A short stable hash of this state (document and values, not where it was read from).

        Equal rules have equal identities wherever they were loaded, so a recording or a status reply can
        say which rules answered.
        """
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The rule file for this state: the document as read, with the current parameter values."""
        raw = json.loads(json.dumps(dict(self.document.raw)))
        return {
            "format": FORMAT,
            "version": VERSION,
            "parameters": [parameter.to_dict() for parameter in self.parameters()],
            **{key: value for key, value in raw.items() if key not in ("format", "version")},
        }


def _with_parameters(values: Mapping[str, Any], parameters: Callable[[str], Any]) -> Callable[[str], Any]:
    own = lookup_in(values)

    def lookup(name: str) -> Any:
        return own(name) if name in values else parameters(name)

    return lookup
