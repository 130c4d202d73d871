"""An Ardour 7 session holding the demo session's four stems, with Ardour's OSC surface switched on.

Ardour 7.3's Lua cannot import audio files, so the session is made in two steps:

1. ``ardour7-lua`` (headless, the "None (Dummy)" backend, ``HOME`` in a temporary folder so the user's
   Ardour settings are left alone) creates the session and one track per stem, with the stem's channels
   and the demo session's gains, and records a moment of silence on each: Ardour itself then writes the
   sources, regions and playlists of every track into the session file.
2. This script overwrites each recorded file with the stem's own audio (one mono float WAV per channel,
   as Ardour keeps them), patches the regions' and the session range's lengths to the stems' length, and
   activates the ``Open Sound Control (OSC)`` surface in the session file (a saved session lists every
   surface inactive, which would override the user's preferences).

From a shell: ``python scripts/make_ardour_session.py [DIR] [--name "Low Tide"]`` (default DIR:
``ardour/low_tide``), which prints the path of the ``.ardour`` file; from Python: :func:`make_session`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import soundfile as sf

from ...errors import BridgeError
from ...resources import demo_folder

#: Ardour 7's time unit ("superclock") per second: positions and lengths in the session file are counted in it.
SUPERCLOCK_PER_SECOND = 282_240_000

#: The command that runs Ardour's Lua session tool (Debian's ``ardour`` package installs it).
ARDOUR_LUA = os.environ.get("ARDOUR_LUA", "ardour7-lua")

OSC_SURFACE = "Open Sound Control (OSC)"

_CREATE = r"""
local backend = AudioEngine:set_backend("None (Dummy)", "", "")
backend:set_device_name("Silence")
local session = create_session(SESSION_DIR, SESSION_NAME, SAMPLE_RATE)
assert(session, "Ardour could not create the session")
for _, t in ipairs(TRACKS) do
  local list = session:new_audio_track(t.channels, 2, nil, 1, t.name,
                                       ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
  local track = list:front()
  track:gain_control():set_value(ARDOUR.DSP.dB_to_coefficient(t.gain_db), PBD.GroupControlDisposition.NoGroup)
  track:rec_enable_control():set_value(1, PBD.GroupControlDisposition.NoGroup)
end
session:maybe_enable_record(false)
session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(600000)
session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(300000)
session:disable_record(false, false)
for track in session:get_tracks():iter() do
  track:rec_enable_control():set_value(0, PBD.GroupControlDisposition.NoGroup)
end
session:save_state("", false, false, false)
close_session()
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string with only ASCII escapes is a valid Lua string literal


def _stem_tracks() -> list[dict]:
    """The demo session's tracks: name, stem file, channels, gain (dB)."""
    folder = demo_folder()
    session = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    return [
        {
            "name": track["track_name"],
            "file": folder / track["file"],
            "channels": sf.info(folder / track["file"]).channels,
            "gain_db": float(track.get("volume_db", 0.0)),
        }
        for track in session["tracks"]
    ]


def _create_with_ardour(directory: Path, name: str, tracks: list[dict], sample_rate: int) -> None:
    """Let headless Ardour create the session, its tracks, and a recorded take on each."""
    table = ", ".join(
        f"{{name={_lua_string(t['name'])}, channels={t['channels']}, gain_db={t['gain_db']!r}}}" for t in tracks
    )
    script = (
        f"SESSION_DIR = {_lua_string(str(directory))}\nSESSION_NAME = {_lua_string(name)}\n"
        f"SAMPLE_RATE = {sample_rate}\nTRACKS = {{{table}}}\n{_CREATE}"
    )
    with tempfile.TemporaryDirectory(prefix="codette-ardour-home-") as home:
        lua = Path(home) / "create.lua"
        lua.write_text(script, encoding="utf-8")
        try:
            run = subprocess.run(
                [ARDOUR_LUA, str(lua)],
                env={**os.environ, "HOME": home},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except FileNotFoundError:
            raise BridgeError(f"{ARDOUR_LUA} is not installed (Debian: apt-get install ardour)") from None
    if run.returncode != 0 or not (directory / f"{name}.ardour").exists():
        output = run.stdout + run.stderr
        raise BridgeError(f"{ARDOUR_LUA} failed to create the session (exit {run.returncode}):\n{output}")


def _length(samples: int, sample_rate: int) -> str:
    return f"a{samples * SUPERCLOCK_PER_SECOND // sample_rate}@a0"


def _patch(directory: Path, name: str, tracks: list[dict], sample_rate: int) -> Path:
    """Put the stems' audio into the recorded sources and make the session file say so."""
    path = directory / f"{name}.ardour"
    tree = ET.parse(path)
    root = tree.getroot()
    sources = {node.get("id"): node for node in root.iterfind("./Sources/Source")}
    routes = {node.get("name"): node for node in root.iterfind("./Routes/Route")}
    playlists = {node.get("id"): node for node in root.iterfind("./Playlists/Playlist")}
    audiofiles = next(directory.glob("interchange/*/audiofiles"))
    longest = 0
    for track in tracks:
        audio, rate = sf.read(track["file"], dtype="float32", always_2d=True)
        if rate != sample_rate:
            raise BridgeError(f"{track['file']} is at {rate} Hz, the session at {sample_rate} Hz")
        longest = max(longest, len(audio))
        playlist = playlists[routes[track["name"]].get("audio-playlist")]
        regions = playlist.findall("Region")
        if len(regions) != 1:
            raise BridgeError(f"track {track['name']!r}: expected one recorded region, found {len(regions)}")
        region = regions[0]
        for channel in range(track["channels"]):
            source = sources[region.get(f"source-{channel}")]
            sf.write(audiofiles / source.get("name", ""), audio[:, channel], sample_rate, subtype="FLOAT")
        whole = [node for node in root.iterfind("./Regions/Region") if node.get("source-0") == region.get("source-0")]
        for node in [region, *whole]:
            node.set("length", _length(len(audio), sample_rate))
            node.set("start", "a0")
    for route in routes.values():  # recording left the tracks metering their (silent) input
        saved = route.get("saved-meter-point")
        if saved:
            route.set("meter-point", saved)
    for location in root.iterfind("./Locations/Location"):
        if "IsSessionRange" in location.get("flags", ""):
            location.set("end", f"a{longest * SUPERCLOCK_PER_SECOND // sample_rate}")
    surfaces = [node for node in root.iter("Protocol") if node.get("name") == OSC_SURFACE]
    if not surfaces:
        raise BridgeError(f"the session file lists no {OSC_SURFACE!r} surface to activate")
    for surface in surfaces:
        surface.set("active", "1")
        surface.set("address-only", "0")
    tree.write(path, encoding="UTF-8", xml_declaration=True)
    shutil.rmtree(directory / "peaks", ignore_errors=True)  # waveform caches of the silent takes
    (directory / "peaks").mkdir()
    return path


def make_session(directory: str | os.PathLike[str], name: str = "Low Tide") -> Path:
    """Create the session in ``directory`` (which must not exist yet); returns its ``.ardour`` file."""
    target = Path(directory).resolve()
    if target.exists():
        raise BridgeError(f"{target} exists already: give a new folder (nothing is overwritten)")
    tracks = _stem_tracks()
    sample_rate = sf.info(tracks[0]["file"]).samplerate
    _create_with_ardour(target, name, tracks, sample_rate)
    return _patch(target, name, tracks, sample_rate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default="ardour/low_tide", help="a new folder (default: %(default)s)")
    parser.add_argument("--name", default="Low Tide", help="the session's name (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        print(make_session(args.directory, args.name))
    except BridgeError as exc:
        print(f"make_ardour_session: error: {exc}", file=sys.stderr)
        return 1
    return 0
