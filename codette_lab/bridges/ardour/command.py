"""``codette-lab bridge ardour``: join a Codette server as the Ardour session open on this machine.

Runs until Ctrl-C or SIGTERM, rewriting one status line (a line per change of
state when the output is not a terminal). Exit status: 0 after Ctrl-C/SIGTERM,
1 when the bridge's UDP port is taken, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, TextIO

from .defaults import (
    DEFAULT_ARDOUR_PORT,
    DEFAULT_FULL_SECONDS,
    DEFAULT_LEVELS_INTERVAL,
    DEFAULT_LEVELS_TYPE,
    DEFAULT_LISTEN_PORT,
    DEFAULT_SERVER_URL,
)

EXIT_OK, EXIT_PORT, EXIT_USAGE = 0, 1, 2

#: How often the status line is rewritten (s).
STATUS_EVERY_S = 0.5


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def add_bridge_command(commands: Any) -> None:
    """Add ``bridge ardour`` to the ``codette-lab`` parser's sub-commands."""
    bridge = commands.add_parser("bridge", help="join a Codette server as a real DAW (Ardour)")
    daws = bridge.add_subparsers(dest="daw", required=True, metavar="DAW")
    ardour = daws.add_parser(
        "ardour",
        help="the Ardour session open on this machine, through its OSC surface and the codette_tracks.lua hook",
        description="Join a Codette server as the Ardour session open on this machine: its tracks, gains, "
        "meters and audio, through Ardour's OSC surface (port 3819, feedback on) and the Lua hook "
        "codette_tracks.lua (README: 'Ardour, live').",
    )
    ardour.add_argument("--url", default=DEFAULT_SERVER_URL, help="the Codette server (default: %(default)s)")
    ardour.add_argument("--ardour-host", default="127.0.0.1", help="where Ardour runs (default: %(default)s)")
    ardour.add_argument(
        "--ardour-port", type=int, default=DEFAULT_ARDOUR_PORT, help="its OSC surface's port (default: %(default)s)"
    )
    ardour.add_argument(
        "--listen-port",
        type=int,
        default=DEFAULT_LISTEN_PORT,
        help="the UDP port Ardour and the Lua hook send to (default: %(default)s)",
    )
    ardour.add_argument(
        "--levels-every",
        type=_seconds,
        default=DEFAULT_LEVELS_INTERVAL,
        metavar="S",
        help="seconds between levels-only analyses of each sounding track (default: %(default)g)",
    )
    ardour.add_argument("--levels-type", default=DEFAULT_LEVELS_TYPE, help="their analysis type (default: %(default)s)")
    ardour.add_argument(
        "--full-every", type=_seconds, metavar="S", help="also analyse each sounding track's audio every S seconds"
    )
    ardour.add_argument("--full-type", default="quality", help="the full analyses' type (default: %(default)s)")
    ardour.add_argument(
        "--full-seconds",
        type=_seconds,
        default=DEFAULT_FULL_SECONDS,
        metavar="S",
        help="seconds of audio before the playhead a full analysis takes (default: %(default)g)",
    )
    ardour.add_argument(
        "--audio-as",
        choices=("auto", "samples", "frame"),
        default="auto",
        help="how audio travels: a binary frame where the server takes one, else base64 samples (default: auto)",
    )
    ardour.set_defaults(run=bridge_ardour_command)


def _show(status: str, out: TextIO, last: list[str]) -> None:
    """Rewrite the terminal's status line; elsewhere, print the status when its state part changed."""
    if out.isatty():
        out.write("\r" + status + "\x1b[K")
        out.flush()
    elif status.rsplit("|", 1)[0] != (last[0].rsplit("|", 1)[0] if last else None):
        print(status, file=out, flush=True)
    last[:] = [status]


def bridge_ardour_command(args: argparse.Namespace) -> int:
    from ...errors import BridgeError, MissingExtraError
    from ...extras import require

    try:
        require("ardour", "codette-lab bridge ardour")
        from .bridge import ArdourBridge
    except MissingExtraError as exc:
        print(f"codette-lab bridge ardour: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    try:
        bridge = ArdourBridge(
            args.url,
            ardour_host=args.ardour_host,
            ardour_port=args.ardour_port,
            listen_port=args.listen_port,
            levels_interval=args.levels_every,
            levels_type=args.levels_type,
            full_every=args.full_every,
            full_type=args.full_type,
            full_seconds=args.full_seconds,
            audio_as=args.audio_as,
        )
    except BridgeError as exc:
        print(f"codette-lab bridge ardour: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(
            f"codette-lab bridge ardour: error: cannot listen on UDP port {args.listen_port} ({exc}): another "
            f"bridge may be running; give --listen-port and set CODETTE_ARDOUR_PORT for Ardour to the same",
            file=sys.stderr,
        )
        return EXIT_PORT
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    last: list[str] = []
    port = bridge.surface.listen_port
    hook = "" if port == DEFAULT_LISTEN_PORT else f" (start Ardour with CODETTE_ARDOUR_PORT={port} for the Lua hook)"
    print(f"Listening for Ardour on UDP 127.0.0.1:{port}{hook}; joining {args.url}", flush=True)
    with bridge:
        while not stop.wait(STATUS_EVERY_S):
            _show(bridge.status, sys.stdout, last)
    if sys.stdout.isatty():
        print()
    return EXIT_OK
