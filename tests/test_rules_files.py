"""Rule files that cannot fool you (issue 11): unknown names refused with the closest known one, errors that
name the parameter, deep nesting, files that are not regular files, oversized files, and ``RuleSet.diff``.

Every test writes a real file (or FIFO) under tmp_path and loads it the way ``codette-lab serve --rules`` does.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from codette_lab.errors import RulesError
from codette_lab.rules import ParameterChange, RulesDiff, RuleSet
from codette_lab.rules.files import MAX_RULES_FILE_BYTES


def default_data() -> dict:
    return copy.deepcopy(RuleSet.default().to_dict())


def write(tmp_path: Path, data: dict, name: str = "rules.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def refusal(path: Path) -> str:
    with pytest.raises(RulesError) as caught:
        RuleSet.load(path)
    return str(caught.value)


def extra_parameter(name: str, value: float = 3.0) -> dict:
    return {
        "name": name,
        "value": value,
        "default": value,
        "min": 0,
        "max": 10,
        "step": 1,
        "unit": "dB",
        "description": "A parameter the user added",
    }


# -- unknown names -----------------------------------------------------------------------------------------


def test_a_declared_parameter_nothing_refers_to_is_refused_naming_it(tmp_path: Path):
    data = default_data()
    data["parameters"].append(extra_parameter("general.no_such_rule"))
    index = len(data["parameters"]) - 1
    message = refusal(write(tmp_path, data))
    assert message.startswith(
        f"Invalid rules in {tmp_path / 'rules.json'}: parameter 'general.no_such_rule' (parameters[{index}].name): "
        "unknown parameter 'general.no_such_rule': not a built-in parameter, and no rule, target or text of this "
        "file refers to it"
    )


def test_a_misspelt_parameter_name_names_the_closest_known_one(tmp_path: Path):
    data = default_data()
    first = data["parameters"][0]
    assert first["name"] == "general.headroom_peak_dbfs"
    first["name"] = "general.headroom_peak_dbsf"  # the real one is now missing: the first use of it is refused,
    message = refusal(write(tmp_path, data))  # pointing at the misspelt declaration
    assert "unknown placeholder {general.headroom_peak_dbfs}" in message
    assert message.endswith("did you mean 'general.headroom_peak_dbsf'?")


def test_a_new_parameter_that_a_new_rule_uses_is_accepted_and_a_built_in_unused_one_stays(tmp_path: Path):
    data = default_data()
    data["parameters"].append(extra_parameter("general.balance_max"))
    data["rules"].append(
        {
            "id": "left_heavy",
            "analysis_types": ["stereo"],
            "track_types": ["*"],
            "metric": "stereo_balance",
            "op": ">",
            "threshold": "general.balance_max",
            "severity": "info",
            "penalty": 0.1,
            "problem": "{track} leans ({value:.2f})",
            "suggestion": "Pan {track} back",
        }
    )
    rules = RuleSet.load(write(tmp_path, data))
    assert rules["general.balance_max"] == 3.0
    # general.attack_max_ms is read by no rule of the built-in file, but it is a built-in parameter
    assert "general.attack_max_ms" in rules


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        (
            ("rules", 0, "threshold"),
            "general.no_such_rule",
            "field 'rules[0].threshold': unknown parameter 'general.no_such_rule' for track type",
        ),
        (
            ("rules", 0, "problem"),
            "{general.no_such_rule}",
            "field 'rules[0].problem': unknown placeholder {general.no_such_rule}",
        ),
        (
            ("loudness_targets", "targets", "streaming", "lufs"),
            "general.no_such_rule",
            "field 'loudness_targets.targets.streaming.lufs': unknown parameter 'general.no_such_rule'",
        ),
        (
            ("advice", "vocal", "eq", 0),
            "Cut at {vocal.mud_cut_hx} Hz",
            "field 'advice.vocal.eq[0]': unknown placeholder {vocal.mud_cut_hx}",
        ),
        (("advice", "vocal", "eq", 0), "Cut at {vocal.mud_cut_hx} Hz", "did you mean 'vocal.mud_cut_hz'?"),
        (
            ("rules", 0, "metric"),
            "peak_dbsf",
            "field 'rules[0].metric': unknown metric 'peak_dbsf'; did you mean 'peak_dbfs'?",
        ),
        (("rules", 0, "severty"), "info", "field 'rules[0].severty': unknown field (expected one of id,"),
        (("rules", 0, "severty"), "info", "did you mean 'severity'?"),
        (("loudness_targets", "defualt"), "streaming", "did you mean 'default'?"),
        (("texts", "no_problem"), "x", "did you mean 'no_problems'?"),
    ],
)
def test_unknown_names_and_keys_anywhere_are_refused_with_the_closest_known_name(tmp_path, where, value, expected):
    data = default_data()
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert expected in refusal(write(tmp_path, data))


def test_an_out_of_range_value_names_the_parameter_and_its_place(tmp_path: Path):
    data = default_data()
    data["parameters"][0]["value"] = 3
    assert refusal(write(tmp_path, data)) == (
        f"Invalid rules in {tmp_path / 'rules.json'}: parameter 'general.headroom_peak_dbfs' "
        "(parameters[0].value): expected a number between -24 and 0, got 3"
    )


# -- nesting -----------------------------------------------------------------------------------------------


def test_a_file_nested_100000_deep_gives_a_rules_error(tmp_path: Path):
    path = tmp_path / "deep.json"
    nested = "[" * 100_000 + "]" * 100_000
    path.write_text('{"format": "codette-lab-rules", "version": 1, "parameters": ' + nested + "}")
    assert refusal(path) == (
        f"Rules file {path} is not usable JSON: arrays and objects nested too deeply for the decoder "
        "(a rule file needs a few levels)"
    )


def test_deeply_nested_data_given_directly_gives_a_rules_error():
    data = default_data()
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    data["texts"]["no_problems"] = deep
    with pytest.raises(RulesError, match=r"field 'texts\.no_problems': expected a string, got array"):
        RuleSet.from_dict(data)


# -- what is not a regular file, or too large -------------------------------------------------------------


def load_in_thread(path: Path) -> str:
    """Load ``path`` on a thread and return the error text; fail (not hang) if it takes more than 10 s."""
    outcome: list[str] = []

    def load() -> None:
        try:
            RuleSet.load(path)
            outcome.append("loaded")
        except RulesError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)  # a deadline against a hang (nothing ever writes to a FIFO it is given), not a speed target
    assert not thread.is_alive(), f"loading {path} blocked"
    return outcome[0]


def test_a_fifo_is_refused_at_once(tmp_path: Path):
    fifo = tmp_path / "rules.fifo"
    os.mkfifo(fifo)
    assert load_in_thread(fifo) == f"Cannot read rules file {fifo}: expected a regular file, got a FIFO (named pipe)"


def test_a_directory_and_a_device_are_refused(tmp_path: Path):
    assert load_in_thread(tmp_path) == f"Cannot read rules file {tmp_path}: expected a regular file, got a directory"
    zero = Path("/dev/zero")
    assert load_in_thread(zero) == f"Cannot read rules file {zero}: expected a regular file, got a character device"
    link = tmp_path / "rules.json"
    link.symlink_to(zero)
    assert load_in_thread(link).endswith("expected a regular file, got a character device")


def test_a_file_over_the_size_cap_is_refused_naming_the_cap(tmp_path: Path):
    path = tmp_path / "huge.json"
    with path.open("wb") as stream:
        stream.truncate(MAX_RULES_FILE_BYTES + 1)
    assert refusal(path) == (
        f"Cannot read rules file {path}: expected at most {MAX_RULES_FILE_BYTES} bytes, got {MAX_RULES_FILE_BYTES + 1}"
        " or more"
    )


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"format": "r\xe8gles"}'.encode("latin-1"))
    assert refusal(path).startswith(f"Cannot read rules file {path}: not UTF-8 text (invalid continuation byte")


def test_a_file_that_cannot_be_opened_is_refused_with_the_systems_reason(tmp_path: Path):
    # A link that leads to itself cannot be opened by anyone, root included (file modes do not stop root,
    # and CI runs as root): the refusal carries the system's reason, as for a file without read permission.
    path = tmp_path / "rules.json"
    path.symlink_to(path.name)
    assert refusal(path) == f"Cannot read rules file {path}: Too many levels of symbolic links"
    inside_a_file = write(tmp_path, default_data(), "real.json") / "rules.json"
    assert refusal(inside_a_file) == f"Cannot read rules file {inside_a_file}: Not a directory"


# -- diff -------------------------------------------------------------------------------------------------


def test_a_file_written_before_the_crest_words_existed_still_loads_and_judges(tmp_path: Path):
    """Rules exported before the very-dynamic check said which crest factor it judged: the two texts it reads
    are optional, and a file without them says nothing there rather than failing to load."""
    data = default_data()
    for name in ("crest_while_sounding", "crest_whole"):
        del data["texts"][name]
    rules = RuleSet.load(write(tmp_path, data)).snapshot()
    metrics = {"peak_dbfs": -3.0, "rms_dbfs": -28.0, "crest_factor_db": 25.0, "pause_fraction": 0.2}
    [found] = [
        f for f in rules.evaluate(metrics, track_type="vocal", analysis_type="dynamics") if f.rule_id == "very_dynamic"
    ]
    assert found.value == pytest.approx(25.0 + 10 * np.log10(0.8))
    assert "crest factor of 24.0 dB, above 22 dB" in found.problem


def test_diff_lists_what_changed_from_the_defaults():
    rules = RuleSet.default()
    assert rules.diff() == [] and isinstance(rules.diff(), RulesDiff)
    assert str(rules.diff()) == "No parameter differs from the built-in default_rules.json."
    rules["vocal.highpass_hz"] = 100
    rules["general.headroom_peak_dbfs"] = -8
    diff = rules.diff()
    headroom = rules.parameter("general.headroom_peak_dbfs")
    assert diff == [
        ParameterChange("general.headroom_peak_dbfs", -6.0, -8.0, "dBFS", headroom.description),
        ParameterChange("vocal.highpass_hz", 80.0, 100.0, "Hz", rules.parameter("vocal.highpass_hz").description),
    ]
    lines = str(diff).splitlines()
    assert lines[0] == "2 parameters differ from the built-in default_rules.json:"
    assert lines[1].split() == ["parameter", "before", "after", "unit", "description"]
    assert lines[2].split()[:4] == ["general.headroom_peak_dbfs", "-6", "-8", "dBFS"]
    html = diff._repr_html_()
    assert "<td>vocal.highpass_hz</td><td>80</td><td>100</td><td>Hz</td>" in html
    rules.reset()
    assert rules.diff() == []


def test_diff_against_another_rule_set_or_a_file(tmp_path: Path):
    tuned = RuleSet.default()
    tuned["keys.mud_cut_hz"] = 300
    path = tuned.export(tmp_path / "tuned.json")
    mine = RuleSet.default()
    mine["keys.mud_cut_hz"] = 250
    against_file = mine.diff(path)
    assert [(row.name, row.before, row.after) for row in against_file] == [("keys.mud_cut_hz", 300.0, 250.0)]
    assert against_file.before == str(path)
    assert mine.diff(str(path)) == against_file == mine.diff(RuleSet.load(path))
    assert RuleSet.load(path).diff(tuned) == []


def test_diff_shows_a_parameter_only_one_side_has(tmp_path: Path):
    data = default_data()
    data["parameters"].append(extra_parameter("general.balance_max", 0.5))
    data["rules"].append(
        {
            "id": "left_heavy",
            "analysis_types": ["stereo"],
            "track_types": ["*"],
            "metric": "stereo_balance",
            "op": ">",
            "threshold": "general.balance_max",
            "severity": "info",
            "penalty": 0.1,
            "problem": "{track} leans",
            "suggestion": "Pan {track} back",
        }
    )
    extended = RuleSet.load(write(tmp_path, data))
    assert extended.diff() == [ParameterChange("general.balance_max", None, 0.5, "dB", "A parameter the user added")]
    assert RuleSet.default().diff(extended)[0].after is None
    assert "general.balance_max  -       0.5" in str(extended.diff())
    assert extended.diff().elsewhere == ("rules: left_heavy",)


def test_diff_names_what_differs_outside_the_parameters(tmp_path: Path):
    data = default_data()
    data["rules"][0]["severity"] = "critical" if data["rules"][0]["severity"] != "critical" else "info"
    data["texts"]["no_problems"] = "Nothing to report ({rule_count} checks)."
    edited = RuleSet.load(write(tmp_path, data))
    diff = edited.diff()
    assert diff == [] and diff.elsewhere == (f"rules: {data['rules'][0]['id']}", "texts")
    assert str(diff) == (
        "No parameter differs from the built-in default_rules.json; outside the parameters these differ too: "
        f"rules: {data['rules'][0]['id']}; texts."
    )
    assert RuleSet.default().diff().elsewhere == ()


def test_diff_against_a_broken_file_names_the_file(tmp_path: Path):
    with pytest.raises(RulesError, match="no such file"):
        RuleSet.default().diff(tmp_path / "missing.json")
