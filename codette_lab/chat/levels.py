"""What chat says about the selected track's levels: the rule set's verdicts, in chat's words.

Chat keeps no thresholds of its own. It asks the engine's current rule
snapshot to judge the track's reported peak, RMS and (where the DAW reports it)
loudness exactly as a levels-only ``analyze`` request of type
:data:`LEVEL_ANALYSIS_TYPE` would (same rules, same per-type parameters, same
suppression), then words each finding with the knowledge base's
``texts.levels`` by rule id; a rule chat has no words for (a master too loud for
its target) is told with the rule's own problem text and remedy. Numbers such
as the trim are the finding's own ``over``/``under`` (value minus threshold,
the figure the analysis quotes), so
chat and analysis say the same for the same track, and a Rules slider moved in
the notebook changes both.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..rules import Finding, RuleSnapshot
from ..rules.templates import decimals_apart
from .daw import TrackView

#: The analysis type whose rules judge a track's reported levels; chat's verdicts are that type's. ``quality``
#: (everything at once): from levels alone its rules judge the peak, RMS, crest factor and a master's loudness
#: against the streaming target; the rest need the audio and stay silent.
LEVEL_ANALYSIS_TYPE = "quality"

#: 0 dBFS: full scale by definition (a peak here has clipped or will), not a tunable threshold.
FULL_SCALE_DBFS = 0.0

#: The rule parameter saying where a track's peaks should sit (``bus.headroom_peak_dbfs`` for a bus).
PEAK_TARGET = "type.headroom_peak_dbfs"

#: The rule parameter saying where a track's RMS should sit when it is gain-staged.
RMS_TARGET = "type.target_rms_dbfs"

#: Track types judged by loudness targets rather than by peaks and RMS: no gain-staging note for them.
NOT_GAIN_STAGED = frozenset({"master"})

#: The rule parameter below which a peak sits low when the DAW reports no RMS to judge by.
QUIET_PEAK = "type.quiet_peak_dbfs"

#: Chat's names for the amounts the rules derive for remedies (the rules' measure each one reads), so chat
#: trims and lifts by the figures the analysis's suggestions quote.
REMEDY_FIGURES = {"trim": "peak_over_headroom_db", "lift": "rms_below_target_db"}

#: The rule saying a track holds nothing to mix (steady noise, or no signal: a DAW's meter at its floor, the
#: transport stopped). With it, chat says that and nothing of the track's peak, headroom or dynamics: "120 dB
#: of headroom" or "raise its clip gain by 994 dB" are no news about an empty track.
NOTHING_TO_MIX = "no_programme"

#: How many level verdicts are remembered. A conversation sends the same session with every question
#: (and a stopped transport reports the same peaks), while a rule snapshot never changes, so one verdict
#: per (snapshot, track type, peak, RMS, loudness) is worked out once.
VERDICT_CACHE_SIZE = 256


def _levels(peak: float | None, rms: float | None, loudness: float | None) -> dict[str, float]:
    reported = (("peak_dbfs", peak), ("rms_dbfs", rms), ("integrated_lufs", loudness))
    return {name: value for name, value in reported if value is not None}


def reported_metrics(track: TrackView) -> dict[str, float]:
    """The metrics a DAW reports for a track (peak, RMS, loudness, by the analysis's names), those it has."""
    return _levels(track.peak_db, track.rms_db, track.loudness_lufs)


@functools.lru_cache(maxsize=VERDICT_CACHE_SIZE)
def _verdict(
    rules: RuleSnapshot, track_type: str, peak: float | None, rms: float | None, loudness: float | None
) -> tuple[tuple[Finding, ...], Mapping[str, float]]:
    """The findings of :data:`LEVEL_ANALYSIS_TYPE`'s rules for these levels, without their texts (chat words
    them), and the remedy amounts the rules derive from them (:data:`REMEDY_FIGURES`)."""
    metrics = _levels(peak, rms, loudness)
    if not metrics:
        return (), MappingProxyType({})
    findings = rules.evaluate(metrics, track_type=track_type, analysis_type=LEVEL_ANALYSIS_TYPE, render_texts=False)
    measures = rules.measures(metrics, track_type=track_type, analysis_type=LEVEL_ANALYSIS_TYPE)
    figures = {name: measures.get(measure) for name, measure in REMEDY_FIGURES.items()}
    return tuple(findings), MappingProxyType({name: value for name, value in figures.items() if value is not None})


def level_findings(track: TrackView, rules: RuleSnapshot) -> tuple[Finding, ...]:
    """What :data:`LEVEL_ANALYSIS_TYPE`'s rules find in a track's reported levels (none without levels)."""
    return _verdict(rules, track.track_type, track.peak_db, track.rms_db, track.loudness_lufs)[0]


def _render(template: str, values: Mapping[str, float], finding: Finding | None = None) -> str:
    """The template filled in; a value it names but this track lacks falls back to the finding's own text."""
    try:
        return template.format_map(values)
    except KeyError:
        return finding.problem if finding is not None else ""


def _finding_values(values: Mapping[str, float], finding: Finding) -> dict[str, float]:
    """``values`` plus the finding's value, threshold and their distance (``over``/``under``), when it has them."""
    value, threshold = finding.value, finding.threshold
    if value is None or threshold is None:
        return dict(values)
    return {
        **values,
        "value": _apart(value, finding),
        "threshold": threshold,
        "over": _apart(value - threshold, finding, amount=True),
        "under": _apart(threshold - value, finding, amount=True),
    }


def _peak_notes(
    track: TrackView,
    findings: list[Finding],
    texts: Mapping[str, Any],
    values: dict[str, float],
    *,
    quiet_below: float | None,
) -> list[str]:
    """The peak sentence: the peak rules that fired, else quiet (peak only, below ``quiet_below``), else healthy
    when no rule fired at all (the plain figures when a dynamics rule did)."""
    if track.peak_db is None:
        return []
    words = texts["peak_rules"]
    found = [finding for finding in findings if finding.rule_id in words]
    if found and track.peak_db >= FULL_SCALE_DBFS:
        return [_render(texts["full_scale"], _finding_values(values, found[0]), found[0])]
    if found:
        return [_render(words[f.rule_id], _finding_values(values, f), f) for f in found]
    target = values.get("target")
    if track.rms_db is None and quiet_below is not None and target is not None and track.peak_db < quiet_below:
        return [_render(texts["quiet"], {**values, "raise_by": target - track.peak_db})]
    return [_render(texts["peak"] if findings else texts["healthy"], values)]


def _dynamics_notes(
    track: TrackView, findings: list[Finding], texts: Mapping[str, Any], values: dict[str, float]
) -> list[str]:
    """The RMS and crest-factor sentence: the dynamics rules that fired, else the plain figures."""
    words = texts["dynamics_rules"]
    found = [finding for finding in findings if finding.rule_id in words]
    if found:
        return [_render(words[f.rule_id], _finding_values(values, f), f) for f in found]
    if track.crest_db is not None:
        return [_render(texts["crest"], values)]
    if track.rms_db is not None:
        return [_render(texts["rms"], values)]
    return []


def _problems(track: TrackView, rules: RuleSnapshot, rule_ids: set[str]) -> list[str]:
    """The rules' own problem texts and remedies for findings chat has no words for (rare: judged again, texts
    filled)."""
    findings = rules.evaluate(
        reported_metrics(track),
        track_type=track.track_type,
        analysis_type=LEVEL_ANALYSIS_TYPE,
        track_name=track.name,
    )
    return [f"{finding.problem} {finding.suggestion}" for finding in findings if finding.rule_id in rule_ids]


def _by_peaks_note(
    track: TrackView, texts: Mapping[str, Any], values: dict[str, float], rms_target: float | None
) -> str:
    """When the track's crest factor is wider than the gap between the peak mark and the RMS target, both cannot
    hold: the note says to set it by its peaks and where its RMS then sits (nothing when they can both hold)."""
    template, crest, target = texts.get("by_peaks"), track.crest_db, values.get("target")
    if not template or crest is None or target is None or rms_target is None or track.track_type in NOT_GAIN_STAGED:
        return ""
    if round(crest, 1) <= round(target - rms_target, 1):
        return ""
    return _render(template, {**values, "rms_target": rms_target, "rms_at_target": target - crest})


class _Reading(float):
    """A measured or derived figure shown with at least ``decimals`` decimals whatever its text's spec asks (".1f"
    of -5.96 would read -6.0, the very mark it is over)."""

    decimals: int

    def __new__(cls, value: float, decimals: int) -> _Reading:
        reading = super().__new__(cls, value)
        reading.decimals = decimals
        return reading

    def __format__(self, spec: str) -> str:
        match = re.fullmatch(r"([+ -]?)\.(\d)f", spec)
        if match is not None and int(match.group(2)) < self.decimals:
            spec = f"{match.group(1)}.{self.decimals}f"
        return float.__format__(self, spec)


#: The decimals a level is told with, unless a finding's value would then read as its threshold...
LEVEL_DECIMALS = 1
#: ... and the figures that read as a finding on each metric does: its reading, told apart from the threshold,
#: and the amount to move, told apart from zero (a peak of -5.96 dBFS is over the -6 dBFS mark: not "-6.0", and
#: the trim to it not "0.0 dB").
SHOWN_WITH = {
    "peak_dbfs": (("peak", "headroom"), ("trim",)),
    "rms_dbfs": (("rms",), ("lift",)),
    "crest_factor_db": (("crest",), ()),
}


def _apart(value: float, finding: Finding, *, amount: bool = False) -> float:
    """``value`` as a :class:`_Reading` with the decimals that tell ``finding``'s value apart from its threshold
    (an ``amount`` apart from zero), when one decimal does not; else as it is."""
    if finding.value is None or finding.threshold is None:
        return value
    decimals = (
        decimals_apart(value, 0.0, LEVEL_DECIMALS)
        if amount
        else decimals_apart(finding.value, finding.threshold, LEVEL_DECIMALS)
    )
    return _Reading(value, decimals) if decimals > LEVEL_DECIMALS else value


def _shown(values: Mapping[str, float], findings: list[Finding]) -> dict[str, float]:
    """``values`` with the figures of each finding's metric (:data:`SHOWN_WITH`) told as :func:`_apart` says."""
    shown = dict(values)
    for finding in findings:
        readings, amounts = SHOWN_WITH.get(finding.metric, ((), ()))
        for names, amount in ((readings, False), (amounts, True)):
            for name in names:
                if name in shown:
                    shown[name] = _apart(shown[name], finding, amount=amount)
    return shown


def level_notes(
    track: TrackView, rules: RuleSnapshot, texts: Mapping[str, Any], *, findings_only: bool = False
) -> list[str]:
    """Sentences about a track's levels, fader and state, judged by ``rules`` and worded by ``texts`` (``levels``);
    ``findings_only``: only what the rules find (a review of the session names each track's problems, not the
    figures that are fine)."""
    verdict, figures = _verdict(rules, track.track_type, track.peak_db, track.rms_db, track.loudness_lufs)
    findings = list(verdict)
    peak_words, dynamics_words = texts["peak_rules"], texts["dynamics_rules"]
    unworded = {f.rule_id for f in findings if f.rule_id not in peak_words and f.rule_id not in dynamics_words}
    lookup = rules.lookup_for(track.track_type)
    known = {
        "peak": track.peak_db,
        "headroom": track.headroom_db,
        "rms": track.rms_db,
        "crest": track.crest_db,
        "volume": track.volume_db,
        "target": lookup(PEAK_TARGET),
    }
    values = _shown({**figures, **{name: value for name, value in known.items() if value is not None}}, findings)
    if any(finding.rule_id == NOTHING_TO_MIX for finding in findings):
        notes = _problems(track, rules, {NOTHING_TO_MIX})
    elif findings_only:
        worded = {f.rule_id for f in findings} - unworded
        notes = [
            *(_peak_notes(track, findings, texts, values, quiet_below=None) if worded & peak_words.keys() else ()),
            *(_dynamics_notes(track, findings, texts, values) if worded & dynamics_words.keys() else ()),
            *(_problems(track, rules, unworded) if unworded else ()),
        ]
    else:
        notes = [
            *_peak_notes(track, findings, texts, values, quiet_below=lookup(QUIET_PEAK)),
            *_dynamics_notes(track, findings, texts, values),
            _by_peaks_note(track, texts, values, lookup(RMS_TARGET)),
            *(_problems(track, rules, unworded) if unworded else ()),
        ]
    if track.volume_db is not None and not findings_only:
        notes.append(_render(texts["fader"], values))
    notes.extend(texts[state] for state, on in (("muted", track.muted), ("soloed", track.soloed)) if on)
    return [note for note in notes if note]
