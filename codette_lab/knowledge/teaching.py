"""The words of the ``teaching`` perspective: what each measure means, why each rule suggests what it does.

A student who does not yet know what a crest factor is gets, for each finding,
what was measured and how far it is from the rule's threshold, what the
measure means, the suggestion, why it helps and what to listen for. The
plain-language parts are data (the ``teaching`` section of the knowledge
base): ``metrics`` explain a measure and what to listen for, ``rules`` give a
rule's title and why its suggestion helps (and may say what to listen for
when that differs from the measure's). Numbers, units and suggestions are the
rule set's own: they are not repeated here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from ..protocol.fields import Reader
from .templates import check_template

#: The texts the perspective fills in and the placeholders each may name (all filled with words).
TEACHING_TEXTS: Mapping[str, frozenset[str]] = {
    "unnamed_track": frozenset(),
    "opening": frozenset({"track"}),
    "nothing_found": frozenset({"track"}),
    "finding": frozenset({"number", "title", "severity"}),
    "measured_above": frozenset({"value", "distance", "threshold"}),
    "measured_below": frozenset({"value", "distance", "threshold"}),
    "meaning": frozenset({"meaning"}),
    "suggestion": frozenset({"suggestion"}),
    "why": frozenset({"why"}),
    "listen": frozenset({"listen"}),
    "margins": frozenset({"track"}),
    "margin": frozenset({"title", "value", "distance", "threshold"}),
    "answer": frozenset({"title", "text"}),
    "practice": frozenset({"text"}),
}

_T = TypeVar("_T")

#: The fields of the ``teaching`` section.
TEACHING_FIELDS = ("description", "texts", "severities", "distance_units", "decimals", "metrics", "rules")


@dataclass(frozen=True)
class MetricWords:
    """What a measure means and what to listen for, in plain words; ``called``: what a student may call it in a
    question ("crest factor", "true peak"), so that "what does crest factor mean?" is told what the analysis
    measures by that name."""

    meaning: str
    listen: str
    called: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleWords:
    """A rule's title for students, why its suggestion helps, and (optionally) what to listen for."""

    title: str
    why: str
    listen: str | None = None


@dataclass(frozen=True)
class Teaching:
    """The ``teaching`` section as read: texts, severity words, number formats and the words per metric and rule.

    ``distance_units`` says what unit a difference of two readings has (two dBFS readings differ by dB);
    ``decimals`` how many decimals a reading in a unit is shown with (one when the unit is not listed).
    """

    description: str
    texts: Mapping[str, str]
    severities: Mapping[str, str]
    distance_units: Mapping[str, str] = field(default_factory=dict)
    decimals: Mapping[str, int] = field(default_factory=dict)
    metrics: Mapping[str, MetricWords] = field(default_factory=dict)
    rules: Mapping[str, RuleWords] = field(default_factory=dict)

    def measures_called(self, text: str, *, limit: int = 2) -> tuple[MetricWords, ...]:
        """The measures ``text`` names by one of their ``called`` names, in the order it names them (up to
        ``limit``). Case, hyphens and spacing aside ("low-mid build-up" is "low mid build up"); a name inside a
        longer one found ("peak" in "true peak") does not count."""
        return _named_in(text, self._measure_names, limit)

    def rules_called(self, text: str, *, limit: int = 2) -> tuple[str, ...]:
        """The rules ``text`` names by their title or their id in words ("It says squashed transients", "what does
        over_compressed mean?"), as :meth:`measures_called` finds measures: a finding's name read back from an
        analysis."""
        return _named_in(text, self._rule_names, limit)

    # the names to look for, plain and longest first, sorted once: a chat message asking what something is looks
    # for every one of them
    @cached_property
    def _measure_names(self) -> tuple[tuple[str, MetricWords], ...]:
        return _longest_first((name, metric) for metric in self.metrics.values() for name in metric.called)

    @cached_property
    def _rule_names(self) -> tuple[tuple[str, str], ...]:
        return _longest_first(
            (name, rule_id) for rule_id, words in self.rules.items() for name in (words.title, rule_id)
        )

    def title(self, rule_id: str) -> str:
        """A rule's title for students (its id in words when the section has none)."""
        words = self.rules.get(rule_id)
        return words.title if words is not None else rule_id.replace("_", " ").capitalize()

    def reading(self, value: float, unit: str) -> str:
        """A reading as students see it: ``-4.0 dBFS``, ``0.35``, ``120 Hz``."""
        shown = f"{value:.{self.decimals.get(unit, 1)}f}"
        return f"{shown} {unit}" if unit else shown

    def distance(self, value: float, threshold: float, unit: str) -> str:
        """How far a reading is from a threshold, in the unit a difference has (``2.0 dB`` between dBFS readings)."""
        return self.reading(abs(value - threshold), self.distance_units.get(unit, unit))


def _longest_first(names: Iterable[tuple[str, _T]]) -> tuple[tuple[str, _T], ...]:
    """(name, item) pairs with each name made plain, the longest names first."""
    return tuple(sorted(((_plain(name), item) for name, item in names), key=lambda pair: -len(pair[0])))


def _named_in(text: str, names: tuple[tuple[str, _T], ...], limit: int) -> tuple[_T, ...]:
    """The items whose names (plain, longest first: :func:`_longest_first`) ``text`` holds as whole words, each
    once, in the order the text names them (up to ``limit``); a name inside a longer one found does not count."""
    words = f" {_plain(text)} "
    taken: list[tuple[int, str, _T]] = []
    for name, item in names:
        at = words.find(f" {name} ")
        if at < 0 or any(name in longer for _, longer, _ in taken) or any(found == item for *_, found in taken):
            continue
        taken.append((at, name, item))
    return tuple(item for _, _, item in sorted(taken, key=lambda entry: entry[0])[:limit])


def _plain(text: str) -> str:
    """Lower-case words separated by single spaces: punctuation and hyphens are spaces."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def read_teaching(section: Reader) -> Teaching:
    """The checked ``teaching`` section: every text, every metric's and rule's words (KnowledgeError if not)."""
    section.only(TEACHING_FIELDS)
    texts_reader = section.object("texts")
    texts_reader.only(TEACHING_TEXTS)
    texts = {key: check_template(texts_reader, key, allowed, words=allowed) for key, allowed in TEACHING_TEXTS.items()}
    metrics = {}
    for name, spec in section.object("metrics").items():
        spec.only(("meaning", "listen", "called"))
        called = spec.strings("called", required=False)
        if any(not _plain(word) for word in called):
            raise spec.problem("called", "each name must hold a letter or a digit")
        metrics[name] = MetricWords(spec.text("meaning", non_empty=True), spec.text("listen", non_empty=True), called)
    rules = {}
    for rule_id, spec in section.object("rules").items():
        spec.only(("title", "why", "listen"))
        listen = spec.text("listen", None, non_empty=True)
        rules[rule_id] = RuleWords(spec.text("title", non_empty=True), spec.text("why", non_empty=True), listen)
    decimals = section.object("decimals", None)
    units = section.object("distance_units", None)
    return Teaching(
        description=section.text("description", non_empty=True),
        texts=texts,
        severities={name: words.text(None, non_empty=True) for name, words in section.object("severities").items()},
        distance_units={} if units is None else {unit: other.text(None) for unit, other in units.items()},
        decimals={}
        if decimals is None
        else {unit: decimals.integer(unit, minimum=0, maximum=6) for unit, _ in decimals.items()},
        metrics=metrics,
        rules=rules,
    )
