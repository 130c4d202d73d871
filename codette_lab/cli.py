"""The ``codette-lab`` command (also ``python -m codette_lab``).

``codette-lab serve`` runs the standalone server until Ctrl-C or SIGTERM,
then closes every connection with code 1001 and frees the port. Exit codes:
0 after a clean stop, 1 when the server cannot listen, 2 for bad arguments
(including a rule file that cannot be loaded).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from . import __version__
from .audio_input import DEFAULT_MAX_AUDIO_SECONDS
from .bridges.ardour.command import add_bridge_command
from .corpus.command import add_corpus_command
from .errors import CodetteError, PortInUseError, RecordingError, ServerError, UsageError
from .processes import configure_command_process, freeze_long_lived_objects
from .recording import Recorder
from .recording.command import add_replay_command
from .reload import RuleFileWatcher
from .server import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_REQUEST_TIMEOUT, WEBSOCKET_PATH, serve
from .server.access import TOKEN_ENVIRONMENT_VARIABLE
from .server.limits import DEFAULT_MAX_AUDIO_BYTES, DEFAULT_MAX_MESSAGE_BYTES, MIB
from .server.ports import free_port_near, port_holder

if TYPE_CHECKING:
    from .engine import Engine

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EXIT_OK, EXIT_SERVER_ERROR, EXIT_USAGE = 0, 1, 2


def _positive(what: str) -> Callable[[str], float]:
    """An argparse type for a number > 0; its errors call the value ``what`` ("a number of seconds")."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected {what} > 0, got {text!r}")
        return value

    return convert


_positive_number = _positive("a number")
_positive_seconds = _positive("a number of seconds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codette-lab",
        description=f"The Codette WebSocket server for DAWs (protocol on ws://HOST:PORT{WEBSOCKET_PATH}).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("serve", help="run the standalone server until Ctrl-C or SIGTERM")
    run.add_argument("--host", default=DEFAULT_HOST, help="interface to bind (default: %(default)s, this machine only)")
    run.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="TCP port (default: %(default)s; 0 picks a free one)"
    )
    run.add_argument(
        "--rules",
        metavar="FILE",
        help="a rule file exported from a notebook (default: the built-in rules); reloaded when it changes "
        "and on SIGHUP, connections kept",
    )
    run.add_argument("--record", metavar="DIR", help="record every request and reply as JSON Lines in DIR")
    run.add_argument(
        "--record-samples", action="store_true", help="keep audio sent as samples in the recording (default: a hash)"
    )
    run.add_argument(
        "--audio-root",
        metavar="DIR",
        action="append",
        default=[],
        help="a folder whose audio files analyze requests may name (repeatable; default: the demo session's folder)",
    )
    run.add_argument(
        "--allow-origin",
        metavar="ORIGIN",
        action="append",
        default=[],
        help="also accept WebSocket connections from web pages of this origin, e.g. https://daw.example "
        "(repeatable; '*' accepts any; pages from localhost and the server's own join page are always accepted)",
    )
    run.add_argument(
        "--request-timeout",
        metavar="S",
        type=_positive_seconds,
        default=DEFAULT_REQUEST_TIMEOUT,
        help="time limit for a function defined in a notebook (perspective or analysis type) to answer one "
        "request; built-in perspectives and analyses are never cut short (default: %(default)g s)",
    )
    run.add_argument(
        "--token",
        default=None,
        help=f"the token clients on other machines must send when --host is not loopback (default: "
        f"${TOKEN_ENVIRONMENT_VARIABLE}, else one is generated and printed with the join URL)",
    )
    run.add_argument(
        "--require-token",
        action="store_true",
        help="ask clients on this machine for the token too (try the join URL you hand out; default: only "
        "clients on other machines need it)",
    )
    run.add_argument(
        "--certfile",
        metavar="PEM",
        default=None,
        help="serve https:// and wss:// with this certificate (chain) file; with --keyfile unless it holds the key",
    )
    run.add_argument("--keyfile", metavar="PEM", default=None, help="the private key of --certfile")
    run.add_argument(
        "--max-audio-mb",
        metavar="MB",
        type=_positive_number,
        default=None,
        help="audio held at once across all connections, in MiB, before requests get 'Server busy' "
        "(default: a quarter of this machine's memory, at least 512)",
    )
    run.add_argument(
        "--max-message-mb",
        metavar="MB",
        type=_positive_number,
        default=DEFAULT_MAX_MESSAGE_BYTES / MIB,
        help="largest frame accepted, in MiB (default: %(default)g, a 60 s stereo clip sent as samples)",
    )
    run.add_argument(
        "--max-audio-seconds",
        metavar="S",
        type=_positive_number,
        default=DEFAULT_MAX_AUDIO_SECONDS,
        help="longest audio file an analyze request may name, checked before reading (default: %(default)g s)",
    )
    run.add_argument("--log-level", default="INFO", type=str.upper, choices=LOG_LEVELS, help="default: %(default)s")
    run.set_defaults(run=_serve_command)
    add_corpus_command(commands)
    add_replay_command(commands)
    add_bridge_command(commands)
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    if level == "DEBUG":
        logging.getLogger("codette_lab.server.websockets").setLevel(logging.DEBUG)


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed (it comes with ``uvicorn[standard]``): about twice the
    messages per second of the standard loop. None means asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _build_engine(args: argparse.Namespace) -> Engine:
    """The engine the server answers with; a rule file that cannot be loaded is a usage error."""
    from .engine import Engine
    from .rules import RuleSet

    rules = None
    if args.rules is not None:
        try:
            rules = RuleSet.load(args.rules)
        except (CodetteError, OSError, ValueError) as exc:
            text = str(exc)  # RuleSet's errors name the file; say which file if one ever does not
            named = text if str(args.rules) in text else f"cannot load rules from {args.rules}: {text}"
            raise UsageError(named) from exc
    try:
        return Engine(rules=rules, audio_roots=args.audio_root or None, max_audio_seconds=args.max_audio_seconds)
    except CodetteError as exc:
        raise UsageError(str(exc)) from exc


def _tls_setting(args: argparse.Namespace) -> tuple[str, str] | str | None:
    """The server's TLS setting from --certfile and --keyfile (a key alone is a usage error)."""
    if args.certfile is None:
        if args.keyfile is not None:
            raise UsageError("--keyfile needs --certfile (the certificate it belongs to)")
        return None
    return (args.certfile, args.keyfile) if args.keyfile is not None else args.certfile


async def _serve_until_signalled(engine: Engine, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        recorder = Recorder(args.record, rules=engine.rules, keep_samples=args.record_samples) if args.record else None
    except RecordingError as exc:
        raise UsageError(str(exc)) from exc
    watcher = RuleFileWatcher(engine.rules, args.rules) if args.rules is not None else None
    if watcher is not None:
        watcher.start()
        loop.add_signal_handler(signal.SIGHUP, watcher.request_reload)
    server = serve(
        engine,
        host=args.host,
        port=args.port,
        allowed_origins=args.allow_origin,
        request_timeout=args.request_timeout,
        recorder=recorder,
        token=args.token,
        max_message_bytes=int(args.max_message_mb * MIB),
        max_audio_bytes=DEFAULT_MAX_AUDIO_BYTES if args.max_audio_mb is None else int(args.max_audio_mb * MIB),
        tls=_tls_setting(args),
        require_token=args.require_token,
    )
    async with server:
        logging.getLogger("codette_lab.server").info("Health check at %s; Ctrl-C to stop", server.health_url)
        print(f"Students open the join page: {server.join_url}", flush=True)
        print(f"DAWs connect to: {server.ws_join_url}", flush=True)
        if _process_is_ours:  # once listening, so that start-up is not slowed by it
            threading.Thread(target=_warm_up_then_freeze, name="codette-warm-up", daemon=True).start()
        await stop.wait()
        logging.getLogger("codette_lab.server").info("Stopping: closing connections")
    if watcher is not None:
        await watcher.stop()
    if recorder is not None:
        recorder.close()


def _serve_command(args: argparse.Namespace) -> int:
    _configure_logging(args.log_level)
    try:
        engine = _build_engine(args)
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            runner.run(_serve_until_signalled(engine, args))
    except UsageError as exc:
        print(f"codette-lab serve: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PortInUseError:
        print(f"codette-lab serve: error: {_port_in_use_text(args.host, args.port)}", file=sys.stderr)
        return EXIT_SERVER_ERROR
    except ServerError as exc:
        print(f"codette-lab serve: error: {exc}", file=sys.stderr)
        return EXIT_SERVER_ERROR
    except KeyboardInterrupt:  # Ctrl-C before the server was listening: nothing to close
        pass
    return EXIT_OK


def _port_in_use_text(host: str, port: int) -> str:
    """The taken port, what holds it, and a free one, in the command line's own syntax."""
    holder = port_holder(port) or "another process"
    free = free_port_near(port, host)
    elsewhere = f"--port {free} is free now, or " if free is not None else ""
    return (
        f"Port {port} on {host} is already in use by {holder}: stop it, "
        f"or serve on another port: {elsewhere}--port 0 for any free one"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    It changes nothing of the process it runs in (its heap, BLAS threads, ``os.environ``): called from
    Python, the caller's process is the caller's. The ``codette-lab`` program is :func:`run`.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.run
    return command(args)


def run() -> None:
    """The ``codette-lab`` program (console script and ``python -m codette_lab``): the process is the
    command's own, so it gets the command's process settings (:mod:`codette_lab.processes`), then
    :func:`main` runs and its status is the exit status."""
    global _process_is_ours
    argv = sys.argv[1:]
    _process_is_ours = True
    configure_command_process(next((word for word in argv if not word.startswith("-")), ""))
    raise SystemExit(main(argv))


#: True in the ``codette-lab`` program (:func:`run`), whose process is the command's own; False when
#: :func:`main` is called from Python, whose process is the caller's.
_process_is_ours = False


def _warm_up_then_freeze() -> None:
    """The ``serve`` program's start-up, beside the server's: the analysis stack loaded and compiled for the
    usual rates (so the first DAW does not pay it), then everything loaded so far kept out of the garbage
    collector's full collections (:func:`~codette_lab.processes.freeze_long_lived_objects`)."""
    from .warm_up import warm_up_now

    warm_up_now()
    freeze_long_lived_objects()
