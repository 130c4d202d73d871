"""``codette-lab corpus DIR --out results.parquet``: analyze a folder of audio files from a shell.

Exit status: 0 when every file was analyzed, 1 when some file could not be
(each named on stderr, and recorded in the results), 2 for bad arguments
(an unloadable rule file, nothing to analyze), 130 when interrupted (what was
done is kept: run the same command again to go on).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .files import FROM_FOLDER
from .run import DEFAULT_KINDS

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: Failed files named on stderr at most (all are in the results).
SHOWN_FAILURES = 10


def add_corpus_command(commands: Any) -> None:
    """Add the ``corpus`` sub-command to the ``codette-lab`` parser's sub-commands."""
    corpus = commands.add_parser(
        "corpus",
        help="analyze every audio file under a folder on a Dask cluster into a Parquet table (resumable)",
        description="Analyze every audio file under DIR (recursively) into a Parquet results folder. "
        "A re-run skips files already analyzed (same path, size and modification time).",
    )
    corpus.add_argument("dir", metavar="DIR", help="folder of audio files (WAV, FLAC, OGG, AIFF), or one file")
    corpus.add_argument("--out", required=True, metavar="PATH", help="results folder, e.g. results.parquet")
    corpus.add_argument(
        "--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)"
    )
    corpus.add_argument("--rules", metavar="FILE", help="a rule file exported from a notebook (default: built-in)")
    corpus.add_argument(
        "--kinds", nargs="+", default=list(DEFAULT_KINDS), metavar="KIND", help="analysis types (default: quality)"
    )
    corpus.add_argument(
        "--track-type",
        default="audio",
        metavar="TYPE",
        help=f"track type of every file, or '{FROM_FOLDER}' to use each file's folder name (default: audio)",
    )
    corpus.add_argument("--rerun", action="store_true", help="analyze every file again, forgetting earlier results")
    corpus.set_defaults(run=corpus_command)


def corpus_command(args: argparse.Namespace) -> int:
    from ..errors import CodetteError, MissingExtraError
    from ..extras import require
    from ..rules import RuleSet
    from .files import corpus_files
    from .run import analyze

    def usage(text: str) -> int:
        print(f"codette-lab corpus: error: {text}", file=sys.stderr)
        return EXIT_USAGE

    try:
        require("corpus", "codette-lab corpus")
    except MissingExtraError as exc:
        return usage(str(exc))

    try:
        rules = RuleSet.load(args.rules) if args.rules is not None else None
    except (CodetteError, OSError, ValueError) as exc:
        text = str(exc)
        return usage(text if str(args.rules) in text else f"cannot load rules from {args.rules}: {text}")
    if not Path(args.dir).exists():
        return usage(f"DIR: expected a folder of audio files or one audio file, got {args.dir} (no such path)")
    if not corpus_files(args.dir):
        return usage(f"no audio files under {args.dir}")
    try:
        table = analyze(
            args.dir,
            kinds=args.kinds,
            track_type=args.track_type,
            rules=rules,
            client=args.scheduler,
            out=args.out,
            rerun=args.rerun,
        )
    except KeyboardInterrupt:
        print(f"codette-lab corpus: interrupted; results so far are in {args.out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (FileExistsError, OSError) as exc:
        return usage(str(exc))
    failed = table[table["error"].notna()]
    print(f"{len(table) - len(failed)} of {len(table)} files analyzed; results in {args.out}", file=sys.stderr)
    for path, error in list(zip(failed["path"], failed["error"], strict=True))[:SHOWN_FAILURES]:
        print(f"  failed: {path}: {error}", file=sys.stderr)
    if len(failed) > SHOWN_FAILURES:
        print(f"  ... and {len(failed) - SHOWN_FAILURES} more (the 'error' column)", file=sys.stderr)
    return EXIT_OK if failed.empty else EXIT_FAILED_FILES
