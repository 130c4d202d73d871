"""Replaying a real recording with other rules: what moved per request, and the exit codes CI relies on."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from codette_lab.cli import main
from codette_lab.daw import SimulatedDAW, simulate_class
from codette_lab.engine import Engine
from codette_lab.errors import RecordingError
from codette_lab.recording import Recorder, read_recording, replay
from codette_lab.rules import RuleSet
from codette_lab.server import BackgroundServer

#: Peaks at -0.5 dBFS: the built-in rules find a clipping risk (above -1 dBFS).
HOT_VOCAL = {
    "type": "analyze",
    "analysis_type": "dynamics",
    "track_data": {"track_id": "hot", "track_name": "Hot Vox", "track_type": "vocal"},
    "audio_data": {"peak_level": -0.5, "rms_level": -8.0, "duration": 3.0, "sample_rate": 44100},
}


def samples_request(seconds: float = 0.5) -> dict:
    t = np.arange(round(44100 * seconds)) / 44100
    audio = (0.3 * np.sin(2 * np.pi * 110 * t)).astype("<f4")
    return {
        "type": "analyze",
        "analysis_type": "loudness",
        "track_data": {"track_id": "sine", "track_name": "Sine", "track_type": "bass"},
        "audio_data": {"samples": base64.b64encode(audio.tobytes()).decode("ascii"), "sample_rate": 44100},
    }


def record_session(folder: Path, *, keep_samples: bool = False) -> Path:
    """A class of two simulated students (levels and file paths), a hot vocal, a ping, a status, a bad frame and
    audio sent as samples, recorded by a real server into ``folder``."""
    engine = Engine()
    recorder = Recorder(folder, rules=engine.rules, keep_samples=keep_samples)
    with BackgroundServer(engine, host="127.0.0.1", port=0, recorder=recorder) as server:
        for send in ("levels", "path"):
            results = simulate_class(server.url, students=2, questions=1, analyses=1, send=send, timeout=60)
            assert all(result.ok for result in results), [result.errors for result in results]
        with SimulatedDAW(server.url, timeout=60) as daw:
            for frame in (HOT_VOCAL, {"type": "ping"}, {"type": "status"}, "{oops", samples_request()):
                daw.send_raw(frame if isinstance(frame, str) else json.dumps(frame))
    recorder.close()
    return folder


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    return record_session(tmp_path_factory.mktemp("session"))


@pytest.fixture(scope="module")
def tuned_file(tmp_path_factory) -> Path:
    """Rules that let peaks up to 0 dBFS pass: the hot vocal no longer risks clipping."""
    rules = RuleSet.default()
    rules["general.clip_risk_peak_dbfs"] = 0.0
    return rules.export(tmp_path_factory.mktemp("rules") / "tuned.json")


def hot(report):
    [outcome] = [outcome for outcome in report.outcomes if outcome.label == "Hot Vox: dynamics"]
    return outcome


def test_the_same_rules_answer_every_recorded_request_identically(session, capsys):
    report = replay(session)
    assert len(report.outcomes) == 11  # 4 chats, 4 analyses, the hot vocal, the bad frame, the audio as samples
    assert report.counts() == {"same": 10, "changed": 0, "not replayed": 1}
    assert report.skipped == {"ping": 1, "status": 1}
    assert not report.differs
    [not_replayed] = [outcome for outcome in report.outcomes if outcome.status == "not replayed"]
    assert not_replayed.label == "Sine: loudness" and "recorded as a hash only" in not_replayed.reason

    assert main(["replay", str(session)]) == 0
    assert "10 same, 0 changed, 1 not replayed" in capsys.readouterr().out


def test_a_tuned_rule_shows_what_moved_and_the_command_fails(session, tuned_file, capsys):
    report = replay(session, tuned_file)
    outcome = hot(report)
    assert outcome.status == "changed"
    assert outcome.findings_removed == ("clipping_risk",)  # the warning one step down takes over
    assert outcome.findings_added == ("headroom",)
    assert any("Turn Hot Vox down" in text for text in outcome.suggestions_removed)
    assert outcome.score_after > outcome.score_before and outcome.score_change > 0
    assert report.differs and report.rules.startswith(RuleSet.load(tuned_file).snapshot().identity)

    assert main(["replay", str(session), "--rules", str(tuned_file)]) == 1
    table = capsys.readouterr().out
    assert "Hot Vox: dynamics" in table and "-clipping_risk" in table

    assert main(["replay", str(session), "--rules", str(tuned_file), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["differs"] is True and data["against"] == "the recorded replies"
    [row] = [row for row in data["requests"] if row["label"] == "Hot Vox: dynamics"]
    assert row["findings_removed"] == ["clipping_risk"] and row["score_change"] == outcome.score_change


def test_against_compares_two_rule_files_on_the_recorded_requests(session, tuned_file, capsys):
    report = replay(session, None, against=tuned_file)
    assert hot(report).findings_added == ("clipping_risk",) and hot(report).findings_removed == ("headroom",)
    assert report.against.startswith(RuleSet.load(tuned_file).snapshot().identity)
    assert main(["replay", str(session), "--rules", str(tuned_file), "--against", str(tuned_file)]) == 0
    assert main(["replay", str(session), "--against", str(tuned_file)]) == 1
    capsys.readouterr()


def test_audio_kept_in_full_is_replayed(tmp_path):
    report = replay(record_session(tmp_path, keep_samples=True))
    assert report.counts() == {"same": 11, "changed": 0, "not replayed": 0}
    assert [exchange.samples_omitted for exchange in read_recording(tmp_path)] == [False] * 13


def test_unreadable_recordings_and_rule_files_exit_2(session, tmp_path, capsys):
    assert main(["replay", str(tmp_path / "nothing.jsonl")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["replay", str(session), "--rules", str(broken)]) == 2
    assert "broken.json is not valid JSON" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RecordingError, match=r"No recording in .*empty: expected \.jsonl files"):
        replay(empty)


def test_a_lab_records_and_replays_its_own_class(tmp_path):
    from codette_lab import Lab

    lab = Lab(port=0, warm_up=False)
    try:
        lab.record(tmp_path / "class")
        lab.start()
        with lab.simulate_daw(timeout=60) as daw:
            daw.send_raw(json.dumps(HOT_VOCAL))
        lab.simulate_class(students=2, questions=1, analyses=1, timeout=60)
        assert lab.replay().status.eq("same").all()
        lab.rules["general.clip_risk_peak_dbfs"] = 0.0
        frame = lab.replay()
    finally:
        lab.stop()
    assert frame.attrs["differs"] is True
    changed = frame[frame.status == "changed"]
    assert list(changed.label) == ["Hot Vox: dynamics"]
    assert {"student_1", "student_2"} <= set(frame.name)  # the simulated DAWs name themselves in their URL
    assert changed.iloc[0].findings_removed == ("clipping_risk",)
