"""What a rule file may name: its sections and fields, the metrics, texts and values its templates use.

The measured metric names themselves come from the meters (``analysis.outputs``);
this module lists only what the rules layer adds on top of them.
"""

from __future__ import annotations

FORMAT = "codette-lab-rules"
VERSION = 1

#: Metrics a request carries besides the measured ones (``analysis.outputs``): the track's state,
#: which the analysis types add to every request's metrics.
TRACK_STATE_METRICS: tuple[str, ...] = ("channels", "muted", "soloed")

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

#: The members each kind of rule-file object may have (anything else is a misspelling, refused at load).
SECTIONS: tuple[str, ...] = (
    "format", "version", "parameters", "bands", "loudness_targets", "rules", "advice", "analysis_types",
    "metric_labels", "texts", "masking_priority",
)
PARAMETER_FIELDS = ("name", "value", "default", "min", "max", "step", "unit", "group", "description")
CONDITION_FIELDS = ("metric", "op", "threshold")
RULE_FIELDS = (
    "id", "analysis_types", "track_types", "not_track_types", *CONDITION_FIELDS, "when", "suppressed_by",
    "severity", "penalty", "problem", "suggestion",
)
