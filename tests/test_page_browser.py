"""The join page in a real Chromium against a real server on 127.0.0.1: join, tracks and meters, every
analysis type, chat with a notebook perspective, Listen A/B, and reconnecting after a restart.

Each test opens its own browser context on the join URL and waits for states the page shows (Playwright's
waits), never for fixed times.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from page_browser import CuttableLink, chromium
from playwright.sync_api import Browser, Page, WebSocket

from codette_lab import Lab
from codette_lab.engine import Engine
from codette_lab.resources import demo_folder
from codette_lab.server import BackgroundServer, ServerEvent
from codette_lab.tracktypes import canonical_track_type

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

STEMS = sorted((demo_folder() / "stems").glob("*.flac"))
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> turn the bass down'
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    lab = Lab(port=0, warm_up=False)

    @lab.perspective("hostile", description="answers with markup, which must stay text")
    def hostile(context):
        return {"response": HOSTILE, "confidence": 0.42}

    @lab.analysis_type("brightness", description="a notebook analysis type")
    def brightness(request):
        return {"insights": f"{request.track.track_name} measured in a notebook.", "quality_score": 0.5}

    lab.start()
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def open_join_page(browser: Browser, base: str, query: str = "token=class-token&name=Ada") -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{base}/?{query}")
    return page


@pytest.fixture
def page(browser: Browser, lab: Lab) -> Iterator[Page]:
    page = open_join_page(browser, f"http://127.0.0.1:{lab.port}")
    page.wait_for_selector("#connection[data-state=connected]")
    yield page
    page.context.close()


def add_stems(page: Page) -> None:
    page.set_input_files("#track-files", [str(path) for path in STEMS])
    page.wait_for_function(f"() => document.querySelectorAll('#track-list li').length === {len(STEMS)}")


def track_row(page: Page, name: str) -> str:
    """The selector of the track row whose name field says ``name``."""
    index = page.eval_on_selector_all(".track-name", "fields => fields.map(f => f.value)").index(name)
    return f"#track-list li:nth-child({index + 1})"


def options(page: Page, select: str) -> list[str]:
    return page.eval_on_selector_all(f"{select} option", "found => found.map(o => o.value)")


def analyze(page: Page, track: str, analysis_type: str, other: str | None = None) -> None:
    page.select_option("#analyze-track", label=track)
    page.select_option("#analyze-type", analysis_type)
    if other is not None:
        page.select_option("#analyze-other", label=other)
    page.click("#analyze-run")
    page.wait_for_selector("#analyze-result[data-state=done], #analyze-result[data-state=failed]", state="attached")
    assert page.get_attribute("#analyze-result", "data-type") == analysis_type, page.text_content("#analyze-note")


def test_the_join_url_connects_as_the_student_and_the_token_leaves_the_address_bar(page: Page, lab: Lab) -> None:
    assert page.text_content("#connection") == "Connected as Ada"
    assert "token" not in page.url and "name=Ada" in page.url
    page.wait_for_function("() => document.querySelectorAll('#analyze-type option').length > 0")
    assert {"spectrum", "dynamics", "loudness", "stereo", "transients", "masking", "quality", "brightness"} <= set(
        options(page, "#analyze-type")
    )
    assert "hostile" in options(page, "#chat-perspective")


def test_a_perspective_defined_while_the_page_is_open_appears_in_its_picker(page: Page, lab: Lab) -> None:
    page.wait_for_selector("#chat-perspective option[value=hostile]", state="attached")
    lab.perspective("late_comer", lambda context: "Defined after the page opened.", description="new in a cell")
    try:
        page.focus("#chat-perspective")  # the page asks the server for its lists again
        page.wait_for_selector("#chat-perspective option[value=late_comer]", state="attached")
        page.select_option("#chat-perspective", "late_comer")
        page.fill("#chat-input", "Anything new?")
        page.click("#chat-send")
        page.wait_for_selector("#chat-log .answer")
        assert page.text_content("#chat-log .answer") == "Defined after the page opened."
    finally:
        lab.remove_perspective("late_comer")


def test_a_join_url_without_a_name_asks_for_one_first(browser: Browser, lab: Lab) -> None:
    page = open_join_page(browser, f"http://127.0.0.1:{lab.port}", "token=class-token")
    try:
        page.wait_for_selector("#connection[data-state=name]")
        page.fill("#student-name", "Grace")
        page.press("#student-name", "Enter")
        page.wait_for_selector("#connection[data-state=connected]")
        assert page.text_content("#connection") == "Connected as Grace"
        assert page.url.endswith("/?name=Grace")
    finally:
        page.context.close()


def test_demo_stems_get_their_types_and_meters_move_while_they_play(page: Page) -> None:
    add_stems(page)
    types = page.eval_on_selector_all(".track-type", "found => found.map(s => s.value)")
    assert types == ["bass", "drums", "keys", "vocal"]
    row = track_row(page, "drums")
    page.click(f"{row} button.play")
    page.wait_for_function(f"() => Number(document.querySelector('{row}').dataset.peak) > -30")
    first = page.text_content(f"{row} .meter-text")
    page.wait_for_function(f"text => document.querySelector('{row} .meter-text').textContent !== text", arg=first)
    page.wait_for_function(f"() => /M -[0-9.]+ LUFS/.test(document.querySelector('{row} .meter-text').textContent)")
    page.click(f"{row} button.mute")
    assert page.get_attribute(f"{row} button.mute", "aria-pressed") == "true"
    page.click(f"{row} button.play")
    page.wait_for_function(f"() => document.querySelector('{row} .meter-text').textContent === 'stopped'")


def test_every_analysis_type_the_server_lists_answers_masking_included(browser: Browser, lab: Lab) -> None:
    page = open_join_page(browser, f"http://127.0.0.1:{lab.port}")
    sent: list[bytes | str] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framesent", lambda frame: sent.append(frame))  # noqa: PLW0108 (Playwright wraps the listener)

    page.on("websocket", watch)
    page.wait_for_selector("#connection[data-state=connected]")
    add_stems(page)
    page.wait_for_function("() => document.querySelectorAll('#analyze-type option').length >= 8")
    for analysis_type in options(page, "#analyze-type"):
        other = "bass" if analysis_type == "masking" else None
        analyze(page, "keys", analysis_type, other)
        insights = page.text_content("#analyze-result .insights")
        assert insights
        if analysis_type == "masking":
            assert "bass" in insights.lower()  # measured against the other track
    frames = [frame for frame in sent if isinstance(frame, bytes)]
    assert frames and all(frame.startswith(b"CDA1") for frame in frames)  # the files' own bytes, in binary frames
    page.context.close()


def test_findings_are_marked_and_listen_switches_to_the_suggested_high_pass(page: Page) -> None:
    add_stems(page)
    analyze(page, "vocal", "spectrum")
    marks = page.text_content("#spectrum-marks")
    assert "high-pass: 80 Hz" in marks and "cut: 479 Hz" in marks  # the rumble, and the low mids' build-up
    versions = page.eval_on_selector_all("#listen-version option", "found => found.map(o => o.textContent)")
    assert "with the high-pass at 80 Hz" in versions
    page.click("#listen-play")
    row = track_row(page, "vocal")
    page.wait_for_function(f"() => Number(document.querySelector('{row}').dataset.peak) > -40")
    page.select_option("#listen-version", label="with the high-pass at 80 Hz")
    assert page.get_attribute("#listen", "data-version") == "with the high-pass at 80 Hz"
    page.select_option("#listen-version", label="as it is")
    assert page.get_attribute("#listen", "data-version") == "as it is"


def test_listen_with_the_high_pass_takes_the_rumble_out_of_what_plays(page: Page, tmp_path: Path) -> None:
    """A "vocal" that is mostly 40 Hz rumble: the server suggests a high-pass, and playing that version
    through the page's filter drops the level the page meters by far more than the voice band could."""
    rate = 44100
    t = np.arange(rate * 6) / rate
    y = 0.5 * np.sin(2 * np.pi * 40 * t) + 0.05 * np.sin(2 * np.pi * 1000 * t)
    path = tmp_path / "rumbly vocal.wav"
    soundfile.write(path, y.astype(np.float32), rate, subtype="PCM_16")
    page.set_input_files("#track-files", str(path))
    page.wait_for_selector("#track-list li")
    analyze(page, "rumbly vocal", "spectrum")
    high_pass = next(
        label
        for label in page.eval_on_selector_all("#listen-version option", "found => found.map(o => o.textContent)")
        if label.startswith("with the high-pass")
    )
    row = track_row(page, "rumbly vocal")
    page.click("#listen-play")
    page.wait_for_function(f"() => Number(document.querySelector('{row}').dataset.rms) > -12")
    page.select_option("#listen-version", label=high_pass)
    assert page.get_attribute("#listen", "data-version") == high_pass
    page.wait_for_function(f"() => Number(document.querySelector('{row}').dataset.rms) < -20")  # the 1 kHz tone: -26
    page.select_option("#listen-version", label="as it is")
    page.wait_for_function(f"() => Number(document.querySelector('{row}').dataset.rms) > -12")


def test_a_notebook_perspective_answers_and_its_markup_stays_text(page: Page) -> None:
    add_stems(page)
    page.select_option("#chat-perspective", "hostile")
    page.fill("#chat-input", "Is my bass too loud?")
    page.press("#chat-input", "Enter")
    page.wait_for_selector("#chat-log .answer")
    assert page.text_content("#chat-log .answer") == HOSTILE
    assert page.text_content("#chat-log .meta") == "hostile · confidence 42 %"
    assert page.evaluate("document.querySelectorAll('#chat-log script, #chat-log img').length") == 0
    assert page.evaluate("window.pwned") is None


def test_a_file_name_with_markup_stays_text(page: Page, tmp_path: Path) -> None:
    hostile = '<img src=x onerror="window.pwned = 3">bass'
    path = tmp_path / f"{hostile}.flac"
    path.write_bytes((demo_folder() / "stems" / "bass.flac").read_bytes())
    page.set_input_files("#track-files", str(path))
    page.wait_for_selector("#track-list li")
    assert page.input_value(".track-name") == hostile
    assert page.text_content(".track-file") == f"{hostile}.flac"
    assert page.input_value(".track-type") == canonical_track_type(None, track_name=hostile)
    analyze(page, hostile, "spectrum")
    assert page.evaluate("() => document.querySelectorAll('main img').length") == 0
    assert page.evaluate("() => window.pwned") is None


def test_a_chat_carries_the_pages_tracks_and_levels(page: Page) -> None:
    add_stems(page)
    page.select_option("#analyze-track", label="vocal")
    page.select_option("#chat-perspective", "mix_engineering")
    page.fill("#chat-input", "How do I EQ the vocal?")
    page.click("#chat-send")
    page.wait_for_selector("#chat-log .answer")
    answer = page.text_content("#chat-log .answer")
    assert "vocal" in answer and "4 tracks" in answer


def test_the_page_reconnects_by_itself_after_the_server_restarts(browser: Browser) -> None:
    names: list[str | None] = []

    def note(event: ServerEvent) -> None:
        if event.kind == "connect":
            names.append(event.summary)

    engine = Engine()
    first = BackgroundServer(engine, host="127.0.0.1", port=0)
    first.add_listener(note)
    first.start()
    port = first.port
    page = open_join_page(browser, f"http://127.0.0.1:{port}")
    try:
        page.wait_for_selector("#connection[data-state=connected]")
        first.stop(timeout=30)  # Chromium's spare connection, opened and never used, holds a stop up to 10 s
        page.wait_for_selector("#connection[data-state=waiting]")
        second = BackgroundServer(engine, host="127.0.0.1", port=port)
        second.add_listener(note)
        second.start()
        try:
            page.wait_for_selector("#connection[data-state=connected]")
            page.fill("#chat-input", "How do I EQ vocals?")
            page.click("#chat-send")
            page.wait_for_selector("#chat-log .answer")
        finally:
            second.stop(timeout=30)
    finally:
        page.context.close()
    assert names[-1] == "Ada"


def test_a_lost_network_is_noticed_on_waking_and_the_page_reconnects(browser: Browser, lab: Lab) -> None:
    """The network goes silent (no close, no reset: what a sleeping laptop or a dropped Wi-Fi leaves behind);
    the page notices when it wakes (its keepalive ping gets no pong within 5 s) and reconnects once the network
    is back."""
    link = CuttableLink(lab.port)
    page = open_join_page(browser, f"http://127.0.0.1:{link.port}")
    try:
        page.wait_for_selector("#connection[data-state=connected]")
        link.cut()
        page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")  # the laptop wakes
        page.wait_for_selector("#connection[data-state=waiting], #connection[data-state=connecting]")
        assert page.get_attribute("#connection", "data-state") != "connected"
        link.mend()
        page.wait_for_selector("#connection[data-state=connected]")
        page.fill("#chat-input", "How do I EQ vocals?")
        page.click("#chat-send")
        page.wait_for_selector("#chat-log .answer")
    finally:
        page.context.close()
        link.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., BackgroundServer]]:
    """``serve(**options)`` starts a server on 127.0.0.1 (free port) with those options; stopped after the test."""
    started: list[BackgroundServer] = []

    def start(**options: object) -> BackgroundServer:
        server = BackgroundServer(Engine(), host="127.0.0.1", port=0, **options)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop(timeout=30)  # Chromium's spare connection, opened and never used, holds a stop up to 10 s


def test_a_wrong_or_missing_token_gets_a_sentence_in_the_page(browser: Browser, serve) -> None:
    served = serve(require_token=True, token="the-right-token")
    base = f"http://127.0.0.1:{served.port}"
    for query, sentence in [
        ("token=not-the-token&name=Ada", "The class token in this link is wrong"),
        ("name=Ada", "This server needs the class token"),
    ]:
        page = open_join_page(browser, base, query)
        try:
            page.wait_for_selector("#connection[data-state=refused]")
            assert page.text_content("#connection").startswith(sentence)
        finally:
            page.context.close()
    page = open_join_page(browser, base, "token=the-right-token&name=Ada")
    try:
        page.wait_for_selector("#connection[data-state=connected]")
    finally:
        page.context.close()


def test_a_busy_server_is_asked_again_by_the_page_until_it_answers(browser: Browser, serve, ws_client) -> None:
    """One analysis at a time: while another client's holds the only place, the page's gets ``Server busy:``,
    waits and sends it again by itself, and is answered once the place is free."""
    release = threading.Event()
    engine_server = serve(max_queued_analyses=1, request_timeout=60)
    engine_server.engine.analysis_types.register("hold", lambda request: release.wait(60) and {"insights": "held"})
    holder = ws_client(engine_server.url)
    holder.send({"type": "analyze", "track_data": {"track_name": "other"}, "analysis_type": "hold"})
    page = open_join_page(browser, f"http://127.0.0.1:{engine_server.port}")
    try:
        page.wait_for_selector("#connection[data-state=connected]")
        add_stems(page)
        page.select_option("#analyze-track", label="bass")
        page.select_option("#analyze-type", "loudness")
        page.click("#analyze-run")
        page.wait_for_selector(
            "#analyze-result[data-retries]", state="attached"
        )  # a busy reply came, and is being retried
        assert page.get_attribute("#analyze-result", "data-state") == "busy"
        assert "Server busy:" in page.text_content("#analyze-note")
        release.set()
        assert holder.recv()["type"] == "analysis_response"
        page.wait_for_selector("#analyze-result[data-state=done]", state="attached")
        assert page.get_attribute("#analyze-result", "data-type") == "loudness"
    finally:
        release.set()
        page.context.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throw-away self-signed certificate for 127.0.0.1 and localhost."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_over_https_the_page_connects_by_wss_and_sends_audio(browser: Browser, serve, certificate) -> None:
    server = serve(tls=certificate)
    page = open_join_page(browser, f"https://127.0.0.1:{server.port}")
    try:
        page.wait_for_selector("#connection[data-state=connected]")
        assert page.evaluate("window.isSecureContext") is True
        assert page.is_enabled("#live-start")  # capture is allowed in a secure context
        add_stems(page)
        analyze(page, "bass", "loudness")
        assert "measured from audio" in page.text_content("#analyze-result .score")
    finally:
        page.context.close()
