"""Test material for the corpus tests: the rendered test corpus (scripts/make_test_corpus.py), small and short."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Small enough for the tests to stay quick: 3 files of 3 s per track type at 22.05 kHz.
PER_TYPE, SECONDS, SAMPLE_RATE = 3, 3.0, 22050


def project_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a module (loaded once), for the tests that use what a script renders."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def render_corpus(folder: Path, *, per_type: int = PER_TYPE) -> list[Path]:
    return project_script("make_test_corpus").make_corpus(folder, per_type=per_type, seconds=SECONDS, sr=SAMPLE_RATE)


def needs_realistic_renderers() -> pytest.MarkDecorator:
    """Skip unless the realistic corpus's renderers are installed (scripts/install-test-deps.sh does it)."""
    sources = project_script("fault_real_sources")
    render = project_script("fault_real_render")
    soundfonts = [bank.soundfont for bank in sources.BANKS.values()]
    voices = (render.FESTIVAL_VOICES, render.ALSA_SOUNDS, render.KLETTRES)
    folders = (*soundfonts, render.HYDROGEN, render.SONIC_PI, *voices)
    return pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in ("fluidsynth", "espeak-ng", "text2wave"))
        or not all(path.exists() for path in folders),
        reason="needs fluidsynth, fluid-soundfont-gm, timgm6mb-soundfont, musescore-general-soundfont-small, "
        "hydrogen-drumkits, sonic-pi-samples, espeak-ng, festival with its voices, alsa-utils, klettres-data "
        "(scripts/install-test-deps.sh)",
    )
