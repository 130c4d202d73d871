"""The package stands alone once installed: a wheel built from this checkout finds all its run-time data.

The wheel is built offline (no build isolation, no index) from a copy of the
sources, installed with ``pip --target`` into an empty folder, and imported
from there by a fresh interpreter whose working directory is neither the
checkout nor the target, so nothing can be found by accident from the source
tree: the demo session and its stems, the knowledge base and the default
rules must all come out of the wheel.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from built_wheel import PIP, build_wheel

PROBE = textwrap.dedent(
    """
    import json
    import sys
    from pathlib import Path

    import codette_lab
    from codette_lab import analyze
    from codette_lab.audio_input import AudioRoots
    from codette_lab.daw import Session
    from codette_lab.engine import Engine
    from codette_lab.resources import default_audio_root, demo_session_path

    session = Session.load()
    vocal = next(track for track in session.tracks if track.track_type == "vocal")
    samples, rate = vocal.audio()
    print(json.dumps({
        "package": codette_lab.__file__,
        "session": str(demo_session_path()),
        "audio_root": str(default_audio_root()),
        "tracks": [track.track_name for track in session.tracks],
        "vocal": str(AudioRoots().resolve("stems/vocal.flac")),
        "rate": rate,
        "chat": Engine().chat("How should I compress a snare?").response,
        "rules": [finding.rule_id for finding in analyze(samples, rate, kind="quality", track_type="vocal").problems],
    }))
    """
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """A folder holding codette_lab as ``pip install --target`` puts it there from a freshly built wheel."""
    base = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(repo_root, base)
    target = base / "site"
    install = subprocess.run(
        [*PIP, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return target


def test_the_installed_wheel_finds_the_demo_session_knowledge_and_rules(installed: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(found["package"]).is_relative_to(installed), "imported from the wheel, not the checkout"
    assert Path(found["session"]) == installed / "codette_lab" / "data" / "demo" / "session.json"
    assert Path(found["audio_root"]) == installed / "codette_lab" / "data" / "demo"
    assert found["tracks"] == ["Drums", "Bass", "Keys", "Lead Vocal"]
    assert Path(found["vocal"]) == installed / "codette_lab" / "data" / "demo" / "stems" / "vocal.flac"
    assert found["rate"] == 44_100
    assert "snare" in found["chat"].lower()
    assert "rumble" in found["rules"], "the default rules judged the demo vocal"


def test_the_installed_wheel_holds_the_compiled_join_page(installed: Path) -> None:
    """Users need no Node: the page's compiled files, exactly as committed, ship in the wheel."""
    static = Path(__file__).resolve().parents[1] / "codette_lab" / "page" / "static"
    shipped = installed / "codette_lab" / "page" / "static"
    committed = sorted(path.name for path in static.iterdir() if path.is_file())
    assert {"index.html", "page.js", "client.js", "tracktypes.json", "page.css"} <= set(committed)
    for name in committed:
        assert (shipped / name).read_bytes() == (static / name).read_bytes(), name
