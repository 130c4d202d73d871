"""``codette-lab replay SESSION --rules FILE [--against FILE] [--json]``: check a rule change like code.

Exit status: 0 when every replayed answer is the same, 1 when some answer
changed (so CI fails on an unintended change), 2 for bad arguments (a rule
file or recording that cannot be read).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_SAME, EXIT_CHANGED, EXIT_USAGE = 0, 1, 2


def add_replay_command(commands: Any) -> None:
    """Add the ``replay`` sub-command to the ``codette-lab`` parser's sub-commands."""
    command = commands.add_parser(
        "replay",
        help="answer a recorded session again with other rules and show what changed (exit 1 if anything did)",
        description="Answer the chat and analyze requests of a recording (codette-lab serve --record DIR, or "
        "lab.record(DIR)) again with the rules of FILE, and show per request which findings and suggestions "
        "appeared or disappeared and how the score moved. Exit status: 0 all answers the same, 1 some changed, "
        "2 bad arguments.",
    )
    command.add_argument("session", metavar="SESSION", help="a recording: a .jsonl file or a folder of them")
    command.add_argument("--rules", metavar="FILE", help="the rules to answer with (default: the built-in rules)")
    command.add_argument(
        "--against",
        metavar="FILE",
        help="compare with the answers of these rules (default: with the replies the recording holds)",
    )
    command.add_argument(
        "--audio-root",
        metavar="DIR",
        action="append",
        default=[],
        help="a folder the recorded file_path requests may be read from (repeatable; default: the demo folder)",
    )
    command.add_argument("--json", action="store_true", help="print every request's outcome as JSON")
    command.set_defaults(run=replay_command)


def replay_command(args: argparse.Namespace) -> int:
    from ..engine import Engine
    from ..errors import CodetteError
    from .replay import replay

    try:
        base = Engine(audio_roots=args.audio_root or None)
        report = replay(args.session, args.rules, against=args.against, engine=base)
    except CodetteError as exc:
        print(f"codette-lab replay: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(report.to_json() if args.json else report.table())
    return EXIT_CHANGED if report.differs else EXIT_SAME
