"""Reading a rule file: JSON data in, a validated :class:`Document` out, or RulesError naming the field.

The layout (see ``default_rules.json``)::

    format, version
    parameters:  [{name, value, default, min, max, step, unit, group, description}]
    bands:       {name: {label, low_hz?, high_hz?}}  (every band of analysis.bands; edges, if written, theirs)
    loudness_targets: {default, custom_true_peak, rms_to_lufs, targets: {name: {label, lufs, true_peak_dbtp}}}
    rules:       [{id, analysis_types, track_types, not_track_types?, metric, op, threshold,
                   when?: [{metric, op, threshold}], suppressed_by?, severity, penalty, problem, suggestion}]
    advice:      {track_type: {category: [template | {text, unless: [rule id]}, ...]}}
    analysis_types: {name: {opening, advice: [category], summary: [metric]}}
    metric_labels: {metric: template}
    texts:       {name: template}
    masking_priority: [track_type, ...]

Members not in this layout are refused (a misspelt optional field is an error,
not silently ignored). Every threshold and placeholder is resolved once here, so a rule set that
loads can always be evaluated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..analysis.bands import BANDS
from ..analysis.outputs import METRIC_NAMES, PER_BAND_METRICS
from ..errors import RulesError
from ..protocol.fields import Reader
from ..protocol.texts import kind_of
from ..tracktypes import TRACK_TYPES
from .model import (
    ANY,
    OPERATORS,
    SEVERITIES,
    Advice,
    AnalysisTypeTexts,
    Band,
    Condition,
    Document,
    Parameter,
    Rule,
    TargetSpec,
)
from .templates import Template, parse_template
from .vocabulary import (
    ADVICE_CATEGORIES,
    CONDITION_FIELDS,
    CONTEXT_NAMES,
    DERIVED_METRICS,
    FORMAT,
    PARAMETER_FIELDS,
    RULE_FIELDS,
    SECTIONS,
    TEXT_NAMES,
    TRACK_STATE_METRICS,
    VERSION,
)

_PARAMETER_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
TYPE_PREFIX = "type."
GENERAL_PREFIX = "general."


def _shown(value: Any) -> str:
    """A received value for an error text: numbers and strings as written, other JSON by kind."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return repr(value)
    return kind_of(value)


class _RuleFileTexts:
    """Error texts naming the rule file and the field, as :class:`~..protocol.fields.ErrorTexts`."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _at(self, path: str) -> str:
        return f"Invalid rules in {self.source}: field '{path or '(top level)'}'"

    def missing(self, path: str, expected: str) -> RulesError:
        return RulesError(f"{self._at(path)}: missing (expected {expected})")

    def invalid(self, path: str, expected: str, value: object) -> RulesError:
        return RulesError(f"{self._at(path)}: expected {expected}, got {_shown(value)}")

    def out_of_range(self, path: str, expected: str, value: object) -> RulesError:
        shown = float(value) if isinstance(value, (int, float)) else value
        return RulesError(f"{self._at(path)}: expected {expected}, got {_shown(shown)}")

    def problem(self, path: str, text: str) -> RulesError:
        return RulesError(f"{self._at(path)}: {text}")


class _Names:
    """What a template or threshold may refer to, given the parameters and bands of this file."""

    def __init__(self, parameters: Mapping[str, Parameter], bands: Iterable[str]) -> None:
        self.parameters = parameters
        per_band = {f"{metric}.{band}" for metric in PER_BAND_METRICS for band in bands}
        self.values = {
            *METRIC_NAMES, *TRACK_STATE_METRICS, *PER_BAND_METRICS, *DERIVED_METRICS, *CONTEXT_NAMES, *per_band
        }

    def parameter_for(self, name: str, track_type: str) -> str | None:
        """The parameter ``name`` means for ``track_type`` (``type.x`` -> ``vocal.x`` or ``general.x``)."""
        if not name.startswith(TYPE_PREFIX):
            return name if name in self.parameters else None
        suffix = name[len(TYPE_PREFIX):]
        for candidate in (f"{track_type}.{suffix}", f"{GENERAL_PREFIX}{suffix}"):
            if candidate in self.parameters:
                return candidate
        return None

    def check_template(
        self, reader: Reader, key: str, track_types: Iterable[str], extra: Iterable[str] = ()
    ) -> Template:
        """The template at ``reader[key]``, every placeholder known for every one of ``track_types``."""
        return self.check_text(reader.child(key, reader.text(key)), track_types, extra)

    def check_text(self, reader: Reader, track_types: Iterable[str], extra: Iterable[str] = ()) -> Template:
        """The template that ``reader`` holds, every placeholder known for every one of ``track_types``."""
        text = reader.data
        if not isinstance(text, str):
            raise reader.fail(None, "a text template", text)
        template = parse_template(text, field=reader.path, fail=lambda _, expected: reader.fail(None, expected, text))
        allowed = self.values | set(extra)
        for name in template.names:
            if name in allowed:
                continue
            missing = [track_type for track_type in track_types if self.parameter_for(name, track_type) is None]
            if not missing:
                continue
            if name.startswith(TYPE_PREFIX):
                suffix = name[len(TYPE_PREFIX):]
                detail = f"no {missing[0]}.{suffix} or {GENERAL_PREFIX}{suffix} parameter for track type {missing[0]}"
            else:
                detail = "expected a parameter, a metric or one of value, threshold, track, ..."
            raise reader.problem(None, f"unknown placeholder {{{name}}} ({detail})")
        return template

    def check_threshold(self, reader: Reader, key: str, track_types: Iterable[str]) -> str | float:
        value = reader.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        if not isinstance(value, str):
            raise reader.fail(key, "a parameter name or a number", value)
        for track_type in track_types:
            if self.parameter_for(value, track_type) is None:
                raise reader.problem(key, f"unknown parameter '{value}' for track type {track_type}")
        return value


def _parameter(reader: Reader) -> Parameter:
    reader.only(PARAMETER_FIELDS)
    name = reader.text("name")
    if not _PARAMETER_NAME.match(name):
        raise reader.fail("name", "a name like 'vocal.highpass_hz' (group.name, lower case)", name)
    minimum, maximum = reader.number("min"), reader.number("max")
    if minimum > maximum:
        raise reader.problem("min", f"min {minimum:g} is above max {maximum:g}")
    default = reader.number("default", minimum=minimum, maximum=maximum)
    value = reader.number("value", default, minimum=minimum, maximum=maximum)
    step = reader.number("step", minimum=0, exclusive=True)
    return Parameter(
        name=name,
        value=value,
        default=default,
        minimum=minimum,
        maximum=maximum,
        step=step,
        unit=reader.text("unit", ""),
        group=reader.text("group", name.split(".")[0]),
        description=reader.text("description", ""),
    )


def _parameters(root: Reader) -> dict[str, Parameter]:
    parameters: dict[str, Parameter] = {}
    for item in root.array("parameters"):
        parameter = _parameter(item)
        if parameter.name in parameters:
            raise item.problem("name", f"duplicate parameter '{parameter.name}'")
        parameters[parameter.name] = parameter
    return parameters


def _bands(root: Reader) -> dict[str, Band]:
    """Each measured band (``analysis.bands``) with its label; edges written in the file must be the measured ones.

    The edges belong to the measurement: a file carries labels only, and one
    exported with edges loads as long as they are the edges analysis uses.
    """
    section = root.object("bands")
    section.only(BANDS, what="band (bands are the measured ones)")
    bands = {}
    for name, (low, high) in BANDS.items():
        item = section.object(name)
        item.only(("label", "low_hz", "high_hz"))
        for key, edge in (("low_hz", low), ("high_hz", high)):
            written = item.number(key, None)
            if written is not None and written != edge:
                raise item.problem(key, f"expected {edge:g} (the edge the band is measured with), got {written:g}")
        bands[name] = Band(name=name, label=item.text("label", non_empty=True), low_hz=low, high_hz=high)
    return bands


def _applicable_types(track_types: tuple[str, ...], not_track_types: tuple[str, ...]) -> list[str]:
    chosen = TRACK_TYPES if ANY in track_types else track_types
    return [track_type for track_type in chosen if track_type not in not_track_types]


def _condition(reader: Reader, names: _Names, track_types: list[str]) -> Condition:
    metric = reader.text("metric")
    if not _IDENTIFIER.match(metric):
        raise reader.fail("metric", "a metric name like 'peak_dbfs' or 'band_energy_db.sub_bass'", metric)
    return Condition(
        metric=metric,
        op=reader.choice("op", OPERATORS),
        threshold=names.check_threshold(reader, "threshold", track_types),
    )


def _when(reader: Reader, names: _Names, track_types: list[str]) -> Condition:
    """One of a rule's extra ``when`` conditions."""
    reader.only(CONDITION_FIELDS)
    return _condition(reader, names, track_types)


def _rule(reader: Reader, names: _Names) -> Rule:
    reader.only(RULE_FIELDS)
    track_choices = (ANY, *TRACK_TYPES)
    track_types = reader.strings("track_types", choices=track_choices)
    not_track_types = reader.strings("not_track_types", required=False, choices=TRACK_TYPES)
    analysis_types = reader.strings("analysis_types")
    if not track_types:
        raise reader.fail("track_types", "a non-empty array", [])
    if not analysis_types:
        raise reader.fail("analysis_types", "a non-empty array", [])
    applicable = _applicable_types(track_types, not_track_types)
    condition = _condition(reader, names, applicable)
    when = tuple(_when(item, names, applicable) for item in reader.array("when", required=False))
    own_metrics = (condition.metric, *(extra.metric for extra in when))
    penalty = reader.number("penalty", minimum=0, maximum=1)
    return Rule(
        id=reader.text("id", non_empty=True),
        analysis_types=frozenset(analysis_types),
        track_types=frozenset(track_types),
        not_track_types=frozenset(not_track_types),
        condition=condition,
        when=when,
        suppressed_by=reader.strings("suppressed_by", required=False),
        severity=reader.choice("severity", SEVERITIES),
        penalty=penalty,
        problem=names.check_template(reader, "problem", applicable, own_metrics),
        suggestion=names.check_template(reader, "suggestion", applicable, own_metrics),
    )


def _rules(root: Reader, names: _Names) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    items = root.array("rules")
    for item in items:
        rule = _rule(item, names)
        if rule.id in seen:
            raise item.problem("id", f"duplicate rule id '{rule.id}'")
        seen.add(rule.id)
        rules.append(rule)
    for item, rule in zip(items, rules, strict=True):
        unknown = [other for other in rule.suppressed_by if other not in seen]
        if unknown:
            raise item.problem("suppressed_by", f"unknown rule id '{unknown[0]}'")
    return tuple(rules)


def _parameter_name(reader: Reader, key: str, names: _Names) -> str:
    name = reader.text(key)
    if name not in names.parameters:
        raise reader.problem(key, f"unknown parameter '{name}'")
    return name


def _targets(root: Reader, names: _Names) -> tuple[dict[str, TargetSpec], str, str, str]:
    section = root.object("loudness_targets")
    section.only(("default", "custom_true_peak", "rms_to_lufs", "targets"))
    targets = {}
    for name, item in section.object("targets").items():
        item.only(("label", "lufs", "true_peak_dbtp"))
        targets[name] = TargetSpec(
            name=name,
            label=item.text("label"),
            lufs_parameter=_parameter_name(item, "lufs", names),
            true_peak_parameter=_parameter_name(item, "true_peak_dbtp", names),
        )
    if not targets:
        raise section.problem("targets", "at least one loudness target is needed")
    default = section.choice("default", targets)
    custom = _parameter_name(section, "custom_true_peak", names)
    return targets, default, custom, _parameter_name(section, "rms_to_lufs", names)


def _advice_item(item: Reader, names: _Names, track_type: str, rule_ids: set[str]) -> Advice:
    """A text template, or ``{"text": template, "unless": [rule ids]}``."""
    if not isinstance(item.data, dict):
        return Advice(template=names.check_text(item, [track_type]))
    item.only(("text", "unless"))
    unless = item.strings("unless", required=False, choices=rule_ids)
    return Advice(template=names.check_template(item, "text", [track_type]), unless=frozenset(unless))


def _advice(root: Reader, names: _Names, rules: tuple[Rule, ...]) -> dict[str, dict[str, tuple[Advice, ...]]]:
    section = root.object("advice")
    section.only(TRACK_TYPES, what="track type")
    rule_ids = {rule.id for rule in rules}
    advice: dict[str, dict[str, tuple[Advice, ...]]] = {}
    for track_type in TRACK_TYPES:
        per_type = section.object(track_type)
        advice[track_type] = {}
        for category, item in per_type.items():
            if category not in ADVICE_CATEGORIES:
                raise item.fail(None, f"a category among {', '.join(ADVICE_CATEGORIES)}", category)
            advice[track_type][category] = tuple(
                _advice_item(text, names, track_type, rule_ids) for text in per_type.array(category)
            )
    return advice


def _analysis_types(root: Reader, names: _Names, metric_labels: Mapping[str, Template]) -> dict[str, AnalysisTypeTexts]:
    result = {}
    for name, item in root.object("analysis_types").items():
        item.only(("opening", "advice", "summary"))
        summary = item.strings("summary", choices=metric_labels)
        result[name] = AnalysisTypeTexts(
            name=name,
            opening=names.check_template(item, "opening", TRACK_TYPES),
            advice=item.strings("advice", choices=ADVICE_CATEGORIES),
            summary=summary,
        )
    return result


def _metric_labels(root: Reader, names: _Names) -> dict[str, Template]:
    labels = {}
    for metric, item in root.object("metric_labels").items():
        if metric not in names.values:
            raise item.problem(None, "unknown metric")
        labels[metric] = names.check_text(item, TRACK_TYPES)
    return labels


def _texts(root: Reader, names: _Names) -> dict[str, Template]:
    section = root.object("texts")
    section.only(TEXT_NAMES, what="text")
    return {name: names.check_template(section, name, TRACK_TYPES) for name in TEXT_NAMES}


def parse_document(data: Any, *, source: str) -> tuple[Document, dict[str, float]]:
    """Validate one rule file's data; returns the document and the parameter values it sets."""
    root = Reader(data, _RuleFileTexts(source))
    if not isinstance(data, dict):
        raise root.fail(None, "a JSON object", data)
    if root.get("format", None) != FORMAT:
        raise root.fail("format", repr(FORMAT), root.get("format", None))
    version = root.number("version")
    if version != VERSION:
        raise root.fail("version", str(VERSION), version)
    root.only(SECTIONS, what="section")
    parameters = _parameters(root)
    bands = _bands(root)
    names = _Names(parameters, bands)
    targets, default_target, custom, rms_to_lufs = _targets(root, names)
    metric_labels = _metric_labels(root, names)
    priority = root.strings("masking_priority", choices=TRACK_TYPES)
    rules = _rules(root, names)
    document = Document(
        source=source,
        parameters=parameters,
        rules=rules,
        targets=targets,
        default_target=default_target,
        custom_true_peak_parameter=custom,
        rms_to_lufs_parameter=rms_to_lufs,
        bands=bands,
        advice=_advice(root, names, rules),
        analysis_types=_analysis_types(root, names, metric_labels),
        metric_labels=metric_labels,
        texts=_texts(root, names),
        masking_priority=priority,
        raw={key: value for key, value in data.items() if key != "parameters"},
    )
    return document, {name: parameter.value for name, parameter in parameters.items()}


def resolver(document: Document) -> Callable[[str, str], str | None]:
    """``resolve(name, track_type)``: the parameter a threshold or placeholder means for a track type."""
    return _Names(document.parameters, document.bands).parameter_for
