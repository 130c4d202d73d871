"""Running the rules over a track's metrics: which fired, with which texts, and the score that follows.

Metrics arrive nested (``band_energy_db: {sub_bass: ...}``) and are read
flat (``band_energy_db.sub_bass``). A few metrics are derived here because
they depend on the rule set itself (loudness against the chosen target, the
levels-only loudness estimate); everything else is compared as measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from ..analysis.precision import METRIC_DECIMALS
from .balance import OUTPUTS as BALANCE_OUTPUTS
from .balance import judge_balance
from .model import OPERATORS, SEVERITIES, Condition, Finding, LoudnessTarget, Rule
from .templates import Template, lookup_in
from .tone import OUTPUTS as TONE_OUTPUTS
from .tone import judge_tone

if TYPE_CHECKING:  # snapshot.py imports this module: the type only, for the checker
    from .snapshot import RuleSnapshot


@dataclass(frozen=True)
class Situation:
    """Everything about a request that rules read besides the metrics."""

    track_type: str
    analysis_type: str
    track_name: str | None
    target: LoudnessTarget
    other_track_name: str | None = None
    other_track_type: str | None = None


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; non-finite numbers become None."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, float) and not math.isfinite(value):
            flat[name] = None
        else:
            flat[name] = value
    return flat


def number(value: Any) -> float | None:
    """A metric as a comparable float (True counts as 1), or None when it is not a finite number."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    if hasattr(value, "item"):  # numpy scalars
        return number(value.item())
    return None


# -- derived metrics: one derivation per family, each declaring the names it adds to the flat metrics ---------


@dataclass(frozen=True)
class Derivation:
    """Metrics computed from the others: the names it adds (``outputs``, the one list of them) and how.

    ``compute(flat, snapshot, situation)`` returns one value per output, in order.
    """

    outputs: tuple[str, ...]
    compute: Callable[[Mapping[str, Any], RuleSnapshot, Situation], tuple[Any, ...]]


#: The width of the bell a cut placed by the type's reference names, per range (the ``*_for_type`` remedies'
#: "Q about ..."): a 1/3-octave band stands out there, not a measured peak of known width, so the bell is of a
#: usual width for the range: broad in the low mids (about an octave), narrower in the upper mids.
REFERENCE_BELL_Q = {"mud": 1.4, "harsh": 2.0}


def _crest(flat: Mapping[str, Any], snapshot: RuleSnapshot, situation: Situation) -> tuple[Any, ...]:
    """The measured crest factor, else peak minus RMS (levels-only requests); the crest factor while the part
    sounds; and which of the two that is, in words.

    A vocal stem silent between its phrases, a voice-over between its sentences, has its RMS pulled down by the
    silence, so its crest factor over the whole track says "very dynamic" of a steady performance (a compressor
    does nothing in the pauses). The pauses (``pause_fraction``: frames so far under the loud ones that their
    energy hardly counts, :mod:`codette_lab.analysis.programme`) are left out of the RMS:
    ``crest + 10 log10(1 - pauses)``.
    Without a pause measure (levels only) it is the crest factor itself."""
    crest = number(flat.get("crest_factor_db"))
    if crest is None:
        peak, rms = number(flat.get("peak_dbfs")), number(flat.get("rms_dbfs"))
        crest = peak - rms if peak is not None and rms is not None else None
    pauses = number(flat.get("pause_fraction"))
    if crest is None or pauses is None or not 0.0 <= pauses < 1.0:
        return crest, crest, snapshot.words("crest_whole")
    return crest, crest + 10.0 * math.log10(1.0 - pauses), snapshot.words("crest_while_sounding")


#: What :func:`_programme` says of a track without programme material, by how it was told (the rule file's
#: texts: each names the measurement).
ABSENCE_TEXTS = {
    "noise": "programme_noise",
    "silence": "programme_silence",
    "under_floor": "programme_under_floor",
    "rms_under_floor": "programme_rms_under_floor",
    "constant": "programme_constant",
}


def _programme(flat: Mapping[str, Any], snapshot: Any, situation: Situation) -> tuple[Any, ...]:
    """Whether the track holds no programme material (1.0) or does (0.0), and in words how that was told: only
    steady noise (the analysis's ``noise_only``), digital silence (audio measured, every sample zero, so no
    peak), or a peak at or under ``general.silence_peak_dbfs`` (what a DAW's meter reads on an empty track or
    with the transport stopped), or, from a DAW that sends an RMS and no peak, that RMS at or under it (an RMS
    so low leaves at most a stray click: nothing to mix either), or a constant over that floor (its DC offset, its
    peak and its RMS one level: every sample sits at the offset, as a dead input may read); no words for a track
    with programme. None (and no words) when neither the audio nor the levels tell (levels alone cannot tell hiss
    from music). Nothing to mix is a routing or source problem: the gain, tone and dynamics rules give way to it
    (their ``suppressed_by``), so an empty track is never told to raise its gain by 100 dB."""
    noise, peak, rms = (number(flat.get(name)) for name in ("noise_only", "peak_dbfs", "rms_dbfs"))
    floor = snapshot.lookup_for(situation.track_type)("general.silence_peak_dbfs")
    quiet = peak is not None and floor is not None and peak <= floor
    if not quiet and _constant(peak, rms, number(flat.get("dc_offset"))):
        kind = "constant"  # before noise: what little strays from the offset may read as steady noise
    elif noise is not None and noise >= 1.0:
        kind = "noise"
    elif peak is None and flat.get("channels") is not None and (number(flat.get("duration_s")) or 0.0) > 0.0:
        kind = "silence"  # audio was measured (it has channels and a length) and has no peak: all zero
    elif quiet:
        kind = "under_floor"
    elif peak is None and rms is not None and floor is not None and rms <= floor:
        kind = "rms_under_floor"
    else:  # programme, or nothing tells: no words
        return (0.0 if noise is not None else None), ""
    return 1.0, snapshot.words(ABSENCE_TEXTS[kind], flat, track_type=situation.track_type)


#: Levels this close (dB) count as one: the last digit the peak and the RMS are reported to.
SAME_LEVEL_DB = 10.0 ** -(METRIC_DECIMALS["peak_dbfs"] or 0)


def _constant(peak: float | None, rms: float | None, dc: float | None) -> bool:
    """Whether the DC offset, the peak and the RMS are one level: no sample strays from the offset (a mono
    constant, or channels held at offsets of one size)."""
    if peak is None or rms is None or not dc:
        return False
    offset = 20.0 * math.log10(abs(dc))
    return abs(offset - peak) <= SAME_LEVEL_DB and abs(offset - rms) <= SAME_LEVEL_DB


def _dc_offset(flat: Mapping[str, Any], snapshot: RuleSnapshot, situation: Situation) -> tuple[Any, ...]:
    dc = number(flat.get("dc_offset"))
    return (abs(dc) if dc is not None else None,)


def _loudness(flat: Mapping[str, Any], snapshot: RuleSnapshot, situation: Situation) -> tuple[Any, ...]:
    """Loudness as measured, else estimated from RMS; where it came from; how far from the target."""
    measured, rms = number(flat.get("integrated_lufs")), number(flat.get("rms_dbfs"))
    if measured is not None:
        loudness, source = measured, snapshot.words("loudness_measured")
    elif rms is not None:
        loudness = rms + snapshot.values[snapshot.document.rms_to_lufs_parameter]
        source = snapshot.words("loudness_estimated")
    else:
        return None, None, None, None
    target = situation.target.lufs
    return loudness, source, loudness - target, target - loudness


def _ceiling(flat: Mapping[str, Any], snapshot: RuleSnapshot, situation: Situation) -> tuple[Any, ...]:
    ceiling = situation.target.true_peak_dbtp
    peak, true_peak = number(flat.get("peak_dbfs")), number(flat.get("true_peak_dbtp"))
    return (
        peak - ceiling if peak is not None else None,
        true_peak - ceiling if true_peak is not None else None,
    )


def _remedy_amounts(flat: Mapping[str, Any], snapshot: RuleSnapshot, situation: Situation) -> tuple[Any, ...]:
    """The amounts remedies name, from the measurements: the gain change that brings the peaks to the
    headroom mark and the RMS to the type's target, what the mono sum loses against the channels (a side
    share ``width`` leaves ``1 - width`` in the sum), and how deep a cut on a masking track must go (the gap
    it leads by, plus a margin), for this track under the other and for the other under this one."""
    peak, rms = number(flat.get("peak_dbfs")), number(flat.get("rms_dbfs"))
    width = number(flat.get("stereo_width"))
    gap, lead = number(flat.get("buried_by_db")), number(flat.get("burying_by_db"))
    parameter = snapshot.lookup_for(situation.track_type)  # None for a parameter a rule file lacks
    headroom, target_rms = parameter("general.headroom_peak_dbfs"), parameter("type.target_rms_dbfs")
    margin = parameter("general.unmask_margin_db")
    return (
        peak - headroom if peak is not None and headroom is not None else None,
        target_rms - rms if rms is not None and target_rms is not None else None,
        -10.0 * math.log10(1.0 - width) if width is not None and width < 1.0 else None,
        gap + margin if gap is not None and margin is not None else None,
        lead + margin if lead is not None and margin is not None else None,
    )


def _gain_stage(flat: Mapping[str, Any], snapshot: Any, situation: Situation) -> tuple[Any, ...]:
    """Whether the type's RMS target and peak mark can both hold at the track's crest factor: the RMS it
    has with its peaks at the mark, and how far its crest factor exceeds the gap between the two (> 0: they
    cannot both hold, and the track is gain-staged by its peaks)."""
    crest = number(flat.get("crest_factor_db"))
    parameter = snapshot.lookup_for(situation.track_type)
    headroom, target_rms = parameter("type.headroom_peak_dbfs"), parameter("type.target_rms_dbfs")
    if crest is None or headroom is None or target_rms is None:
        return None, None
    return headroom - crest, crest - (headroom - target_rms)


def _eq_cuts(flat: Mapping[str, Any], snapshot: Any, situation: Situation) -> tuple[Any, ...]:
    """How deep the cuts against the measured build-ups go, no deeper than ``general.eq_cut_max_db`` (beyond
    that an engineer checks the source rather than cutting more): against the track's own envelope, their
    excess over it; against the type's reference envelope, how far they stand above its mean."""
    limit = snapshot.lookup_for(situation.track_type)("general.eq_cut_max_db")
    cuts = []
    for metric in ("mud_excess_db", "harsh_excess_db", "mud_ref_db", "harsh_ref_db"):
        excess = number(flat.get(metric))
        cuts.append(None if excess is None else min(excess, limit) if limit is not None else excess)
    return tuple(cuts)


def _reference_bells(flat: Mapping[str, Any], snapshot: Any, situation: Situation) -> tuple[Any, ...]:
    """The width (Q) of the bell each cut placed by the type's reference names (:data:`REFERENCE_BELL_Q`); None
    where the reference placed none."""
    return tuple(
        REFERENCE_BELL_Q[kind] if flat.get(f"{kind}_ref_hz") is not None else None for kind in ("mud", "harsh")
    )


def _harsh_place(flat: Mapping[str, Any], snapshot: Any, situation: Situation) -> tuple[Any, ...]:
    """Where the own-envelope harshness is to be cut, how deep and how wide: at the upper mids' peak over the
    track's own envelope when that band also stands at least ``general.harsh_own_z_min`` spreads above what
    is normal for the type; else where the upper mids stand out of the normal most (an overdriven guitar's own
    2 kHz peak is the instrument; a bell added at 3 kHz is the harshness), with the cut that stands above the
    normal there and the reference's bell (``harsh_ref_q``). Without a reference, or a rule file without that
    parameter: the own peak."""
    own = number(flat.get("harsh_hz")), number(flat.get("harsh_cut_db")), number(flat.get("harsh_q"))
    least = snapshot.lookup_for(situation.track_type)("general.harsh_own_z_min")
    standing, where = number(flat.get("harsh_own_z")), number(flat.get("harsh_ref_hz"))
    if least is None or standing is None or where is None or standing >= least:
        return own
    return where, number(flat.get("harsh_ref_cut_db")), number(flat.get("harsh_ref_q"))


def _tone(flat: Mapping[str, Any], snapshot: Any, situation: Situation) -> tuple[Any, ...]:
    """The tone against the reference envelope of the track's type (:mod:`.tone`)."""
    speech = snapshot.lookup_for(situation.track_type)("general.speech_pause_fraction")
    return judge_tone(flat, situation.track_type, speech)


def _balance(flat: Mapping[str, Any], snapshot: Any, situation: Situation) -> tuple[Any, ...]:
    """How far the tonal balance leans past the type's normal (:mod:`.balance`); none where the tone is not
    judged against a reference (no tone shape, a speech master)."""
    if flat.get("tone_reference") is None:
        return (None,) * len(BALANCE_OUTPUTS)
    return judge_balance(flat, situation.track_type)


DERIVATIONS: tuple[Derivation, ...] = (
    Derivation(("programme_absent", "programme_absence"), _programme),
    Derivation(("crest_factor_db", "sounding_crest_db", "sounding_crest_span"), _crest),
    Derivation(("dc_offset_abs",), _dc_offset),
    Derivation(("loudness_lufs", "loudness_source", "loudness_above_target_lu", "loudness_below_target_lu"), _loudness),
    Derivation(("peak_over_ceiling_db", "true_peak_over_ceiling_db"), _ceiling),
    Derivation(
        ("peak_over_headroom_db", "rms_below_target_db", "mono_loss_db", "unmask_cut_db", "unmask_other_cut_db"),
        _remedy_amounts,
    ),
    Derivation(("rms_at_headroom_dbfs", "crest_over_gap_db"), _gain_stage),
    Derivation(TONE_OUTPUTS, _tone),
    Derivation(BALANCE_OUTPUTS, _balance),
    Derivation(("mud_cut_db", "harsh_cut_db", "mud_ref_cut_db", "harsh_ref_cut_db"), _eq_cuts),
    Derivation(("mud_ref_q", "harsh_ref_q"), _reference_bells),
    Derivation(("harsh_at_hz", "harsh_at_cut_db", "harsh_at_q"), _harsh_place),
)

#: Every name the derivations add (rules may judge them, templates may name them).
DERIVED_METRICS: tuple[str, ...] = tuple(name for derivation in DERIVATIONS for name in derivation.outputs)


def derive(flat: Mapping[str, Any], snapshot: RuleSnapshot, situation: Situation) -> dict[str, Any]:
    """The flat metrics plus every derived one."""
    result = dict(flat)
    for derivation in DERIVATIONS:
        result.update(zip(derivation.outputs, derivation.compute(result, snapshot, situation), strict=True))
    return result


# -- the words around the numbers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SituationValues:
    """What every template may name about the request (its fields are the one list of these names).

    The ``band...`` values are those of the masking analysis's ``masked_band`` (None without one).
    """

    track: str
    track_type: str
    analysis_type: str
    target_name: str
    target_label: str
    target_lufs: float
    target_true_peak_dbtp: float
    other_track: str
    other_track_type: str | None
    cut_track: str
    keep_track: str
    band: str | None = None
    band_label: str | None = None
    band_low_hz: float | None = None
    band_high_hz: float | None = None
    band_centre_hz: float | None = None


@dataclass(frozen=True)
class FindingValues:
    """What a rule's problem and suggestion may name about its own finding (fields: the one list of names)."""

    value: float
    threshold: float
    over: float
    under: float
    metric: str


#: The names of :class:`SituationValues` and :class:`FindingValues`, for the rule-file checks.
SITUATION_VALUES: tuple[str, ...] = tuple(item.name for item in fields(SituationValues))
FINDING_VALUES: tuple[str, ...] = tuple(item.name for item in fields(FindingValues))


def _band_values(flat: Mapping[str, Any], snapshot: RuleSnapshot) -> dict[str, Any]:
    band = snapshot.document.bands.get(flat.get("masked_band") or "")
    if band is None:
        return {}
    return {
        "band": band.name,
        "band_label": band.label,
        "band_low_hz": band.low_hz,
        "band_high_hz": band.high_hz,
        "band_centre_hz": band.centre_hz,
    }


def context_for(flat: Mapping[str, Any], snapshot: RuleSnapshot, situation: Situation) -> dict[str, Any]:
    """Values templates can name besides metrics and parameters (see :class:`SituationValues`)."""
    track = situation.track_name or snapshot.words("unnamed_track")
    other = situation.other_track_name or snapshot.words("unnamed_other_track")
    priority = snapshot.document.masking_priority
    rank = {track_type: index for index, track_type in enumerate(priority)}
    last = len(priority)
    cut_mine = rank.get(situation.track_type, last) > rank.get(situation.other_track_type or "", last)
    target = situation.target
    values = SituationValues(
        track=track,
        track_type=situation.track_type,
        analysis_type=situation.analysis_type,
        target_name=target.name,
        target_label=target.label,
        target_lufs=target.lufs,
        target_true_peak_dbtp=target.true_peak_dbtp,
        other_track=other,
        other_track_type=situation.other_track_type,
        cut_track=track if cut_mine else other,
        keep_track=other if cut_mine else track,
        **_band_values(flat, snapshot),
    )
    return dict(vars(values))


#: The context's entry holding the track names the request gave (no template can name it: not an identifier).
GIVEN_NAMES = "-given names-"


def render(template: Template, lookup: Callable[[str], Any]) -> str:
    """A template's text, starting with a capital letter ("this track" may open the sentence), unless it opens
    with a track name the request gave: a name is the user's, written as they wrote it ('iPhone vox')."""
    text = template.render(lookup)
    if any(text.startswith(name) for name in lookup(GIVEN_NAMES) or ()):
        return text
    return text[:1].upper() + text[1:]


# -- the rules themselves --------------------------------------------------------------------------------------


def _threshold(condition: Condition, snapshot: RuleSnapshot, track_type: str) -> float:
    if isinstance(condition.threshold, float):
        return condition.threshold
    return snapshot.values[snapshot.resolve(condition.threshold, track_type)]


def _holds(
    condition: Condition, flat: Mapping[str, Any], snapshot: RuleSnapshot, track_type: str
) -> tuple[bool, float | None, float]:
    value = number(flat.get(condition.metric))
    threshold = _threshold(condition, snapshot, track_type)
    if value is None:
        return False, None, threshold
    return OPERATORS[condition.op](value, threshold), value, threshold


def _fires(rule: Rule, flat: Mapping[str, Any], snapshot: RuleSnapshot, track_type: str) -> tuple[float, float] | None:
    fired, value, threshold = _holds(rule.condition, flat, snapshot, track_type)
    if not fired or not all(_holds(extra, flat, snapshot, track_type)[0] for extra in rule.when):
        return None
    assert value is not None
    return value, threshold


def evaluate(
    snapshot: RuleSnapshot, metrics: Mapping[str, Any], situation: Situation, *, render_texts: bool = True
) -> list[Finding]:
    """The findings of every rule that applies to the situation and fires, most serious first.

    ``render_texts=False`` leaves each finding's ``problem`` and ``suggestion`` empty: for a caller that
    words the findings itself (chat) is spared filling the templates.
    """
    flat = derive(flatten(metrics), snapshot, situation)
    given = tuple(name for name in (situation.track_name, situation.other_track_name) if name)
    context = {**context_for(flat, snapshot, situation), GIVEN_NAMES: given} if render_texts else {}
    track_type = situation.track_type
    fired: list[tuple[Rule, float, float]] = []
    for rule in snapshot.applicable(track_type, situation.analysis_type):
        hit = _fires(rule, flat, snapshot, track_type)
        if hit is not None:
            fired.append((rule, *hit))
    fired_ids = {rule.id for rule, _, _ in fired}
    parameters = snapshot.lookup_for(track_type)
    findings = []
    for rule, value, threshold in fired:
        if fired_ids.intersection(rule.suppressed_by):
            continue
        own = vars(
            FindingValues(
                value=value,
                threshold=threshold,
                over=value - threshold,
                under=threshold - value,
                metric=rule.condition.metric,
            )
        )
        combined = _chain(lookup_in(own, context, flat), parameters)
        findings.append(
            Finding(
                rule_id=rule.id,
                metric=rule.condition.metric,
                value=value,
                threshold=threshold,
                severity=rule.severity,
                problem=render(rule.problem, combined) if render_texts else "",
                suggestion=render(rule.suggestion, combined) if render_texts else "",
                penalty=severity_penalty(rule.penalty, value, threshold),
            )
        )
    order = {severity: index for index, severity in enumerate(reversed(SEVERITIES))}
    return sorted(findings, key=lambda finding: order[finding.severity])


def _chain(first: Callable[[str], Any], second: Callable[[str], Any]) -> Callable[[str], Any]:
    def lookup(name: str) -> Any:
        value = first(name)
        return value if value is not None else second(name)

    return lookup


#: A finding far past its threshold costs up to this many times its rule's penalty.
MAX_SEVERITY_FACTOR = 2.0


def severity_penalty(penalty: float, value: float, threshold: float) -> float:
    """The rule's penalty scaled by how far past its threshold the value lies: the rule's penalty right at
    the threshold, growing with the distance relative to the threshold's own size (at least 1 unit), up to
    :data:`MAX_SEVERITY_FACTOR` times it. A +12 dB build-up costs more than a +7 dB one."""
    distance = abs(value - threshold) / max(abs(threshold), 1.0)
    return min(1.0, penalty * min(MAX_SEVERITY_FACTOR, 1.0 + distance))


def score(findings: list[Finding], kept: float = 1.0) -> float:
    """1.0 with nothing found and nothing leaning; each finding keeps ``1 - penalty`` of what is left, and the
    tonal balance ``kept`` of it (:func:`.balance.kept`)."""
    result = kept
    for finding in findings:
        result *= 1.0 - finding.penalty
    return round(max(0.0, min(1.0, result)), 3)
