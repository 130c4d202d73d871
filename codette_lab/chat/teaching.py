"""Explaining findings to a student: the ``teaching`` perspective, and :func:`explain` for an analysis result.

Each finding already carries its rule, the measured value, the threshold and
a severity. Told for a student, a finding says what was measured and how far
it is from the threshold (in the unit of the rule's parameter), what the
measure means, the rule's suggestion, why that helps and what to listen for.
The plain words come from the knowledge base's ``teaching`` section; the
numbers, units and suggestions from the rule snapshot, so a teacher's tuned
rules are the ones explained. In chat, the selected track's levels are judged
as :mod:`.levels` judges them, and the checks it passed are listed with how
far it is from each; a teacher explains a whole analysis in a notebook with
``explain(result)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..knowledge import KnowledgeBase, Teaching
from ..rules import Finding, RuleSet, RuleSnapshot
from ..rules.model import OPERATORS
from .compose import (
    MEASURE_CONFIDENCE,
    asks_only,
    choose_entries,
    compose_answer,
    continued_entry,
    first_sentence,
    measures_defined,
    steered_aside,
    told,
)
from .daw import TrackView
from .levels import LEVEL_ANALYSIS_TYPE, reported_metrics
from .reply import ChatReply

if TYPE_CHECKING:
    from ..analysis_types import AnalysisResult
    from .context import ChatContext

#: The perspective's name in the registry.
TEACHING_PERSPECTIVE = "teaching"

#: The entry texts a teaching answer is told from: the theory (why it works), then the practice's first sentence.
EXPLAINED_BY = "audio_theory"
PRACTICE_FROM = "mix_engineering"


def _unit(rules: RuleSnapshot, rule_id: str, track_type: str) -> str:
    """The unit of a rule's threshold: its parameter's (``dBFS``), none for a literal number or an unknown rule."""
    rule = rules.rule(rule_id)
    if rule is None or not isinstance(rule.condition.threshold, str):
        return ""
    return rules.parameter(rules.resolve(rule.condition.threshold, track_type)).unit


def _finding_paragraph(number: int, finding: Finding, unit: str, teaching: Teaching) -> str:
    texts = teaching.texts
    severity = teaching.severities.get(finding.severity, finding.severity)
    sentences = [texts["finding"].format(number=number, title=teaching.title(finding.rule_id), severity=severity)]
    value, threshold = finding.value, finding.threshold
    if value is not None and threshold is not None and value != threshold:
        sentences.append(
            texts["measured_above" if value > threshold else "measured_below"].format(
                value=teaching.reading(value, unit),
                distance=teaching.distance(value, threshold, unit),
                threshold=teaching.reading(threshold, unit),
            )
        )
    metric, rule = teaching.metrics.get(finding.metric), teaching.rules.get(finding.rule_id)
    if metric is not None:
        sentences.append(texts["meaning"].format(meaning=metric.meaning))
    if finding.suggestion:
        sentences.append(texts["suggestion"].format(suggestion=finding.suggestion))
    if rule is not None:
        sentences.append(texts["why"].format(why=rule.why))
    listen = (rule.listen if rule is not None else None) or (metric.listen if metric is not None else None)
    if listen:
        sentences.append(texts["listen"].format(listen=listen))
    return " ".join(sentences)


def explain_findings(
    findings: Iterable[Finding], *, track_type: str, track_name: str | None, rules: RuleSnapshot, teaching: Teaching
) -> list[str]:
    """One paragraph to open, then one per finding (or one saying none was found), in the findings' order."""
    texts = teaching.texts
    track = f"'{track_name}'" if track_name else texts["unnamed_track"]
    paragraphs = [texts["opening"].format(track=track)]
    listed = list(findings)
    if not listed:
        paragraphs.append(texts["nothing_found"].format(track=track))
    for number, finding in enumerate(listed, start=1):
        unit = _unit(rules, finding.rule_id, track_type)
        paragraphs.append(_finding_paragraph(number, finding, unit, teaching))
    return paragraphs


def _margins(track: TrackView, rules: RuleSnapshot, teaching: Teaching, fired: set[str]) -> list[str]:
    """How far the track's readings are from the level checks they passed, and what those readings measure."""
    readings = rules.measures(reported_metrics(track), track_type=track.track_type, analysis_type=LEVEL_ANALYSIS_TYPE)
    texts = teaching.texts
    lines: list[str] = []
    measured: dict[str, str] = {}
    for rule in rules.document.rules:
        condition = rule.condition
        value = readings.get(condition.metric)
        if rule.id in fired or value is None or not isinstance(condition.threshold, str):
            continue
        if not rule.applies(track_type=track.track_type, analysis_type=LEVEL_ANALYSIS_TYPE):
            continue
        name = rules.resolve(condition.threshold, track.track_type)
        threshold, unit = rules.values[name], rules.parameter(name).unit
        if OPERATORS[condition.op](value, threshold):
            continue  # held, but another finding said it better (suppressed)
        lines.append(
            texts["margin"].format(
                title=teaching.title(rule.id),
                value=teaching.reading(value, unit),
                distance=teaching.distance(value, threshold, unit),
                threshold=teaching.reading(threshold, unit),
            )
        )
        if condition.metric in teaching.metrics:
            measured.setdefault(condition.metric, teaching.metrics[condition.metric].meaning)
    if not lines:
        return []
    meaning = texts["meaning"].format(meaning=" ".join(measured.values())) if measured else ""
    return [" ".join([texts["margins"].format(track=f"'{track.name}'"), *lines, meaning]).strip()]


def explain_track(track: TrackView, rules: RuleSnapshot, teaching: Teaching) -> list[str]:
    """The selected track's level findings told for a student, then how far it is from the checks it passed."""
    metrics = reported_metrics(track)
    findings = (
        rules.evaluate(metrics, track_type=track.track_type, analysis_type=LEVEL_ANALYSIS_TYPE, track_name=track.name)
        if metrics
        else []
    )
    paragraphs = explain_findings(
        findings, track_type=track.track_type, track_name=track.name, rules=rules, teaching=teaching
    )
    return paragraphs + _margins(track, rules, teaching, {finding.rule_id for finding in findings})


def teach(context: ChatContext) -> ChatReply:
    """The ``teaching`` perspective: the selected track's levels explained (when the answer is about it, not a
    general entry it only steered to), then the entry's theory and practice."""
    knowledge, understanding = context.knowledge, context.understanding
    ranking, teaching = understanding.ranking, knowledge.teaching
    if asks_only(context, "thanks") or continued_entry(context) is not None:
        # "ok": thanked; "why?": more of the entry just explained, not the track's findings again
        return compose_answer(context, perspective=EXPLAINED_BY)
    lead = choose_entries(ranking, understanding.previous)[0] if ranking.on_topic and ranking.best else None
    # "should I EQ before or after compression?" with a vocal selected: the order of plug-ins, not the vocal's checks
    track = understanding.track if lead is None or not steered_aside(context, lead) else None
    # "what does crest factor mean?": what the analysis measures by that name comes first
    defined = measures_defined(context)
    paragraphs = defined + (explain_track(track, context.rules, teaching) if track is not None else [])
    topics: tuple[str, ...] = ()
    confidence = ranking.confidence if lead is not None or not defined else MEASURE_CONFIDENCE
    if lead is not None:
        theory = told(lead, EXPLAINED_BY, context.rules)
        practice = first_sentence(told(lead, PRACTICE_FROM, context.rules))
        paragraphs.append(teaching.texts["answer"].format(title=lead.title, text=theory))
        paragraphs.append(teaching.texts["practice"].format(text=practice))
        topics = (lead.id,)
    elif not paragraphs:
        return compose_answer(context, perspective=EXPLAINED_BY)  # the polite redirect
    return ChatReply("\n\n".join(paragraphs), context.perspective, confidence, topics)


def explain(
    result: AnalysisResult,
    *,
    rules: RuleSet | RuleSnapshot | None = None,
    knowledge: KnowledgeBase | None = None,
    track_name: str | None = None,
) -> str:
    """An analysis result's findings told for a student, one paragraph each (for a teacher's notebook).

    ``rules`` should be the rules the analysis was judged by (default: the built-in ones); they give each
    threshold its unit. ``knowledge`` supplies the words (default: the built-in base)::

        result = lab.analyze(y, sr, kind="quality", track_type="vocal")
        print(explain(result, rules=lab.rules, track_name="Lead Vox"))
    """
    snapshot = rules.snapshot() if isinstance(rules, RuleSet) else rules or RuleSet.default().snapshot()
    teaching = (knowledge or KnowledgeBase.builtin()).teaching
    paragraphs = explain_findings(
        result.problems, track_type=result.track_type, track_name=track_name, rules=snapshot, teaching=teaching
    )
    return "\n\n".join(paragraphs)
