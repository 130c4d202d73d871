"""Reading a rule file: JSON data in, a validated :class:`Document` out, or RulesError naming the field.

The layout (see ``default_rules.json``)::

    format, version
    parameters:  [{name, value, default, min, max, step, unit, group, description}]
    bands:       {name: {label, low_hz, high_hz}}
    loudness_targets: {default, custom_true_peak, rms_to_lufs, targets: {name: {label, lufs, true_peak_dbtp}}}
    rules:       [{id, analysis_types, track_types, not_track_types?, metric, op, threshold,
                   when?: [{metric, op, threshold}], suppressed_by?, severity, penalty, problem, suggestion}]
    advice:      {track_type: {category: [template | {text, unless: [rule id]}, ...]}}
    analysis_types: {name: {opening, advice: [category], summary: [metric]}}
    metric_labels: {metric: template}
    texts:       {name: template}
    masking_priority: [track_type, ...]

Every threshold and placeholder is resolved once here, so a rule set that
loads can always be evaluated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import RulesError
from ..protocol.texts import kind_of
from ..tracktypes import TRACK_TYPES
from .model import (
    ANY,
    Advice,
    OPERATORS,
    SEVERITIES,
    AnalysisTypeTexts,
    Band,
    Condition,
    Document,
    Parameter,
    Rule,
    TargetSpec,
)
from .templates import Template, parse_template

FORMAT = "codette-lab-rules"
VERSION = 1

#: Metrics the built-in measurements produce (``band_energy_db`` and ``masking_band_overlap`` are per band).
METRIC_NAMES: tuple[str, ...] = (
    "peak_dbfs", "rms_dbfs", "crest_factor_db", "clipped_samples", "dc_offset", "duration_s", "sample_rate",
    "true_peak_dbtp", "integrated_lufs", "momentary_lufs_max", "short_term_lufs_max", "loudness_range_lu",
    "spectral_centroid_hz", "spectral_rolloff_hz", "spectral_flatness", "stereo_correlation", "stereo_width",
    "onsets_per_second", "transient_crest_db", "attack_time_ms", "masking_overlap", "channels", "muted",
    "soloed",
)
PER_BAND_METRICS: tuple[str, ...] = ("band_energy_db", "masking_band_overlap")

#: Metrics computed from the others when a rule set evaluates (see ``evaluate.derive``).
DERIVED_METRICS: tuple[str, ...] = (
    "dc_offset_abs", "loudness_lufs", "loudness_above_target_lu", "loudness_below_target_lu",
    "peak_over_ceiling_db", "true_peak_over_ceiling_db",
)

#: Values a template may name besides metrics and parameters.
CONTEXT_NAMES: tuple[str, ...] = (
    "value", "threshold", "over", "under", "metric", "track", "track_type", "analysis_type",
    "target_name", "target_label", "target_lufs", "target_true_peak_dbtp", "loudness_source",
    "other_track", "other_track_type", "cut_track", "keep_track",
    "band", "band_label", "band_low_hz", "band_high_hz", "band_centre_hz",
    "summary", "count", "problems", "rule_count", "given", "known", "channels_text",
)

#: Texts every rule file provides (how insights are put together).
TEXT_NAMES: tuple[str, ...] = (
    "measured_from_levels", "measured_from_audio", "no_problems", "problems", "unknown_track_type",
    "no_measurements", "unnamed_track", "unnamed_other_track", "loudness_measured", "loudness_estimated",
)

#: Categories of per-track-type advice.
ADVICE_CATEGORIES: tuple[str, ...] = ("eq", "dynamics", "level", "stereo", "transients")

_PARAMETER_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
TYPE_PREFIX = "type."
GENERAL_PREFIX = "general."


def _shown(value: Any) -> str:
    """A received value for an error text: numbers and strings as written, other JSON by kind."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return repr(value)
    return kind_of(value)


class _Reader:
    """Typed access to one JSON object of the rule file, with errors naming the file and the field."""

    def __init__(self, source: str, data: Any, path: str) -> None:
        self.source = source
        self.data = data
        self.path = path

    def fail(self, field: str, expected: str, got: Any = None, *, shown: str | None = None) -> RulesError:
        got_text = shown if shown is not None else _shown(got)
        return RulesError(f"Invalid rules in {self.source}: field '{field}': expected {expected}, got {got_text}")

    def problem(self, field: str, problem: str) -> RulesError:
        return RulesError(f"Invalid rules in {self.source}: field '{field}': {problem}")

    def at(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def child(self, key: str | int, value: Any) -> _Reader:
        return _Reader(self.source, value, self.at(key))

    def get(self, key: str, *, required: bool = True) -> Any:
        if not isinstance(self.data, dict):
            raise self.fail(self.path, "an object", self.data)
        if key not in self.data:
            if required:
                raise self.problem(self.at(key), "missing")
            return None
        return self.data[key]

    def object(self, key: str, *, required: bool = True) -> _Reader:
        value = self.get(key, required=required)
        if value is None and not required:
            return self.child(key, {})
        if not isinstance(value, dict):
            raise self.fail(self.at(key), "an object", value)
        return self.child(key, value)

    def items(self) -> Iterable[tuple[str, _Reader]]:
        return ((key, self.child(key, value)) for key, value in self.data.items())

    def array(self, key: str, *, required: bool = True) -> list[_Reader]:
        value = self.get(key, required=required)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self.fail(self.at(key), "an array", value)
        return [self.child_of(key, index, item) for index, item in enumerate(value)]

    def child_of(self, key: str, index: int, value: Any) -> _Reader:
        return _Reader(self.source, value, f"{self.at(key)}[{index}]")

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.get(key, required=required)
        if value is None and not required:
            return default
        if not isinstance(value, str):
            raise self.fail(self.at(key), "a string", value)
        return value

    def number(self, key: str, *, required: bool = True, default: float | None = None) -> float:
        value = self.get(key, required=required)
        if value is None and not required and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(self.at(key), "a finite number", value)
        return float(value)

    def strings(self, key: str, *, required: bool = True, choices: Iterable[str] | None = None) -> tuple[str, ...]:
        items = self.array(key, required=required)
        allowed = set(choices) if choices is not None else None
        values = []
        for item in items:
            if not isinstance(item.data, str):
                raise self.fail(item.path, "a string", item.data)
            if allowed is not None and item.data not in allowed:
                raise self.fail(item.path, f"one of {', '.join(sorted(allowed))}", item.data)
            values.append(item.data)
        return tuple(values)

    def choice(self, key: str, choices: Iterable[str]) -> str:
        value = self.text(key)
        options = tuple(choices)
        if value not in options:
            raise self.fail(self.at(key), f"one of {', '.join(options)}", value)
        return value


class _Names:
    """What a template or threshold may refer to, given the parameters and bands of this file."""

    def __init__(self, parameters: Mapping[str, Parameter], bands: Iterable[str]) -> None:
        self.parameters = parameters
        per_band = {f"{metric}.{band}" for metric in PER_BAND_METRICS for band in bands}
        self.values = {*METRIC_NAMES, *PER_BAND_METRICS, *DERIVED_METRICS, *CONTEXT_NAMES, *per_band}

    def parameter_for(self, name: str, track_type: str) -> str | None:
        """The parameter ``name`` means for ``track_type`` (``type.x`` -> ``vocal.x`` or ``general.x``)."""
        if not name.startswith(TYPE_PREFIX):
            return name if name in self.parameters else None
        suffix = name[len(TYPE_PREFIX):]
        for candidate in (f"{track_type}.{suffix}", f"{GENERAL_PREFIX}{suffix}"):
            if candidate in self.parameters:
                return candidate
        return None

    def check_template(self, reader: _Reader, key: str, track_types: Iterable[str], extra: Iterable[str] = ()) -> Template:
        """The template at ``reader[key]``, every placeholder known for every one of ``track_types``."""
        return self.check_text(reader, reader.text(key), reader.at(key), track_types, extra)

    def check_text(
        self, reader: _Reader, text: Any, field: str, track_types: Iterable[str], extra: Iterable[str] = ()
    ) -> Template:
        if not isinstance(text, str):
            raise reader.fail(field, "a text template", text)
        template = parse_template(text, field=field, fail=lambda at, expected: reader.fail(at, expected, text))
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
            raise reader.problem(field, f"unknown placeholder {{{name}}} ({detail})")
        return template

    def check_threshold(self, reader: _Reader, key: str, track_types: Iterable[str]) -> str | float:
        value = reader.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        if not isinstance(value, str):
            raise reader.fail(reader.at(key), "a parameter name or a number", value)
        for track_type in track_types:
            if self.parameter_for(value, track_type) is None:
                raise reader.problem(reader.at(key), f"unknown parameter '{value}' for track type {track_type}")
        return value


def _parameter(reader: _Reader) -> Parameter:
    name = reader.text("name")
    if not _PARAMETER_NAME.match(name):
        raise reader.fail(reader.at("name"), "a name like 'vocal.highpass_hz' (group.name, lower case)", name)
    minimum, maximum = reader.number("min"), reader.number("max")
    if minimum > maximum:
        raise reader.problem(reader.at("min"), f"min {minimum:g} is above max {maximum:g}")
    default = reader.number("default")
    value = reader.number("value", required=False, default=default)
    for key, number in (("default", default), ("value", value)):
        if not minimum <= number <= maximum:
            raise reader.fail(reader.at(key), f"a number between {minimum:g} and {maximum:g}", number)
    step = reader.number("step")
    if step <= 0:
        raise reader.fail(reader.at("step"), "a number > 0", step)
    return Parameter(
        name=name,
        value=value,
        default=default,
        minimum=minimum,
        maximum=maximum,
        step=step,
        unit=reader.text("unit", required=False),
        group=reader.text("group", required=False, default=name.split(".")[0]),
        description=reader.text("description", required=False),
    )


def _parameters(root: _Reader) -> dict[str, Parameter]:
    parameters: dict[str, Parameter] = {}
    for item in root.array("parameters"):
        parameter = _parameter(item)
        if parameter.name in parameters:
            raise item.problem(item.at("name"), f"duplicate parameter '{parameter.name}'")
        parameters[parameter.name] = parameter
    return parameters


def _bands(root: _Reader) -> dict[str, Band]:
    bands = {}
    for name, item in root.object("bands").items():
        low, high = item.number("low_hz"), item.number("high_hz")
        if not 0 < low < high:
            raise item.problem(item.at("high_hz"), f"expected 0 < low_hz < high_hz, got {low:g} and {high:g}")
        bands[name] = Band(name=name, label=item.text("label"), low_hz=low, high_hz=high)
    return bands


def _applicable_types(track_types: tuple[str, ...], not_track_types: tuple[str, ...]) -> list[str]:
    chosen = TRACK_TYPES if ANY in track_types else track_types
    return [track_type for track_type in chosen if track_type not in not_track_types]


def _condition(reader: _Reader, names: _Names, track_types: list[str]) -> Condition:
    metric = reader.text("metric")
    if not _IDENTIFIER.match(metric):
        raise reader.fail(reader.at("metric"), "a metric name like 'peak_dbfs' or 'band_energy_db.sub_bass'", metric)
    return Condition(
        metric=metric,
        op=reader.choice("op", OPERATORS),
        threshold=names.check_threshold(reader, "threshold", track_types),
    )


def _rule(reader: _Reader, names: _Names) -> Rule:
    track_choices = (ANY, *TRACK_TYPES)
    track_types = reader.strings("track_types", choices=track_choices)
    not_track_types = reader.strings("not_track_types", required=False, choices=TRACK_TYPES)
    analysis_types = reader.strings("analysis_types")
    if not track_types:
        raise reader.fail(reader.at("track_types"), "a non-empty array", [])
    if not analysis_types:
        raise reader.fail(reader.at("analysis_types"), "a non-empty array", [])
    applicable = _applicable_types(track_types, not_track_types)
    condition = _condition(reader, names, applicable)
    when = tuple(_condition(item, names, applicable) for item in reader.array("when", required=False))
    own_metrics = (condition.metric, *(extra.metric for extra in when))
    penalty = reader.number("penalty")
    if not 0 <= penalty <= 1:
        raise reader.fail(reader.at("penalty"), "a number between 0 and 1", penalty)
    return Rule(
        id=reader.text("id"),
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


def _rules(root: _Reader, names: _Names) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    items = root.array("rules")
    for item in items:
        rule = _rule(item, names)
        if rule.id in seen:
            raise item.problem(item.at("id"), f"duplicate rule id '{rule.id}'")
        seen.add(rule.id)
        rules.append(rule)
    for item, rule in zip(items, rules):
        unknown = [other for other in rule.suppressed_by if other not in seen]
        if unknown:
            raise item.problem(item.at("suppressed_by"), f"unknown rule id '{unknown[0]}'")
    return tuple(rules)


def _parameter_name(reader: _Reader, key: str, names: _Names) -> str:
    name = reader.text(key)
    if name not in names.parameters:
        raise reader.problem(reader.at(key), f"unknown parameter '{name}'")
    return name


def _targets(root: _Reader, names: _Names) -> tuple[dict[str, TargetSpec], str, str, str]:
    section = root.object("loudness_targets")
    targets = {}
    for name, item in section.object("targets").items():
        targets[name] = TargetSpec(
            name=name,
            label=item.text("label"),
            lufs_parameter=_parameter_name(item, "lufs", names),
            true_peak_parameter=_parameter_name(item, "true_peak_dbtp", names),
        )
    if not targets:
        raise section.problem(section.at("targets"), "at least one loudness target is needed")
    default = section.choice("default", targets)
    custom = _parameter_name(section, "custom_true_peak", names)
    return targets, default, custom, _parameter_name(section, "rms_to_lufs", names)


def _advice_item(item: _Reader, names: _Names, track_type: str, rule_ids: set[str]) -> Advice:
    """A text template, or ``{"text": template, "unless": [rule ids]}``."""
    if not isinstance(item.data, dict):
        return Advice(template=names.check_text(item, item.data, item.path, [track_type]))
    unless = item.strings("unless", required=False, choices=rule_ids)
    return Advice(template=names.check_template(item, "text", [track_type]), unless=frozenset(unless))


def _advice(root: _Reader, names: _Names, rules: tuple[Rule, ...]) -> dict[str, dict[str, tuple[Advice, ...]]]:
    section = root.object("advice")
    rule_ids = {rule.id for rule in rules}
    advice: dict[str, dict[str, tuple[Advice, ...]]] = {}
    for track_type in TRACK_TYPES:
        per_type = section.object(track_type)
        advice[track_type] = {}
        for category, item in per_type.items():
            if category not in ADVICE_CATEGORIES:
                raise item.fail(item.path, f"a category among {', '.join(ADVICE_CATEGORIES)}", shown=repr(category))
            advice[track_type][category] = tuple(
                _advice_item(text, names, track_type, rule_ids) for text in per_type.array(category)
            )
    return advice


def _analysis_types(root: _Reader, names: _Names, metric_labels: Mapping[str, Template]) -> dict[str, AnalysisTypeTexts]:
    result = {}
    for name, item in root.object("analysis_types").items():
        summary = item.strings("summary", choices=metric_labels)
        result[name] = AnalysisTypeTexts(
            name=name,
            opening=names.check_template(item, "opening", TRACK_TYPES),
            advice=item.strings("advice", choices=ADVICE_CATEGORIES),
            summary=summary,
        )
    return result


def _metric_labels(root: _Reader, names: _Names) -> dict[str, Template]:
    labels = {}
    for metric, _ in root.object("metric_labels").items():
        if metric not in names.values:
            raise root.problem(f"metric_labels.{metric}", "unknown metric")
        labels[metric] = names.check_template(root.object("metric_labels"), metric, TRACK_TYPES)
    return labels


def _texts(root: _Reader, names: _Names) -> dict[str, Template]:
    section = root.object("texts")
    return {name: names.check_template(section, name, TRACK_TYPES) for name in TEXT_NAMES}


def parse_document(data: Any, *, source: str) -> tuple[Document, dict[str, float]]:
    """Validate one rule file's data; returns the document and the parameter values it sets."""
    root = _Reader(source, data, "")
    if not isinstance(data, dict):
        raise root.fail("(top level)", "a JSON object", data)
    if root.get("format") != FORMAT:
        raise root.fail("format", repr(FORMAT), root.get("format", required=False))
    version = root.number("version")
    if version != VERSION:
        raise root.fail("version", str(VERSION), version)
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
