"""The join page's live input through Chromium's fake capture, fed with a known excerpt of a demo stem.

The fake device plays the file in a loop as the page's audio input; the page meters it (BS.1770 loudness
in the page), sends levels-only analyses at a steady rate, and "analyze what just played" sends the audio
it kept as WAV in a binary frame. Both are checked against what the server measures of the same excerpt.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile
from page_browser import chromium, fake_capture_flags

from codette_lab import analyze
from codette_lab.engine import Engine
from codette_lab.resources import demo_folder
from codette_lab.server import BackgroundServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SECONDS = 8
#: The excerpt is made quiet on purpose, so the loudness analysis has something to find.
GAIN_DB = -8.0


@pytest.fixture(scope="module")
def excerpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first seconds of the demo keys (stereo), 8 dB down, as 16-bit WAV."""
    y, sr = soundfile.read(demo_folder() / "stems" / "keys.flac", dtype="float32", always_2d=True)
    path = tmp_path_factory.mktemp("capture") / "keys_excerpt.wav"
    soundfile.write(path, y[: sr * SECONDS] * 10 ** (GAIN_DB / 20), sr, subtype="PCM_16")
    return path


#: The ``daw_context`` of every chat the server answered, as it arrived.
CHAT_CONTEXTS: list[dict] = []


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    engine = Engine()
    engine.add_request_hook(
        lambda job, session: CHAT_CONTEXTS.append(dict(job.request.daw_context)) if job.message_type == "chat" else None
    )
    served = BackgroundServer(engine, host="127.0.0.1", port=0).start()
    yield served
    served.stop(timeout=30)


def test_live_input_is_metered_and_analyzed_as_the_server_measures_the_file(
    excerpt: Path, server: BackgroundServer
) -> None:
    y, sr = soundfile.read(excerpt, dtype="float32", always_2d=True)
    expected = analyze(y.T, sr, kind="loudness", track_type="master", track_name="Live input")
    expected_rules = sorted(problem["rule"] for problem in expected.to_wire()["problems_detected"])
    assert expected_rules, "the excerpt should give the loudness analysis something to find"

    with chromium(*fake_capture_flags(excerpt)) as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"http://127.0.0.1:{server.port}/?name=Live")
        page.wait_for_selector("#connection[data-state=connected]")
        page.fill("#live-keep", str(SECONDS))
        page.fill("#live-levels-every", "1")
        page.click("#live-start")
        # One whole loop of the file kept, and levels-only analyses answered along the way.
        page.wait_for_function(
            "seconds => document.querySelector('#live-levels').textContent.endsWith(`${seconds} s kept`)"
            " && Number(document.querySelector('#live-levels').dataset.levelsAnswers) >= 3",
            arg=SECONDS,
        )
        integrated = float(page.get_attribute("#live-levels", "data-integrated") or "nan")
        assert abs(integrated - expected.metrics["integrated_lufs"]) < 0.5
        assert page.text_content("#live-levels-answer")

        page.fill("#chat-input", "How loud is my mix?")
        page.click("#chat-send")
        page.wait_for_selector("#chat-log .answer")
        live_track = CHAT_CONTEXTS[-1]["tracks"][-1]
        assert live_track["track_name"] == "Live input" and live_track["rms_level"] < -10

        page.select_option("#live-type", "loudness")
        page.click("#live-analyze")
        page.wait_for_selector("#live-result[data-type=loudness]")
        found = page.eval_on_selector_all("#live-result .problems li", "items => items.map(i => i.textContent)")
        rows = page.eval_on_selector_all(
            "#live-result table.metrics tr", "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])"
        )
        metrics = dict(rows)
        assert abs(float(metrics["integrated_lufs"]) - expected.metrics["integrated_lufs"]) < 0.5
        assert len(found) == len(expected_rules)
        texts = [problem["text"] for problem in expected.to_wire()["problems_detected"]]
        for text, mine in zip(sorted(texts), sorted(found), strict=True):
            assert text.split(":")[0] == mine.split(":")[0]  # the same finding, its numbers measured live
