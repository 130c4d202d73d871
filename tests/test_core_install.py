"""The core install (``pip install codette-lab``, no extras) serves, replays and analyzes without Jupyter or Dask.

Offline, as CI and this machine run: the wheel is built from this checkout,
a fresh virtual environment is created, and only the distributions the
wheel's core requirements name (and theirs, found through importlib.metadata
in this test's own environment) are made visible in it, as links. The wheel
is then installed there with ``pip --no-deps --no-index``. Jupyter, the
widgets, matplotlib, pandas and Dask are therefore absent, and the test
checks that they are before using the installed ``codette-lab`` command.
"""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
import sys
import time
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from built_wheel import PIP, build_wheel
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from websockets.sync.client import connect

#: Modules of the extras that a core install must not be able to import.
EXTRA_MODULES = ("jupyterlab", "ipykernel", "IPython", "ipywidgets", "matplotlib", "pandas", "dask", "distributed")


def _core_requirements(wheel: Path) -> list[Requirement]:
    """The wheel's ``Requires-Dist`` lines that apply without any extra, on this platform."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [entry for entry in archive.namelist() if entry.endswith(".dist-info/METADATA")]
        headers = Parser().parsestr(archive.read(name).decode())
    requirements = [Requirement(line) for line in headers.get_all("Requires-Dist") or []]
    environment = {**default_environment(), "extra": ""}
    return [req for req in requirements if req.marker is None or req.marker.evaluate(environment)]


def _closure(requirements: list[Requirement]) -> dict[str, metadata.Distribution]:
    """Every installed distribution ``requirements`` need, directly or through their own requirements."""
    found: dict[str, metadata.Distribution] = {}
    pending = [(req, frozenset(req.extras)) for req in requirements]
    while pending:
        req, extras = pending.pop()
        key = canonicalize_name(req.name)
        if key in found:
            continue
        found[key] = dist = metadata.distribution(req.name)
        for line in dist.requires or []:
            inner = Requirement(line)
            if inner.marker is None or any(
                inner.marker.evaluate({**default_environment(), "extra": extra}) for extra in {"", *extras}
            ):
                pending.append((inner, frozenset(inner.extras)))
    return found


def _link(distributions: dict[str, metadata.Distribution], site: Path) -> None:
    """Link each distribution's top-level files and folders (and its .dist-info) into ``site``."""
    for dist in distributions.values():
        root = Path(str(dist.locate_file("")))
        tops = {Path(str(file)).parts[0] for file in dist.files or [] if not str(file).startswith("..")}
        for top in tops:
            if not (site / top).exists() and (root / top).exists():
                (site / top).symlink_to(root / top)


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """A fresh venv holding the wheel and the core dependencies only; returns its ``bin`` folder."""
    base = tmp_path_factory.mktemp("core")
    wheel = build_wheel(repo_root, base)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    (site,) = venv.glob("lib/python*/site-packages")
    core = _closure(_core_requirements(wheel))
    assert "codette-lab" not in core and "websockets" in core
    _link(core, site)
    install = subprocess.run(
        [*PIP, "--python", str(venv / "bin" / "python"), "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return venv / "bin"


def _run(core_venv: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(core_venv / arguments[0]), *arguments[1:]],
        cwd=cwd,
        env={"PATH": f"{core_venv}:/usr/bin:/bin", "HOME": str(cwd)},
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_the_extras_are_absent_from_the_core_install(core_venv: Path, tmp_path: Path) -> None:
    probe = f"import importlib.util; print([m for m in {EXTRA_MODULES!r} if importlib.util.find_spec(m)])"
    run = _run(core_venv, "python", "-c", probe, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", f"importable without extras: {run.stdout}"


def _listening_port(process: subprocess.Popen[str], within: float) -> int:
    """The port the server logs that it listens on (it was started with ``--port 0``)."""
    assert process.stderr is not None
    deadline, seen = time.monotonic() + within, []
    while time.monotonic() < deadline:
        if select.select([process.stderr], [], [], 0.5)[0]:
            line = process.stderr.readline()
            seen.append(line)
            if found := re.search(r"listening on ws://127\.0\.0\.1:(\d+)/ws", line):
                return int(found.group(1))
            if not line and process.poll() is not None:
                break
    raise AssertionError(f"the server did not say it listens (exit {process.poll()}): {''.join(seen)}")


def test_the_core_install_serves_records_and_replays_over_a_real_websocket(core_venv: Path, tmp_path: Path) -> None:
    record = tmp_path / "record"
    process = subprocess.Popen(
        [str(core_venv / "codette-lab"), "serve", "--port", "0", "--record", str(record)],
        cwd=tmp_path,
        env={"PATH": f"{core_venv}:/usr/bin:/bin", "HOME": str(tmp_path)},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = _listening_port(process, within=120.0)
        with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=30) as client:
            assert json.loads(client.recv(timeout=30))["type"] == "connection"
            client.send(json.dumps({"type": "chat", "message": "How should I compress a snare?"}))
            reply = json.loads(client.recv(timeout=60))
            assert reply["type"] == "chat_response" and "snare" in reply["response"].lower()
            analyze = {
                "type": "analyze",
                "track_data": {"track_name": "Vox", "track_type": "vocal", "peak_level": -0.1, "rms_level": -20.0},
                "audio_data": {},
                "analysis_type": "quality",
            }
            client.send(json.dumps(analyze))
            reply = json.loads(client.recv(timeout=60))
            assert reply["type"] == "analysis_response", reply
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    replayed = _run(core_venv, "codette-lab", "replay", str(record), cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "2 requests replayed" in replayed.stdout, replayed.stdout


def test_the_core_install_analyzes_samples(core_venv: Path, tmp_path: Path) -> None:
    probe = (
        "import numpy as np\n"
        "from codette_lab import analyze\n"
        "t = np.arange(44100) / 44100\n"
        "result = analyze(0.5 * np.sin(2 * np.pi * 220 * t), 44100, kind='quality', track_type='vocal')\n"
        "print(result.to_wire()['analysis_type'])\n"
    )
    run = _run(core_venv, "python", "-c", probe, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "quality"


@pytest.mark.parametrize(
    ("code", "extra", "what"),
    [
        ("from codette_lab import Lab", "lab", "codette_lab.Lab"),
        ("import codette_lab.widgets", "lab", "lab.panel()"),
        ("import codette_lab.corpus as c; c.analyze('.')", "corpus", "codette_lab.corpus.analyze()"),
    ],
)
def test_a_missing_part_is_named_in_one_line_with_its_pip_command(
    core_venv: Path, tmp_path: Path, code: str, extra: str, what: str
) -> None:
    run = _run(core_venv, "python", "-c", code, cwd=tmp_path)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(f"codette_lab.errors.MissingExtraError: {what}"), run.stderr
    assert last.endswith(f"not installed: pip install 'codette-lab[{extra}]'"), last


def test_the_corpus_command_says_which_extra_it_needs_in_one_line(core_venv: Path, tmp_path: Path) -> None:
    (tmp_path / "audio").mkdir()
    run = _run(core_venv, "codette-lab", "corpus", str(tmp_path / "audio"), "--out", "x.parquet", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "codette-lab corpus: error: codette-lab corpus needs dask, distributed, pandas, pyarrow, tqdm, "
        "which are not installed: pip install 'codette-lab[corpus]'"
    ]
    assert not (tmp_path / "x.parquet").exists()
