"""``make bench``: run every ``benchmarks/bench_*.py`` and write ``docs/benchmarks.md``.

Each script defines ``run() -> str``, returning one Markdown section (its
own ``##`` heading, medians, percentiles and ratios against its reference,
measured side by side in the same run). This file adds the machine they ran on.

``python benchmarks/run_all.py corpus analysis`` runs only those scripts and
replaces only their sections, keeping the others as they were: each section
is written after a ``<!-- section: bench_x -->`` marker and ends with when it
was measured and the machine's load before it. (In a file written
before the markers, a section is recognised by its heading up to the colon.)
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE.parent / "docs" / "benchmarks.md"
MARKER = "<!-- section: {} -->"
MARKER_PATTERN = re.compile(r"^<!-- section: (\S+) -->$")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def load(path: Path):
    """Import a benchmark script as a module of its own name, importable again by name (as the
    worker processes a benchmark spawns need to unpickle its functions)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _heading_key(section: str) -> str:
    """A section's heading up to its colon (``## Analysis``), to find it in a file written without markers."""
    return section.strip().splitlines()[0].split(":", 1)[0].strip()


def _same_section(key: str, new: str, name: str | None, old: str) -> bool:
    return key == name or (name is None and _heading_key(new) == _heading_key(old))


def existing_sections(text: str) -> tuple[str, list[tuple[str | None, str]]]:
    """(header, [(script name or None, section text)]) of a benchmarks file written earlier.

    Sections start at their ``## `` heading; the marker line just before a heading names its script.
    """
    pieces = re.split(r"(?m)^(?=## )", text)
    sections: list[tuple[str | None, str]] = []
    header, name = _trailing_marker(pieces[0])
    for piece in pieces[1:]:
        body, following = _trailing_marker(piece)
        sections.append((name, body.strip()))
        name = following
    return header, sections


def _trailing_marker(piece: str) -> tuple[str, str | None]:
    """``piece`` without a marker on its last line, and the script that marker names (or None)."""
    lines = piece.rstrip().splitlines()
    found = MARKER_PATTERN.match(lines[-1]) if lines else None
    return ("\n".join(lines[:-1]), found.group(1)) if found else (piece, None)


def merged(old_text: str, fresh: dict[str, str]) -> str:
    """``old_text`` with the sections of ``fresh`` (script name -> section) replaced or added in name order
    (each section says when it was measured: :func:`stamped`)."""
    header, sections = existing_sections(old_text)
    result: list[tuple[str | None, str]] = []
    for name, section in sections:
        match = next((key for key, new in fresh.items() if _same_section(key, new, name, section)), None)
        result.append((match, fresh[match]) if match else (name, section))
    for name in sorted(set(fresh) - {name for name, _ in result}):
        later = [i for i, (other, _) in enumerate(result) if other is not None and other > name]
        result.insert(later[0] if later else len(result), (name, fresh[name]))
    return header.strip() + "\n\n" + "\n\n".join(_with_marker(name, text) for name, text in result) + "\n"


def stamped(section: str, load_before: tuple[float, float, float]) -> str:
    """A section as measured now, ending with when it was run and how loaded the machine was before it: the
    sections of one file may come from different runs (``run_all.py <names>`` replaces only its own)."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{value:.1f}" for value in load_before)
    cores = os.cpu_count()
    return f"{section.strip()}\n\n_Measured {when} on this machine; load average before it: {load} on {cores} cores._"


def _with_marker(name: str | None, section: str) -> str:
    return f"{MARKER.format(name)}\n{section}" if name else section


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [script for script in scripts if script.stem in names or script.stem[6:] in names]
    fresh = {}
    for script in scripts:
        print(f"running {script.name} ...", flush=True)
        load_before = os.getloadavg()
        section = stamped(load(script).run(), load_before)
        print(section, flush=True)
        fresh[script.stem] = section
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if names and OUTPUT.exists():
        text = merged(OUTPUT.read_text(), fresh)
    else:
        text = (
            "# Benchmarks\n\n"
            f"Written by `make bench` on {stamp}.\n\n"
            f"Machine: {machine()}.\n\n"
            "Every comparison below was measured side by side in the same run; each section says when.\n\n"
            + "\n\n".join(_with_marker(name, section) for name, section in fresh.items())
            + "\n"
        )
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=OUTPUT.parent, delete=False, suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, OUTPUT)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
