"""What a rule file may name: its sections and fields, the metrics, texts and values its templates use.

The measured metric names come from the meters (``analysis.outputs``), the
derived metrics and the values of a finding and its situation from
``evaluate`` (which computes them); this module adds what the callers of the
rules supply and puts the names together.
"""

from __future__ import annotations

from .evaluate import DERIVED_METRICS, FINDING_VALUES, SITUATION_VALUES

FORMAT = "codette-lab-rules"
VERSION = 1

#: Metrics a request carries besides the measured ones (``analysis.outputs``): the track's state,
#: which the analysis types add to every request's metrics.
TRACK_STATE_METRICS: tuple[str, ...] = ("channels", "muted", "soloed")

#: Values the analysis types pass to the rule file's ``texts`` (``RuleSnapshot.text``): the summary of
#: what was measured, the findings counted and listed, an unknown track type and the known ones.
TEXT_VALUES: tuple[str, ...] = (
    "summary",
    "count",
    "problems",
    "rule_count",
    "given",
    "known",
    "channels_text",
    "leaning",
    "spreads",
    "cost",
)

#: Metrics a rule may judge besides the measured ones: the track's state and the derived metrics.
UNMEASURED_METRICS: tuple[str, ...] = (*TRACK_STATE_METRICS, *DERIVED_METRICS)

#: Values a template may name besides metrics and parameters: of the finding, of the request, of the text.
CONTEXT_NAMES: tuple[str, ...] = (*FINDING_VALUES, *SITUATION_VALUES, *TEXT_VALUES)

#: Texts every rule file provides (how insights are put together).
TEXT_NAMES: tuple[str, ...] = (
    "measured_from_levels",
    "measured_from_audio",
    "no_problems",
    "problems",
    "unknown_track_type",
    "no_measurements",
    "unnamed_track",
    "unnamed_other_track",
    "loudness_measured",
    "loudness_estimated",
)
#: Texts a rule file may leave out (written before they existed): the sentence is then not said.
OPTIONAL_TEXT_NAMES: tuple[str, ...] = (
    "balance_lean",
    "crest_while_sounding",
    "crest_whole",
    "programme_noise",
    "programme_silence",
    "programme_under_floor",
    "programme_rms_under_floor",
    "programme_constant",
)

#: Categories of per-track-type advice.
ADVICE_CATEGORIES: tuple[str, ...] = ("eq", "dynamics", "level", "stereo", "transients")

#: The members each kind of rule-file object may have (anything else is a misspelling, refused at load).
SECTIONS: tuple[str, ...] = (
    "format",
    "version",
    "parameters",
    "bands",
    "loudness_targets",
    "rules",
    "advice",
    "analysis_types",
    "metric_labels",
    "texts",
    "masking_priority",
)
PARAMETER_FIELDS = ("name", "value", "default", "min", "max", "step", "unit", "group", "description")
CONDITION_FIELDS = ("metric", "op", "threshold")
RULE_FIELDS = (
    "id",
    "analysis_types",
    "track_types",
    "not_track_types",
    *CONDITION_FIELDS,
    "when",
    "suppressed_by",
    "severity",
    "penalty",
    "problem",
    "suggestion",
)
