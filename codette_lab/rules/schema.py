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

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from ..analysis.bands import BANDS
from ..errors import RulesError
from ..protocol.fields import Reader, did_you_mean
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
from .names import Names
from .templates import Template
from .vocabulary import (
    ADVICE_CATEGORIES,
    CONDITION_FIELDS,
    FORMAT,
    OPTIONAL_TEXT_NAMES,
    PARAMETER_FIELDS,
    RULE_FIELDS,
    SECTIONS,
    TEXT_NAMES,
    VERSION,
)

_PARAMETER_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


def _shown(value: Any) -> str:
    """A received value for an error text: numbers and strings as written, other JSON by kind."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return repr(value)
    return kind_of(value)


class _RuleFileTexts:
    """Error texts naming the rule file and the field, as :class:`~..protocol.fields.ErrorTexts`.

    Inside a parameter the texts name the parameter first (``parameter 'general.headroom_peak_dbfs'
    (parameters[0].value)``): the user knows a parameter by its name, not by its place in the list.
    """

    def __init__(self, source: str, parameter: str | None = None) -> None:
        self.source = source
        self.parameter = parameter

    def about(self, parameter: str) -> _RuleFileTexts:
        """The same texts, naming ``parameter``."""
        return _RuleFileTexts(self.source, parameter)

    def _at(self, path: str) -> str:
        if self.parameter is not None:
            return f"Invalid rules in {self.source}: parameter '{self.parameter}' ({path})"
        return f"Invalid rules in {self.source}: field '{path or '(top level)'}'"

    def missing(self, path: str, expected: str) -> RulesError:
        return RulesError(f"{self._at(path)}: missing (expected {expected})")

    def invalid(self, path: str, expected: str, value: object) -> RulesError:
        return RulesError(f"{self._at(path)}: expected {expected}, got {_shown(value)}")

    def out_of_range(self, path: str, expected: str, value: object) -> RulesError:
        return RulesError(f"{self._at(path)}: expected {expected}, got {_shown(value)}")

    def problem(self, path: str, text: str) -> RulesError:
        return RulesError(f"{self._at(path)}: {text}")


def _parameter(item: Reader, texts: _RuleFileTexts) -> tuple[Parameter, Reader]:
    """The parameter and a reader of it whose errors name it."""
    name = item.text("name")
    if not _PARAMETER_NAME.match(name):
        raise item.fail("name", "a name like 'vocal.highpass_hz' (group.name, lower case)", name)
    reader = Reader(item.data, texts.about(name), item.path)
    reader.only(PARAMETER_FIELDS)
    minimum, maximum = reader.number("min"), reader.number("max")
    if minimum > maximum:
        raise reader.problem("min", f"min {minimum:g} is above max {maximum:g}")
    default = reader.number("default", minimum=minimum, maximum=maximum)
    value = reader.number("value", default, minimum=minimum, maximum=maximum)
    step = reader.number("step", minimum=0, exclusive=True)
    parameter = Parameter(
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
    return parameter, reader


def _parameters(root: Reader, texts: _RuleFileTexts) -> tuple[dict[str, Parameter], list[Reader]]:
    """Every parameter by name, and a reader of each (in file order) whose errors name the parameter."""
    parameters: dict[str, Parameter] = {}
    readers = []
    for item in root.array("parameters"):
        parameter, reader = _parameter(item, texts)
        if parameter.name in parameters:
            raise reader.problem("name", f"duplicate parameter '{parameter.name}'")
        parameters[parameter.name] = parameter
        readers.append(reader)
    return parameters, readers


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


def _condition(reader: Reader, names: Names, track_types: list[str]) -> Condition:
    return Condition(
        metric=names.check_metric(reader, "metric"),
        op=reader.choice("op", OPERATORS),
        threshold=names.check_threshold(reader, "threshold", track_types),
    )


def _when(reader: Reader, names: Names, track_types: list[str]) -> Condition:
    """One of a rule's extra ``when`` conditions."""
    reader.only(CONDITION_FIELDS)
    return _condition(reader, names, track_types)


def _rule(reader: Reader, names: Names) -> Rule:
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


def _rules(root: Reader, names: Names) -> tuple[Rule, ...]:
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


def _targets(root: Reader, names: Names) -> tuple[dict[str, TargetSpec], str, str, str]:
    section = root.object("loudness_targets")
    section.only(("default", "custom_true_peak", "rms_to_lufs", "targets"))
    targets = {}
    for name, item in section.object("targets").items():
        item.only(("label", "lufs", "true_peak_dbtp"))
        targets[name] = TargetSpec(
            name=name,
            label=item.text("label"),
            lufs_parameter=names.check_parameter(item, "lufs"),
            true_peak_parameter=names.check_parameter(item, "true_peak_dbtp"),
        )
    if not targets:
        raise section.problem("targets", "at least one loudness target is needed")
    default = section.choice("default", targets)
    custom = names.check_parameter(section, "custom_true_peak")
    return targets, default, custom, names.check_parameter(section, "rms_to_lufs")


#: The moves an advice item may declare (``move``), for reconciling it with measured build-ups.
ADVICE_MOVES = ("cut", "boost")


def _advice_frequency(item: Reader, names: Names, track_type: str) -> str | None:
    """The parameter an advice item's ``hz`` names, resolved for its track type (``type.x`` -> ``vocal.x``)."""
    name = names.check_threshold(item, "hz", [track_type])
    if not isinstance(name, str):
        raise item.fail("hz", "the name of the parameter holding the tip's frequency", name)
    return names.parameter_for(name, track_type)


def _advice_item(item: Reader, names: Names, track_type: str, rule_ids: set[str]) -> Advice:
    """A text template, or ``{"text": template, "unless": [rule ids], "when": [conditions], "otherwise":
    template, "move": "cut" | "boost", "hz": parameter}``."""
    if not isinstance(item.data, dict):
        return Advice(template=names.check_text(item, [track_type]))
    item.only(("text", "unless", "when", "otherwise", "move", "hz"))
    unless = item.strings("unless", required=False, choices=rule_ids)
    when = tuple(_when(extra, names, [track_type]) for extra in item.array("when", required=False))
    otherwise = names.check_template(item, "otherwise", [track_type]) if item.has("otherwise") else None
    move = item.choice("move", ADVICE_MOVES) if item.has("move") else None
    hz = _advice_frequency(item, names, track_type) if item.has("hz") else None
    return Advice(
        template=names.check_template(item, "text", [track_type]),
        unless=frozenset(unless),
        when=when,
        otherwise=otherwise,
        move=move,
        hz=hz,
    )


def _advice(root: Reader, names: Names, rules: tuple[Rule, ...]) -> dict[str, dict[str, tuple[Advice, ...]]]:
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


def _analysis_types(root: Reader, names: Names, metric_labels: Mapping[str, Template]) -> dict[str, AnalysisTypeTexts]:
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


def _metric_labels(root: Reader, names: Names) -> dict[str, Template]:
    labels = {}
    for metric, item in root.object("metric_labels").items():
        if metric not in names.values:
            raise item.problem(None, f"unknown metric{did_you_mean(metric, names.values)}")
        labels[metric] = names.check_text(item, TRACK_TYPES)
    return labels


def _texts(root: Reader, names: Names) -> dict[str, Template]:
    section = root.object("texts")
    section.only((*TEXT_NAMES, *OPTIONAL_TEXT_NAMES), what="text")
    present = [name for name in OPTIONAL_TEXT_NAMES if section.get(name, None) is not None]
    return {name: names.check_template(section, name, TRACK_TYPES) for name in (*TEXT_NAMES, *present)}


def parse_document(
    data: Any, *, source: str, known_parameters: Collection[str] | None
) -> tuple[Document, dict[str, float]]:
    """Validate one rule file's data; returns the document and the parameter values it sets.

    ``known_parameters`` are the built-in parameters: a declared parameter outside them that nothing in the
    file refers to is refused. None when reading the built-in file itself (its parameters are the known ones).
    """
    texts = _RuleFileTexts(source)
    root = Reader(data, texts)
    if not isinstance(data, dict):
        raise root.fail(None, "a JSON object", data)
    if root.get("format", None) != FORMAT:
        raise root.fail("format", repr(FORMAT), root.get("format", None))
    version = root.number("version")
    if version != VERSION:
        raise root.fail("version", str(VERSION), version)
    root.only(SECTIONS, what="section")
    parameters, parameter_readers = _parameters(root, texts)
    bands = _bands(root)
    names = Names(parameters, bands)
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
    if known_parameters is not None:
        names.check_all_used(parameter_readers, known_parameters)
    return document, {name: parameter.value for name, parameter in parameters.items()}


def resolver(document: Document) -> Callable[[str, str], str | None]:
    """``resolve(name, track_type)``: the parameter a threshold or placeholder means for a track type."""
    return Names(document.parameters, document.bands).parameter_for
