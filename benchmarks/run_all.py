"""``make bench``: run every ``benchmarks/bench_*.py`` and write ``docs/benchmarks.md``.

Each script defines ``run() -> str``, returning one Markdown section (its
own ``##`` heading, medians, percentiles and ratios against its reference,
measured side by side in the same run). This file adds the machine they ran on.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE.parent / "docs" / "benchmarks.md"


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


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [script for script in scripts if script.stem in names or script.stem[6:] in names]
    sections = []
    for script in scripts:
        print(f"running {script.name} ...", flush=True)
        section = load(script).run()
        print(section, flush=True)
        sections.append(section.strip())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        "# Benchmarks\n\n"
        f"Written by `make bench` on {stamp}.\n\n"
        f"Machine: {machine()}.\n\n"
        "Every comparison below was measured side by side in the same run.\n\n"
        + "\n\n".join(sections)
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
