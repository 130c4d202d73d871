"""The names a rule file uses, checked while it loads: parameters, metrics and template placeholders.

A rule file refers to its parameters by name (thresholds, templates, loudness
targets) and to metrics by name (conditions, templates, metric labels). A name
nothing knows is refused at load, naming it and, when there is one, the
closest known name, so a typo cannot leave the server running with tuning the
user does not have. :class:`Names` also records which parameters the file
refers to, so a declared parameter that nothing reads (``general.no_such_rule``)
is refused too, unless it is one of the built-in parameters, which the engine's
own code may read (the chat's level hints do).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping

from ..analysis.outputs import METRIC_NAMES, PER_BAND_METRICS, TONE_SHAPE_NAMES
from ..protocol.fields import Reader, did_you_mean
from .model import Parameter
from .templates import Template, parse_template
from .vocabulary import CONTEXT_NAMES, UNMEASURED_METRICS

TYPE_PREFIX = "type."
GENERAL_PREFIX = "general."


class Names:
    """What a rule file's conditions, thresholds and templates may name, given its parameters and bands."""

    def __init__(self, parameters: Mapping[str, Parameter], bands: Iterable[str]) -> None:
        self.parameters = parameters
        per_band = {f"{metric}.{band}" for metric in PER_BAND_METRICS for band in bands}
        #: What a rule's condition may judge: measured, derived and track-state metrics.
        self.metrics = frozenset({*METRIC_NAMES, *UNMEASURED_METRICS, *per_band, *TONE_SHAPE_NAMES})
        #: What a template may name besides parameters.
        self.values = frozenset({*self.metrics, *PER_BAND_METRICS, *CONTEXT_NAMES})
        #: The parameters the file has referred to so far (a ``type.x`` counts for each one it resolves to).
        self.used: set[str] = set()
        suffixes = {name.split(".", 1)[1] for name in parameters}
        self._parameter_names = (*parameters, *(f"{TYPE_PREFIX}{suffix}" for suffix in sorted(suffixes)))

    def parameter_for(self, name: str, track_type: str) -> str | None:
        """The parameter ``name`` means for ``track_type`` (``type.x`` -> ``vocal.x`` or ``general.x``)."""
        if not name.startswith(TYPE_PREFIX):
            return name if name in self.parameters else None
        suffix = name[len(TYPE_PREFIX) :]
        for candidate in (f"{track_type}.{suffix}", f"{GENERAL_PREFIX}{suffix}"):
            if candidate in self.parameters:
                return candidate
        return None

    def _refer(self, name: str, track_types: Iterable[str]) -> str | None:
        """Record what ``name`` resolves to for each track type; the first track type it does not resolve for."""
        for track_type in track_types:
            resolved = self.parameter_for(name, track_type)
            if resolved is None:
                return track_type
            self.used.add(resolved)
        return None

    # -- checks, each raising the reader's error naming the field ------------------------------------------

    def check_parameter(self, reader: Reader, key: str) -> str:
        """The name of a parameter of this file at ``reader[key]`` (loudness targets)."""
        name = reader.text(key)
        if name not in self.parameters:
            raise reader.problem(key, f"unknown parameter '{name}'{did_you_mean(name, self.parameters)}")
        self.used.add(name)
        return name

    def check_metric(self, reader: Reader, key: str | None) -> str:
        """A metric a condition may judge (key None: the value itself, e.g. a metric label's key)."""
        metric = reader.text(key)
        if metric not in self.metrics:
            raise reader.problem(key, f"unknown metric '{metric}'{did_you_mean(metric, self.metrics)}")
        return metric

    def check_threshold(self, reader: Reader, key: str, track_types: Iterable[str]) -> str | float:
        """A number, or a parameter that exists for every one of ``track_types``."""
        value = reader.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        if not isinstance(value, str):
            raise reader.fail(key, "a parameter name or a number", value)
        unresolved = self._refer(value, track_types)
        if unresolved is not None:
            hint = did_you_mean(value, self._parameter_names)
            raise reader.problem(key, f"unknown parameter '{value}' for track type {unresolved}{hint}")
        return value

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
            unresolved = self._refer(name, track_types)
            if unresolved is None:
                continue
            if name.startswith(TYPE_PREFIX):
                suffix = name[len(TYPE_PREFIX) :]
                detail = f"no {unresolved}.{suffix} or {GENERAL_PREFIX}{suffix} parameter for track type {unresolved}"
            else:
                detail = "expected a parameter, a metric or one of value, threshold, track, ..."
            hint = did_you_mean(name, (*allowed, *self._parameter_names))
            raise reader.problem(None, f"unknown placeholder {{{name}}} ({detail}){hint}")
        return template

    def check_all_used(self, items: Iterable[Reader], known: Collection[str]) -> None:
        """Refuse a declared parameter (``items``: readers of the parameters list) that nothing refers to,
        unless it is among ``known`` (the built-in parameters, which code reads)."""
        referable = {*known, *self.used}
        for item in items:
            name = item.text("name")
            if name not in referable:
                raise item.problem(
                    "name",
                    f"unknown parameter '{name}': not a built-in parameter, and no rule, target or text of this "
                    f"file refers to it{did_you_mean(name, referable)}",
                )
