"""The Ardour bridge's parts without Ardour: reading Ardour 7's OSC messages, reading a track's files,
and sending audio to a real server as a binary frame or as samples.

The messages are those a headless Ardour 7.3 sends (seen on the wire: ``/reply`` lines of ``/strip/list``,
strip feedback as ``[ssid, value]``); the server is a real one on 127.0.0.1.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codette_lab.bridges.ardour.audio import excerpt, peak_db, rms_db
from codette_lab.bridges.ardour.link import CodetteLink
from codette_lab.bridges.ardour.session import ArdourSession, TrackFiles
from codette_lab.bridges.ardour.surface import encode
from codette_lab.server import BackgroundServer

LISTING = [
    ("/session_name", ["Low Tide"]),
    ("/reply", ["AT", "Drums", 2, 2, 0, 0, 1, 1]),
    ("/reply", ["AT", "Lead Vox", 1, 2, 1, 0, 2, 1]),
    ("/reply", ["B", "FX Bus", 2, 2, 0, 0, 3, 0]),
    ("/reply", ["end_route_list", 44100, 882000, 0]),
]


def _session() -> ArdourSession:
    session = ArdourSession()
    for address, args in LISTING:
        session.apply(address, args)
    return session


def test_the_strip_list_gives_the_audio_tracks_with_types_from_their_names():
    session = _session()
    assert session.listed and session.sample_rate == 44100 and session.name == "Low Tide"
    assert [(t.ssid, t.name, t.track_type, t.inputs, t.muted) for t in session.tracks()] == [
        (1, "Drums", "drums", 2, False),
        (2, "Lead Vox", "vocal", 1, True),
    ]


def test_strip_feedback_updates_gain_solo_selection_and_meter():
    session = _session()
    for address, args in [
        ("/strip/gain", [2, -4.5]),
        ("/strip/solo", [1, 1.0]),
        ("/strip/select", [2, 1.0]),
        ("/strip/meter", [1, -9.25]),
        ("/strip/meter", [9, -3.0]),  # a strip Ardour did not list: ignored
        ("/transport_play", [1.0]),
    ]:
        session.apply(address, args)
    drums, vox = session.tracks()
    assert (drums.soloed, drums.meter_db, drums.sounding) == (True, -9.25, True)
    assert (vox.gain_db, vox.selected, vox.sounding) == (-4.5, True, False)
    context = session.daw_context()
    assert context["project_name"] == "Low Tide" and context["playing"] is True
    assert context["selected_track"]["track_name"] == "Lead Vox"
    assert context["tracks"][0]["peak_level"] == -9.25


def test_another_session_forgets_the_old_strips_and_odd_messages_are_ignored():
    session = _session()
    assert session.apply("/position/samples", [" "]) is None  # Ardour sends this while relocating
    assert session.apply("/strip/gain", [1, "loud"]) is None
    assert session.apply("/session_name", ["Second Take"]) == "session"
    assert session.tracks() == [] and not session.listed


def test_a_tracks_excerpt_reads_its_region_from_the_files(tmp_path):
    rate = 8000
    left = np.linspace(-0.5, 0.5, 4 * rate, dtype=np.float32)
    right = -left
    paths = []
    for name, channel in (("L", left), ("R", right)):
        sf.write(tmp_path / f"{name}.wav", channel, rate, subtype="FLOAT")
        paths.append(str(tmp_path / f"{name}.wav"))
    # the region starts 1 s into the files and sits at 10 s on the timeline, 2 s long
    files = TrackFiles(position=10 * rate, start=rate, length=2 * rate, sample_rate=rate, paths=tuple(paths))
    audio = excerpt(files, end=11 * rate, seconds=0.5)
    assert audio.shape == (rate // 2, 2)
    np.testing.assert_array_equal(audio[:, 0], left[rate + rate // 2 : 2 * rate])
    np.testing.assert_array_equal(audio[:, 1], right[rate + rate // 2 : 2 * rate])
    assert excerpt(files, end=5 * rate, seconds=1).size == 0  # before the region: silence
    assert peak_db(audio, -6.0) == pytest.approx(20 * np.log10(np.abs(audio).max()) - 6.0)
    assert rms_db(np.full((100, 1), 0.5, dtype=np.float32)) == pytest.approx(-6.0206, abs=1e-3)


@pytest.mark.parametrize("audio_as", ["frame", "samples"])
def test_audio_reaches_a_real_server_as_a_frame_or_as_samples(engine, audio_as):
    rate = 44100
    tone = (0.25 * np.sin(2 * np.pi * 440 * np.arange(2 * rate) / rate)).astype(np.float32)[:, None]
    with BackgroundServer(engine, host="127.0.0.1", port=0) as server:
        link = CodetteLink(server.url, "Ardour: test", audio_as=audio_as)
        assert link.ensure()
        request = {"type": "analyze", "track_data": {"track_name": "Keys"}, "analysis_type": "loudness"}
        reply = link.analyze_audio(request, tone, rate)
        link.close()
    assert reply is not None and reply["type"] == "analysis_response", reply
    assert reply["analysis"]["measured_from"] == "audio"
    assert reply["analysis"]["metrics"]["peak_dbfs"] == pytest.approx(20 * np.log10(0.25), abs=0.05)
    assert not link.frames_refused


def test_osc_messages_are_encoded_as_ardour_reads_them():
    assert encode("/strip/gain", 2, -3.0) == b"/strip/gain\x00,if\x00\x00\x00\x00\x02\xc0@\x00\x00"


def test_a_track_file_that_is_gone_is_named(tmp_path):
    from codette_lab.errors import BridgeError

    files = TrackFiles(0, 0, 8000, 8000, (str(tmp_path / "gone.wav"),))
    with pytest.raises(BridgeError, match=r"track audio: cannot read .*gone\.wav"):
        excerpt(files, end=4000, seconds=0.1)


@pytest.mark.parametrize(("peak", "rms", "sent"), [(-12.0, -20.0, True), (-12.0, -9.5, True), (-30.0, -12.0, False)])
def test_the_files_rms_goes_with_the_meters_peak_only_where_one_meter_could_show_both(engine, peak, rms, sent):
    """The RMS comes off the files (before plug-ins), the peak off Ardour's meter (after them): a plug-in that
    lowers the level puts the RMS over the peak, which the server refuses; the bridge then sends the peak alone,
    and what it sends is answered by a real server."""
    from codette_lab.bridges.ardour.bridge import rms_with_peak

    assert rms_with_peak(rms, peak) is sent and not rms_with_peak(None, peak)
    audio_data = {"peak_level": peak, **({"rms_level": rms} if rms_with_peak(rms, peak) else {})}
    with BackgroundServer(engine, host="127.0.0.1", port=0) as server:
        link = CodetteLink(server.url, "Ardour: test")
        assert link.ensure()
        request = {"type": "analyze", "track_data": {"track_name": "Keys"}, "audio_data": audio_data}
        reply = link.request({**request, "analysis_type": "dynamics"})
        refused = link.request({**request, "audio_data": {"peak_level": peak, "rms_level": rms}})
        link.close()
    assert reply is not None and reply["type"] == "analysis_response", reply
    assert refused is not None and refused["type"] == ("analysis_response" if sent else "error"), refused
