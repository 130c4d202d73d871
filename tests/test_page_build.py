"""The join page's committed JavaScript is what the pinned compiler makes of its TypeScript now, its track-type
table is the project's own, and its track-type guess and loudness meter agree with the server's.

The page ships compiled (codette_lab/page/static/*.js, so users need no Node); these tests keep the two from
drifting: edit codette_lab/page/src/*.ts, then run
``tests/node/node_modules/.bin/tsc -p codette_lab/page/tsconfig.json`` and commit both.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from codette_lab import analyze
from codette_lab.tracktypes import canonical_track_type, page_table

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "codette_lab" / "page"
TSC = REPO / "tests" / "node" / "node_modules" / "typescript" / "bin" / "tsc"


@pytest.fixture(scope="module")
def node() -> str:
    assert TSC.is_file(), "run scripts/install-test-deps.sh (npm ci)"
    found = shutil.which("node")
    assert found, "Node.js 20.10+ is needed: run scripts/install-test-deps.sh"
    return found


@pytest.fixture(scope="module")
def compiled(node: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page's sources compiled now, strictly, into a fresh folder."""
    out = tmp_path_factory.mktemp("page")
    run = subprocess.run(
        [node, str(TSC), "-p", str(PAGE / "tsconfig.json"), "--outDir", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def test_the_committed_page_is_what_the_sources_compile_to(compiled: Path) -> None:
    fresh = {path.name: path.read_text() for path in compiled.glob("*.js")}
    committed = {path.name: path.read_text() for path in (PAGE / "static").glob("*.js")}
    assert sorted(committed) == sorted(fresh), "static/ holds stale or missing scripts: recompile the page"
    for name, text in fresh.items():
        assert committed[name] == text, f"static/{name} differs from src/: recompile the page (tsc -p codette_lab/page)"


def test_the_page_track_type_table_is_the_projects(compiled: Path) -> None:
    committed = json.loads((PAGE / "static" / "tracktypes.json").read_text())
    assert committed == page_table(), "regenerate codette_lab/page/static/tracktypes.json from tracktypes.page_table()"


NAMES = [
    "Lead Vox 2", "Kick In", "kick_out", "BV harmony", "Bass DI", "808", "Overheads", "OH L", "Room Mics",
    "Synth Pad", "Piano", "Rhodes", "Gtr Rhythm", "Mix Bus", "Master", "Track 7", "Audio 01", "Drum Bus",
    "Lead", "Hi-Hat", "Snare Top", "Acoustic Guitar", "strings", "vocal.flac", "untitled",
]  # fmt: skip


def _module(compiled: Path, name: str, tmp_path: Path) -> Path:
    """A compiled page module as an .mjs file Node loads as an ES module."""
    target = tmp_path / f"{name}.mjs"
    target.write_text((compiled / f"{name}.js").read_text())
    return target


def test_the_page_guesses_track_types_as_the_server_reads_names(node: str, compiled: Path, tmp_path: Path) -> None:
    module = _module(compiled, "tracktypes", tmp_path)
    script = (
        f"import {{ TrackTypes }} from {json.dumps(module.as_uri())};\n"
        f"const types = new TrackTypes({json.dumps(page_table())});\n"
        f"console.log(JSON.stringify({json.dumps(NAMES)}.map((name) => types.guess(name))));\n"
    )
    run = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    guessed = dict(zip(NAMES, json.loads(run.stdout), strict=True))
    expected = {name: canonical_track_type(None, track_name=name) for name in NAMES}
    assert guessed == expected
    assert guessed["Kick In"] == "drums" and guessed["Lead Vox 2"] == "vocal"


@pytest.mark.parametrize("rate", [44100, 48000])
def test_the_page_meter_reads_loudness_as_the_server_does(node: str, compiled: Path, tmp_path: Path, rate: int) -> None:
    """Noise with a quiet middle (so both gates act), stereo: the page's integrated loudness within 0.1 LU."""
    rng = np.random.default_rng(7)
    y = rng.standard_normal((2, rate * 12)).astype(np.float32) * 0.05
    y[:, rate * 4 : rate * 7] *= 0.02
    y[1] *= 0.5
    raw = tmp_path / "noise.f32"
    y.tofile(raw)
    module = _module(compiled, "meter", tmp_path)
    script = (
        f"import {{ measureWhole }} from {json.dumps(module.as_uri())};\n"
        "import { readFileSync } from 'node:fs';\n"
        f"const all = new Float32Array(readFileSync({json.dumps(str(raw))}).buffer.slice(0));\n"
        "const n = all.length / 2;\n"
        f"const levels = measureWhole([all.subarray(0, n), all.subarray(n)], {rate});\n"
        "console.log(JSON.stringify(levels));\n"
    )
    run = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    page = json.loads(run.stdout)
    server = analyze(y, rate, kind="loudness").metrics
    assert abs(page["integrated"] - server["integrated_lufs"]) < 0.1
    assert abs(page["peak"] - server["peak_dbfs"]) < 0.01
    assert abs(page["rms"] - server["rms_dbfs"]) < 0.1
