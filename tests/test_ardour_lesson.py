"""The live-DAW lesson runs top to bottom, twice in the same kernel, against a real headless Ardour.

No Ardour is open here, so the lesson starts its own (``ardour7-lua`` playing the
demo session built into ``XDG_CACHE_HOME``, a temporary folder), as it would for a
reader without Ardour. The second pass re-runs every cell in the same kernel, as a
reader re-running the notebook does.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from conftest import free_tcp_port, venv_kernel_manager
from nbclient import NotebookClient

from tests.ardour_support import need_ardour

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(600)]

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "08_live_daw.ipynb"


def _outputs(notebook: nbformat.NotebookNode, kind: str) -> list[dict]:
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == kind
    ]


def _text(notebook: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for output in _outputs(notebook, "stream"))


def test_the_lesson_runs_twice_in_one_kernel_against_headless_ardour(tmp_path: Path) -> None:
    need_ardour()
    notebook = nbformat.read(LESSON, as_version=4)
    assert len([cell for cell in notebook.cells if cell.cell_type == "markdown"]) >= 4, "a lesson explains itself"
    env = {**os.environ, "CODETTE_PORT": str(free_tcp_port()), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    client = NotebookClient(
        notebook,
        km=venv_kernel_manager(tmp_path / "spec", display_name="codette_lab lesson 08"),
        timeout=240,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    texts = []
    try:
        with client.setup_kernel(env=env, cwd=str(tmp_path)):
            for _ in range(2):
                for index, cell in enumerate(notebook.cells):
                    if cell.cell_type == "code":
                        cell.outputs = []
                        client.execute_cell(cell, index)
                assert not _outputs(notebook, "error")
                texts.append(_text(notebook))
    finally:  # a failed cell leaves the kernel (and the headless Ardour it started) running: shut it down
        if client.km is not None and client.km.has_kernel:
            client.km.shutdown_kernel(now=False)
    for text in texts:
        keys = [line for line in text.splitlines() if line.startswith("the next answer about Keys:")]
        assert keys and "'headroom'" in keys[0], text
        restored = [line for line in text.splitlines() if line.startswith("back at -6")]
        assert restored and "'headroom'" not in restored[0], text
        assert "audio - Overall check of Lead Vocal" in text
        assert "the loudest right now is" in text
    shown = _outputs(notebook, "display_data") + _outputs(notebook, "execute_result")
    widget_views = [output for output in shown if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    assert widget_views, "the lesson shows the bridge's status and the panel"
