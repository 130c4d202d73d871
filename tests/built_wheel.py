"""Build this checkout's wheel offline, for the tests that install it (no build isolation, no index)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def build_wheel(repo_root: Path, base: Path) -> Path:
    """The wheel built from a copy of the package sources under ``base`` (so the checkout stays clean)."""
    source = base / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(repo_root / "codette_lab", source / "codette_lab", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(repo_root / name, source / name)
    build = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(base / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (base / "dist").glob("codette_lab-*.whl")
    return wheel
