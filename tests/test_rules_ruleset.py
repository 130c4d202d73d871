"""The rule set as data: parameters with ranges, live changes, export/load round trips, bad files named."""

from __future__ import annotations

import copy
import json
import os
import pickle
import stat
import threading
from pathlib import Path

import pytest

from codette_lab.errors import RequestError, RulesError
from codette_lab.rules import RuleSet

HOT_VOCAL = {"peak_dbfs": -5.0, "rms_dbfs": -18.0, "muted": False, "soloed": False}


def fired(rules: RuleSet, metrics: dict, **situation) -> set[str]:
    situation = {"track_type": "vocal", "analysis_type": "quality", **situation}
    return {finding.rule_id for finding in rules.snapshot().evaluate(metrics, **situation)}


# -- parameters -------------------------------------------------------------------------------------------


def test_every_parameter_is_described_and_within_its_range():
    rules = RuleSet.default()
    parameters = rules.parameters()
    assert len(parameters) == len(rules) > 50
    for parameter in parameters:
        assert parameter.minimum <= parameter.default <= parameter.maximum, parameter.name
        assert parameter.value == parameter.default
        assert parameter.step > 0 and parameter.description, parameter.name
        assert parameter.group == parameter.name.split(".")[0]


def test_groups_cover_general_loudness_and_track_types():
    groups = RuleSet.default().groups()
    assert {"general", "loudness", "vocal", "drums", "bass", "guitar", "keys", "synth", "master", "bus"} <= set(groups)
    assert "vocal.highpass_hz" in [parameter.name for parameter in groups["vocal"]]


def test_loudness_targets_match_the_standards():
    rules = RuleSet.default()
    expected = {"streaming": (-14.0, -1.0), "broadcast": (-23.0, -1.0), "podcast": (-16.0, -1.0)}
    for name, (lufs, ceiling) in expected.items():
        target = rules.loudness_target(name)
        assert (target.lufs, target.true_peak_dbtp) == (lufs, ceiling)
    assert rules.loudness_target(None).name == "streaming"
    assert rules.loudness_target(-18).lufs == -18.0
    with pytest.raises(RequestError, match="'streaming', 'broadcast', 'podcast'"):
        rules.loudness_target("cinema")
    with pytest.raises(RequestError, match="from -70 to 0"):
        rules.loudness_target(6)


def test_setting_a_parameter_is_range_checked():
    rules = RuleSet.default()
    rules["vocal.highpass_hz"] = 120
    assert rules["vocal.highpass_hz"] == 120.0
    with pytest.raises(RulesError, match=r"'vocal.highpass_hz' must be between 20 and 300 Hz, got 5000"):
        rules["vocal.highpass_hz"] = 5000
    with pytest.raises(RulesError, match="finite number, got True"):
        rules["vocal.highpass_hz"] = True
    with pytest.raises(RulesError, match="finite number, got 'loud'"):
        rules["vocal.highpass_hz"] = "loud"
    with pytest.raises(RulesError, match=r"Unknown rule parameter 'vocal.highpas_hz'.*groups: .*vocal"):
        rules["vocal.highpas_hz"] = 100
    assert rules["vocal.highpass_hz"] == 120.0


def test_update_is_all_or_nothing_and_reset_restores_defaults():
    rules = RuleSet.default()
    with pytest.raises(RulesError):
        rules.update({"vocal.highpass_hz": 100, "general.headroom_peak_dbfs": 30})
    assert rules["vocal.highpass_hz"] == 80.0
    rules.set(**{"vocal.highpass_hz": 100, "general.headroom_peak_dbfs": -8})
    assert rules.changed() == {"vocal.highpass_hz": 100.0, "general.headroom_peak_dbfs": -8.0}
    rules.reset("vocal.highpass_hz")
    assert rules.changed() == {"general.headroom_peak_dbfs": -8.0}
    rules.reset()
    assert rules.changed() == {}


def test_a_change_applies_to_the_next_evaluation():
    rules = RuleSet.default()
    assert "headroom" in fired(rules, HOT_VOCAL)
    rules["general.headroom_peak_dbfs"] = -4
    assert "headroom" not in fired(rules, HOT_VOCAL)
    rules["general.headroom_peak_dbfs"] = -10
    findings = rules.snapshot().evaluate(HOT_VOCAL, track_type="vocal", analysis_type="dynamics")
    finding = next(f for f in findings if f.rule_id == "headroom")
    assert finding.threshold == -10.0 and "-10 dBFS" in finding.problem and "5.0 dB" in finding.suggestion


def test_a_value_just_past_its_threshold_is_not_shown_equal_to_it():
    """A broadcast master of width 0.0299 was told "The master's stereo width is 0.03" under a threshold of 0.03,
    and a peak of -5.96 dBFS "-6.0 dBFS, above the -6 dBFS headroom mark": the value gets the decimals that keep it
    apart from its threshold, and only then."""
    snapshot = RuleSet.default().snapshot()
    narrow = {"stereo_width": 0.0299, "channels": 2, "pause_fraction": 0.0}
    finding = next(f for f in snapshot.evaluate(narrow, track_type="master", analysis_type="stereo"))
    assert finding.rule_id == "master_narrow" and "width is 0.0299:" in finding.problem
    hot = {**HOT_VOCAL, "peak_dbfs": -5.96}
    finding = next(f for f in snapshot.evaluate(hot, track_type="vocal", analysis_type="dynamics"))
    assert "peaks at -5.96 dBFS, above the -6 dBFS" in finding.problem
    assert "by about 0.04 dB so its peaks sit around -6 dBFS" in finding.suggestion  # not "about 0.0 dB"
    assert (
        "peaks at -5.0 dBFS"
        in next(iter(snapshot.evaluate(HOT_VOCAL, track_type="vocal", analysis_type="dynamics"))).problem
    )


def test_suggestion_texts_follow_parameter_values():
    rules = RuleSet.default()
    rules["vocal.highpass_hz"] = 115
    advice = [text for _, text in rules.snapshot().advice("vocal", ["eq"])]
    assert any("115 Hz" in text for text in advice)


def test_on_change_reports_changes_and_a_failing_callback_does_not_block_them():
    rules = RuleSet.default()
    seen: list[dict] = []
    rules.on_change(lambda changes: 1 / 0)
    rules.on_change(seen.append)
    rules["bass.width_max"] = 0.3
    rules.reset()
    assert seen[0] == {"bass.width_max": 0.3}
    assert seen[1]["bass.width_max"] == rules.parameter("bass.width_max").default and len(seen[1]) == len(rules)
    rules.remove_on_change(seen.append)
    rules["bass.width_max"] = 0.4
    assert len(seen) == 2


def test_a_snapshot_stays_consistent_while_another_thread_changes_values():
    rules = RuleSet.default()
    snapshot = rules.snapshot()
    stop = threading.Event()

    def writer() -> None:
        value = -6.0
        while not stop.is_set():
            value = -7.0 if value == -6.0 else -6.0
            rules.set(**{"general.headroom_peak_dbfs": value, "general.clip_risk_peak_dbfs": value + 5})

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(300):
            current = rules.snapshot()
            assert current["general.clip_risk_peak_dbfs"] == current["general.headroom_peak_dbfs"] + 5
    finally:
        stop.set()
        thread.join()
    assert snapshot["general.headroom_peak_dbfs"] == -6.0


def test_copy_and_pickle_give_independent_equal_rule_sets():
    rules = RuleSet.default()
    rules["drums.comp_ratio"] = 6
    clone = pickle.loads(pickle.dumps(rules))
    assert clone.to_dict() == rules.to_dict()
    other = rules.copy()
    other["drums.comp_ratio"] = 2
    assert rules["drums.comp_ratio"] == 6.0


# -- export / load -------------------------------------------------------------------------------------------


def test_export_then_load_gives_the_same_values_and_findings(tmp_path: Path):
    rules = RuleSet.default()
    rules.set(**{"vocal.rumble_max_db": -40, "general.headroom_peak_dbfs": -9, "loudness.streaming_lufs": -12})
    (tmp_path / "tuned").mkdir()
    path = rules.export(tmp_path / "tuned" / "rules.json")
    assert [p.name for p in tmp_path.joinpath("tuned").iterdir()] == ["rules.json"]  # no temp file left behind
    loaded = RuleSet.load(path)
    assert loaded.values() == rules.values()
    assert loaded.to_dict() == rules.to_dict()
    metrics = {"peak_dbfs": -8.0, "rms_dbfs": -20.0, "integrated_lufs": -13.0, "band_energy_db": {"sub_bass": -35.0}}
    for track_type in ("vocal", "master"):
        judged = {"track_type": track_type, "analysis_type": "quality"}
        assert loaded.snapshot().evaluate(metrics, **judged) == rules.snapshot().evaluate(metrics, **judged)
    loaded.reset()
    assert loaded["vocal.rumble_max_db"] == -30.0  # the defaults travel with the file


def test_export_replaces_an_existing_file_only_when_told_or_written_here(tmp_path: Path):
    path = tmp_path / "rules.json"
    path.write_text("old")
    with pytest.raises(RulesError, match=r"rules\.json: the file exists and was not written by this Lab; pass overw"):
        RuleSet.default().export(path)
    assert path.read_text() == "old"  # nothing a user saved is lost
    RuleSet.default().export(path, overwrite=True)
    assert json.loads(path.read_text())["format"] == "codette-lab-rules"
    tuned = RuleSet.default()
    tuned["vocal.highpass_hz"] = 110
    tuned.export(path)  # written by this process, unchanged since: no question asked
    assert RuleSet.load(path)["vocal.highpass_hz"] == 110
    path.write_text("edited by hand")
    with pytest.raises(RulesError, match="not written by this Lab"):
        tuned.export(path)


def test_export_into_a_missing_folder_or_an_unwritable_one_names_the_file_not_a_temporary(tmp_path: Path):
    with pytest.raises(RulesError, match=r"the folder .*missing does not exist"):
        RuleSet.default().export(tmp_path / "missing" / "rules.json")
    assert not (tmp_path / "missing").exists()
    with pytest.raises(RulesError) as refused:  # /proc takes no new files, not even from root
        RuleSet.default().export(Path("/proc") / "rules.json")
    assert "/proc/rules.json" in str(refused.value) and ".tmp" not in str(refused.value)


def test_export_gives_a_new_file_the_usual_mode_and_keeps_an_existing_files(tmp_path: Path):
    previous = os.umask(0o022)
    try:
        fresh = RuleSet.default().export(tmp_path / "fresh.json")
        os.umask(0o027)
        private_umask = RuleSet.default().export(tmp_path / "team.json")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # readable by a service account running serve --rules
    assert stat.S_IMODE(private_umask.stat().st_mode) == 0o640
    fresh.chmod(0o600)  # the user chose to keep it private: a new export keeps that
    RuleSet.default().export(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.json", "team.json"]


def test_export_into_a_directory_path_fails_cleanly(tmp_path: Path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(RulesError, match=r"Cannot write rules file .*taken"):
        RuleSet.default().export(tmp_path / "taken")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


# -- coverage: which rules the metrics let be judged -------------------------------------------------------------


def test_coverage_counts_only_rules_whose_metrics_were_present():
    rules = RuleSet.default().snapshot()
    levels = {"peak_dbfs": -3.0, "rms_dbfs": -16.0, "muted": False, "soloed": False}
    stereo = rules.coverage(levels, track_type="vocal", analysis_type="stereo")
    assert set(stereo.judged) == {"clipping_risk", "muted", "soloed"}
    assert set(stereo.specific) == {"phase_problem", "too_wide", "over_widened"} == set(stereo.specific_not_judged)
    assert not stereo.type_judged
    assert len(stereo.judged) + len(stereo.not_judged) == rules.rule_count(track_type="vocal", analysis_type="stereo")
    vocal_stereo = {"track_type": "vocal", "analysis_type": "stereo"}
    measured = rules.coverage({**levels, "stereo_correlation": 0.4, "stereo_width": 0.5}, **vocal_stereo)
    assert measured.type_judged and measured.specific_not_judged == ()
    # too_wide reads the correlation too ("when"): a one-sided track judges none of the three
    one_sided = rules.coverage({**levels, "stereo_correlation": None, "stereo_width": 0.5}, **vocal_stereo)
    assert set(one_sided.specific_not_judged) == {"phase_problem", "too_wide", "over_widened"}
    # derived metrics count: the loudness checks of a master read the RMS-based estimate
    master = rules.coverage(levels, track_type="master", analysis_type="loudness", target="podcast")
    assert {"too_loud", "too_quiet", "master_peak_over_ceiling"} <= set(master.judged)
    assert "true_peak_over_ceiling" in master.not_judged
    # a rule's "when" metrics count too: too_narrow needs the channel count
    bus = rules.coverage({"stereo_width": 0.01}, track_type="bus", analysis_type="stereo")
    assert "too_narrow" in bus.not_judged
    bus_stereo = {"track_type": "bus", "analysis_type": "stereo"}
    assert "too_narrow" in rules.coverage({"stereo_width": 0.01, "channels": 2}, **bus_stereo).judged


def test_load_errors_name_the_file(tmp_path: Path):
    missing = tmp_path / "nope.json"
    with pytest.raises(RulesError, match=f"Cannot read rules file {missing}: no such file"):
        RuleSet.load(missing)
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "codette-lab-rules",\n  "version": }')
    with pytest.raises(RulesError, match=rf"Rules file {broken} is not valid JSON \(line 2, column"):
        RuleSet.load(broken)


def _mutate(data: dict, path: list, value) -> dict:
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


BAD_FILES = [
    (["format"], "something-else", "field 'format': expected 'codette-lab-rules'"),
    (["version"], 7, "field 'version': expected 1, got 7"),
    (
        ["parameters", 0, "max"],
        "high",
        "parameter 'general.headroom_peak_dbfs' (parameters[0].max): expected a number, got 'high'",
    ),
    (
        ["parameters", 0, "min"],
        float("nan"),
        "parameter 'general.headroom_peak_dbfs' (parameters[0].min): expected a finite number, got nan",
    ),
    (
        ["parameters", 0, "value"],
        3,
        "parameter 'general.headroom_peak_dbfs' (parameters[0].value): expected a number between -24 and 0, got 3",
    ),
    (["parameters", 0, "name"], "Headroom", "field 'parameters[0].name': expected a name like 'vocal.highpass_hz'"),
    (["parameters", 0, "nme"], "x", "(parameters[0].nme): unknown field (expected one of name, value"),
    (["parameters", 1, "step"], 0, "(parameters[1].step): expected a number > 0, got 0"),
    (
        ["rules", 0, "severity"],
        "fatal",
        "field 'rules[0].severity': expected one of info, warning, critical, got 'fatal'",
    ),
    (["rules", 1, "op"], "=>", "field 'rules[1].op': expected one of >, >=, <, <=, ==, !=, got '=>'"),
    (
        ["rules", 1, "threshold"],
        "general.headroom",
        "field 'rules[1].threshold': unknown parameter 'general.headroom' for track type vocal; "
        "did you mean 'general.headroom_peak_dbfs'?",
    ),
    (["rules", 1, "threshold"], "general.no_such_rule", "field 'rules[1].threshold': unknown parameter"),
    (
        ["rules", 1, "metric"],
        "peak_dbf",
        "field 'rules[1].metric': unknown metric 'peak_dbf'; did you mean 'peak_dbfs'?",
    ),
    (
        ["rules", 1, "when"],
        [{"metric": "rms_dbfs", "op": ">", "threshold": "general.no_such_rule"}],
        "field 'rules[1].when[0].threshold': unknown parameter 'general.no_such_rule'",
    ),
    (["rules", 2, "penalty"], 2, "field 'rules[2].penalty': expected a number between 0 and 1, got 2"),
    (["rules", 2, "track_types"], ["vocals"], "field 'rules[2].track_types[0]': expected one of"),
    (
        ["rules", 2, "problem"],
        "{track} is {loudnes_lufs}",
        "field 'rules[2].problem': unknown placeholder {loudnes_lufs} (expected a parameter, a metric or one of "
        "value, threshold, track, ...); did you mean 'loudness_lufs'?",
    ),
    (
        ["rules", 2, "problem"],
        "{track} is over {general.no_such_rule}",
        "field 'rules[2].problem': unknown placeholder {general.no_such_rule}",
    ),
    (
        ["rules", 2, "suggestion"],
        "High-pass at {type.hipass_hz} Hz",
        "field 'rules[2].suggestion': unknown placeholder {type.hipass_hz}",
    ),
    (["rules", 2, "suggestion"], "High-pass at {type.hipass_hz} Hz", "did you mean 'type.highpass_hz'?"),
    (["rules", 2, "suppressed_by"], ["nonexistent"], "field 'rules[2].suppressed_by': unknown rule id 'nonexistent'"),
    (["rules", 3, "metric"], KeyError, "field 'rules[3].metric': missing"),
    (
        ["advice", "vocal", "eq", 0],
        "Cut at {vocal.nope_hz} Hz",
        "field 'advice.vocal.eq[0]': unknown placeholder {vocal.nope_hz}",
    ),
    (["advice", "vocal", "eq", 0, "unless"], ["rumbel"], "field 'advice.vocal.eq[0].unless[0]': expected one of"),
    (["advice", "vocal", "reverb"], ["x"], "field 'advice.vocal.reverb': expected a category among eq, dynamics"),
    (
        ["loudness_targets", "default"],
        "cinema",
        "field 'loudness_targets.default': expected one of streaming, broadcast, podcast",
    ),
    (
        ["loudness_targets", "targets", "podcast", "lufs"],
        "loudness.nope",
        "field 'loudness_targets.targets.podcast.lufs': unknown parameter 'loudness.nope'",
    ),
    (
        ["loudness_targets", "custom_true_peak"],
        "general.no_such_rule",
        "field 'loudness_targets.custom_true_peak': unknown parameter 'general.no_such_rule'",
    ),
    (
        ["texts", "no_problems"],
        "All {rule_count checks fine",
        "field 'texts.no_problems': expected a text template with balanced",
    ),
    (
        ["analysis_types", "spectrum", "summary"],
        ["band_energy_db.treble"],
        "field 'analysis_types.spectrum.summary[0]': expected one of",
    ),
    (["texts", "no_problems"], KeyError, "field 'texts.no_problems': missing (expected a string)"),
    (
        ["texts", "no_problem"],
        "None found",
        "field 'texts.no_problem': unknown text (expected one of measured_from_levels",
    ),
    (["rules", 2, "suppresed_by"], ["rumble"], "field 'rules[2].suppresed_by': unknown field (expected one of id,"),
    (["rules", 2, "suppresed_by"], ["rumble"], "; did you mean 'suppressed_by'?)"),
    (
        ["rules", 2, "when"],
        [{"metric": "rms_dbfs", "op": ">", "treshold": -3}],
        "field 'rules[2].when[0].treshold': unknown field (expected one of metric, op, threshold; did you mean ",
    ),
    (["rules", 0, "id"], " ", "field 'rules[0].id': expected a non-empty string, got ' '"),
    (["advice", "vocals"], {"eq": []}, "field 'advice.vocals': unknown track type (expected one of vocal,"),
    (["metric_label"], {}, "field 'metric_label': unknown section (expected one of format,"),
    (["metric_label"], {}, "did you mean 'metric_labels'?"),
    (
        ["metric_labels", "peak_dbf"],
        "{value}",
        "field 'metric_labels.peak_dbf': unknown metric; did you mean 'peak_dbfs'?",
    ),
    (["bands", "sub_bass", "lable"], "Sub", "field 'bands.sub_bass.lable': unknown field (expected one of label,"),
    (["advice", "vocal", "eq", 0], {"text": "x", "unles": []}, "field 'advice.vocal.eq[0].unles': unknown field"),
    (["analysis_types", "spectrum", "openning"], "x", "field 'analysis_types.spectrum.openning': unknown field"),
    (
        ["loudness_targets", "targets", "podcast", "lufs_target"],
        -16,
        "field 'loudness_targets.targets.podcast.lufs_target': unknown field",
    ),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_FILES, ids=[".".join(map(str, p)) for p, _, _ in BAD_FILES])
def test_a_bad_rule_file_names_the_file_and_the_field(tmp_path: Path, path, value, message):
    good = RuleSet.default().to_dict()
    file = tmp_path / "bad_rules.json"
    file.write_text(json.dumps(_mutate(good, path, value)))
    with pytest.raises(RulesError) as caught:
        RuleSet.load(file)
    assert str(caught.value).startswith(f"Invalid rules in {file}: ")
    assert message in str(caught.value)


def test_a_parameter_whose_group_lacks_a_type_value_falls_back_to_general():
    rules = RuleSet.default()
    # synth has no rumble threshold of its own: the general one applies, and follows its changes
    metrics = {"band_energy_db": {"sub_bass": -27.0}}
    assert "rumble" not in fired(rules, metrics, track_type="synth")
    rules["general.rumble_max_db"] = -30
    assert "rumble" in fired(rules, metrics, track_type="synth")
    assert "rumble" not in fired(rules, {"band_energy_db": {"sub_bass": -31.0}}, track_type="synth")


def test_evaluate_accepts_track_type_aliases():
    rules = RuleSet.default()
    metrics = {"band_energy_db": {"sub_bass": -20.0}}
    snapshot = rules.snapshot()
    assert snapshot.evaluate(metrics, track_type="Lead Vox", analysis_type="spectrum") == snapshot.evaluate(
        metrics, track_type="vocal", analysis_type="spectrum"
    )


def _leaf_paths(value, path=()):
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _leaf_paths(child, (*path, key))


def test_any_damaged_rule_file_either_loads_and_answers_or_raises_rules_error():
    """300 random damages (wrong types, broken templates, missing fields): never another exception."""
    import random

    good = RuleSet.default().to_dict()
    paths = list(_leaf_paths(good))[1:]
    damages = [None, 1, "x", [], {}, True, -1e9, "{", "{nope}", [1], {"a": 1}, "{value:q}", KeyError]
    chooser = random.Random(3)
    metrics = {"peak_dbfs": -0.1, "rms_dbfs": -3.0, "muted": True, "band_energy_db": {"sub_bass": -3.0}}
    outcomes = set()
    for _ in range(300):
        path = chooser.choice(paths)
        damaged = _mutate(good, list(path), chooser.choice(damages)) if path else good
        try:
            rules = RuleSet.from_dict(damaged)
        except RulesError:
            outcomes.add("refused")
            continue
        outcomes.add("loaded")
        for track_type in ("vocal", "master", "bus"):
            for finding in rules.snapshot().evaluate(metrics, track_type=track_type, analysis_type="quality"):
                assert isinstance(finding.problem, str) and isinstance(finding.suggestion, str)
    assert outcomes == {"refused", "loaded"}
