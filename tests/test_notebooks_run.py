"""Every lesson notebook runs top to bottom in a real kernel, its server started and a DAW connected.

Each notebook reads its port from ``CODETTE_PORT`` (05 and 07 also ``CODETTE_SERVE_PORT``
for the standalone server it starts), so runs never collide with each other
or with a server someone left on 8000.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from conftest import free_tcp_port, venv_kernel_manager
from nbclient import NotebookClient

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: Lesson 08 drives a real (headless) Ardour on Ardour's fixed OSC port: tests/test_ardour_lesson.py runs it,
#: twice in one kernel, with a HOME and cache of its own.
NOTEBOOKS = [path for path in LESSONS if path.name != "08_live_daw.ipynb"]


def test_the_lessons_are_all_there() -> None:
    names = [path.name for path in LESSONS]
    assert names == [
        "01_quickstart.ipynb",
        "02_tuning_heuristics.ipynb",
        "03_new_analysis_type.ipynb",
        "04_mixing_class.ipynb",
        "05_export_and_serve.ipynb",
        "06_corpus.ipynb",
        "07_record_replay.ipynb",
        "08_live_daw.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    markdown = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    assert len(markdown) >= 4, "a lesson explains itself"

    env = {
        **os.environ,
        "CODETTE_PORT": str(free_tcp_port()),
        "CODETTE_SERVE_PORT": str(free_tcp_port()),
    }
    client = NotebookClient(
        notebook,
        km=venv_kernel_manager(tmp_path / "spec", display_name="codette_lab notebook tests"),
        timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=env, cwd=str(tmp_path), cleanup_kc=True)  # shut the kernel down (we own it)

    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors
    widget_views = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert widget_views, "every lesson shows the panel (or one of its tabs)"
