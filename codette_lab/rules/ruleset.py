"""The rule set: tunable heuristics loaded from data, changed live, exported to a file.

A :class:`RuleSet` is what the engine holds and the notebook edits. It
points at one immutable :class:`RuleSnapshot` (document + parameter values);
every change builds a new snapshot and swaps it in with one assignment, so
the server thread evaluating a request keeps a consistent snapshot while a
notebook cell or a slider changes values, and the change applies to the
next request.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import stat
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import RequestError, RulesError
from ..tracktypes import canonical_track_type
from . import evaluate as evaluation
from .model import ANY, AnalysisTypeTexts, Document, Finding, LoudnessTarget, Parameter
from .schema import FORMAT, VERSION, parse_document, resolver
from .templates import lookup_in

log = logging.getLogger(__name__)

DEFAULT_RULES_FILE = "default_rules.json"

#: A numeric loudness target (LUFS) must lie in this range.
CUSTOM_TARGET_RANGE = (-70.0, 0.0)
CUSTOM_TARGET_NAME = "custom"

ChangeCallback = Callable[[dict[str, float]], None]


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
        if isinstance(target, bool) or not isinstance(target, (int, float)) or not math.isfinite(target) or not low <= target <= high:
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
    ) -> list[Finding]:
        """The findings of the rules that apply to this track type and analysis type, most serious first.

        ``track_type`` may be any alias (``"vox"``); ``target`` a target name, a LUFS number or None.
        """
        situation = evaluation.Situation(
            track_type=canonical_track_type(track_type),
            analysis_type=analysis_type,
            track_name=track_name,
            target=target if isinstance(target, LoudnessTarget) else self.loudness_target(target),
            other_track_name=other_track_name,
            other_track_type=canonical_track_type(other_track_type) if other_track_type else None,
        )
        return evaluation.evaluate(self, metrics, situation)

    def score(self, findings: list[Finding]) -> float:
        return evaluation.score(findings)

    def rule_count(self, *, track_type: str, analysis_type: str) -> int:
        """How many rules would be checked for this track type and analysis type."""
        return sum(rule.applies(track_type=track_type, analysis_type=analysis_type) for rule in self.document.rules)

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
        for rule in self.document.rules:
            if not rule.applies(track_type=track_type, analysis_type=analysis_type):
                continue
            conditions = (rule.condition, *rule.when)
            measured = all(evaluation.number(flat.get(condition.metric)) is not None for condition in conditions)
            (judged if measured else not_judged).append(rule.id)
            if ANY not in rule.analysis_types:
                specific.append(rule.id)
        return Coverage(judged=tuple(judged), not_judged=tuple(not_judged), specific=tuple(specific))

    # -- texts ------------------------------------------------------------------------------------------

    def advice(
        self, track_type: str, categories: Iterable[str], *, fired: Iterable[str] = ()
    ) -> list[tuple[str, str]]:
        """(category, text) of the track type's advice in those categories, parameters filled in.

        Advice that names a rule in its ``unless`` is left out when that rule ``fired``.
        """
        track_type = canonical_track_type(track_type)
        items = self.document.advice.get(track_type, {})
        lookup = self.lookup_for(track_type)
        fired_ids = set(fired)
        return [
            (category, evaluation.render(item.template, lookup))
            for category in categories
            for item in items.get(category, ())
            if not item.unless & fired_ids
        ]

    def analysis_texts(self, analysis_type: str) -> AnalysisTypeTexts | None:
        return self.document.analysis_types.get(analysis_type)

    def text(self, name: str, *, track_type: str, values: Mapping[str, Any]) -> str:
        """One of the document's ``texts`` (or ``metric_labels`` entries via :meth:`metric_label`)."""
        return evaluation.render(self.document.texts[name], _with_parameters(values, self.lookup_for(track_type)))

    def words(self, name: str) -> str:
        """A short text of the document used inside sentences (``unnamed_track``: "this track"), as written."""
        return self.document.texts[name].render(self.lookup_for("audio"))

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


def _create_beside(target: Path) -> tuple[int, Path]:
    """A new, uniquely named temporary file beside ``target``, opened for writing.

    Created with mode 0o666 less the umask, as ``open()`` would (mkstemp's
    0o600 would hide the rules from a service account running ``codette-lab
    serve --rules``); when ``target`` exists its mode is kept instead, as
    rewriting it in place would.
    """
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
    except FileNotFoundError:  # a new file: the mode it was created with stays
        pass
    except OSError:
        os.close(handle)
        temporary.unlink(missing_ok=True)
        raise
    return handle, temporary


@functools.lru_cache(maxsize=1)
def _default_snapshot() -> RuleSnapshot:
    text = resources.files(__package__).joinpath(DEFAULT_RULES_FILE).read_text(encoding="utf-8")
    document, values = parse_document(json.loads(text), source=f"the built-in {DEFAULT_RULES_FILE}")
    return RuleSnapshot(document, values)


class RuleSet:
    """The engine's tunable heuristics. Safe to change from one thread while another evaluates.

    >>> rules = RuleSet.default()
    >>> rules["vocal.highpass_hz"] = 100          # range-checked; applies to the next request
    >>> rules.export("my_rules.json")             # codette-lab serve --rules my_rules.json answers the same
    """

    def __init__(self, snapshot: RuleSnapshot) -> None:
        self._snapshot = snapshot
        self._write_lock = threading.Lock()
        self._callbacks: list[ChangeCallback] = []

    # -- construction ------------------------------------------------------------------------------------

    @classmethod
    def default(cls) -> RuleSet:
        """The built-in rules (``default_rules.json`` shipped in the package)."""
        return cls(_default_snapshot())

    @classmethod
    def load(cls, path: str | PathLike[str]) -> RuleSet:
        """A rule file written by :meth:`export` (or by hand); RulesError naming the file and the bad field."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RulesError(f"Cannot read rules file {file}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RulesError(f"Cannot read rules file {file}: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RulesError(
                f"Rules file {file} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        return cls.from_dict(data, source=str(file))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "a rules dict") -> RuleSet:
        """A rule set from the data :meth:`to_dict` returns."""
        document, values = parse_document(data, source=source)
        return cls(RuleSnapshot(document, values))

    def copy(self) -> RuleSet:
        """An independent rule set in the same state (its changes do not reach this one)."""
        return RuleSet(self._snapshot)

    def __getstate__(self) -> dict[str, Any]:
        return {"data": self.to_dict(), "source": self._snapshot.document.source}

    def __setstate__(self, state: dict[str, Any]) -> None:
        document, values = parse_document(state["data"], source=state["source"])
        self.__init__(RuleSnapshot(document, values))  # type: ignore[misc]

    # -- reading ----------------------------------------------------------------------------------------

    def snapshot(self) -> RuleSnapshot:
        """The current immutable state; a request evaluates against one snapshot from start to end."""
        return self._snapshot

    @property
    def source(self) -> str:
        """Where the rules came from (a file path, or the built-in file)."""
        return self._snapshot.document.source

    def __getitem__(self, name: str) -> float:
        return self._snapshot[name]

    def __contains__(self, name: object) -> bool:
        return name in self._snapshot

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._snapshot.document.parameters))

    def __len__(self) -> int:
        return len(self._snapshot.document.parameters)

    def parameter(self, name: str) -> Parameter:
        return self._snapshot.parameter(name)

    def parameters(self) -> list[Parameter]:
        """Every tunable parameter with its current value, in file order."""
        return self._snapshot.parameters()

    def groups(self) -> dict[str, list[Parameter]]:
        """Parameters by group (``general``, ``loudness``, then track types), for the Rules panel."""
        grouped: dict[str, list[Parameter]] = {}
        for parameter in self.parameters():
            grouped.setdefault(parameter.group, []).append(parameter)
        return grouped

    def values(self) -> dict[str, float]:
        return dict(self._snapshot.values)

    def changed(self) -> dict[str, float]:
        """Parameters whose value differs from their default."""
        return {p.name: p.value for p in self.parameters() if p.value != p.default}

    def to_dict(self) -> dict[str, Any]:
        return self._snapshot.to_dict()

    def loudness_target(self, target: str | float | None = None) -> LoudnessTarget:
        return self._snapshot.loudness_target(target)

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
    ) -> list[Finding]:
        """The findings of the current rules for one track's metrics (see :meth:`RuleSnapshot.evaluate`)."""
        return self._snapshot.evaluate(
            metrics,
            track_type=track_type,
            analysis_type=analysis_type,
            track_name=track_name,
            target=target,
            other_track_name=other_track_name,
            other_track_type=other_track_type,
        )

    def score(self, findings: list[Finding]) -> float:
        """A quality score in [0, 1] that follows from the findings' penalties."""
        return evaluation.score(findings)

    # -- writing ----------------------------------------------------------------------------------------

    def __setitem__(self, name: str, value: float) -> None:
        self.update({name: value})

    def set(self, **values: float) -> None:
        """``rules.set(**{"vocal.highpass_hz": 100, "general.headroom_peak_dbfs": -8})``: all or nothing."""
        self.update(values)

    def update(self, values: Mapping[str, float]) -> None:
        """Set several parameters at once; if any is unknown or out of range nothing changes."""
        with self._write_lock:
            current = self._snapshot
            changes = {name: current.parameter(name).checked(value) for name, value in values.items()}
            self._swap(current.with_values(changes), changes)

    def reset(self, name: str | None = None) -> None:
        """Back to the default value: one parameter, or all of them."""
        with self._write_lock:
            current = self._snapshot
            chosen = [current.parameter(name)] if name is not None else current.parameters()
            changes = {parameter.name: parameter.default for parameter in chosen}
            self._swap(current.with_values(changes), changes)

    def replace(self, other: RuleSet) -> None:
        """Take over another rule set's whole state (e.g. one just loaded from a file), live."""
        with self._write_lock:
            snapshot = other.snapshot()
            self._swap(snapshot, dict(snapshot.values))

    def _swap(self, snapshot: RuleSnapshot, changes: dict[str, float]) -> None:
        self._snapshot = snapshot
        for callback in list(self._callbacks):
            try:
                callback(dict(changes))
            except Exception:  # a panel's refresh must not undo or block the change
                log.exception("rules on_change callback %r failed", callback)

    def on_change(self, callback: ChangeCallback) -> ChangeCallback:
        """Call ``callback(changes)`` (name -> new value) after every change; returns it (usable as decorator)."""
        self._callbacks.append(callback)
        return callback

    def remove_on_change(self, callback: ChangeCallback) -> None:
        self._callbacks = [registered for registered in self._callbacks if registered != callback]

    def export(self, path: str | PathLike[str]) -> Path:
        """Write the current rules to ``path`` atomically; ``RuleSet.load(path)`` answers identically.

        A new file gets the usual mode (0o666 less the umask), so a server run by another account can read
        it; an existing file keeps its mode.
        """
        target = Path(path)
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = _create_beside(target)
        except OSError as exc:
            raise RulesError(f"Cannot write rules file {target}: {exc}") from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise RulesError(f"Cannot write rules file {target}: {exc}") from None
        return target

    def __repr__(self) -> str:
        changed = self.changed()
        return f"<RuleSet from {self.source}: {len(self)} parameters, {len(changed)} changed>"
