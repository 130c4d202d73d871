"""Every lesson notebook runs top to bottom in a real kernel, its server started and a DAW connected.

Each notebook reads its port from ``CODETTE_PORT`` (05 also ``CODETTE_SERVE_PORT``
for the standalone server it starts), so runs never collide with each other
or with a server someone left on 8000.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _kernel_manager(spec_dir: Path) -> KernelManager:
    """A python3 kernel running this venv's interpreter, with the repository importable."""
    kernel_dir = spec_dir / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "codette_lab notebook tests",
        "language": "python",
        "env": {"PYTHONPATH": str(REPO)},
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir / "kernels")])
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


def test_the_lessons_are_all_there() -> None:
    names = [path.name for path in NOTEBOOKS]
    assert names == [
        "01_quickstart.ipynb",
        "02_tuning_heuristics.ipynb",
        "03_new_analysis_type.ipynb",
        "04_mixing_class.ipynb",
        "05_export_and_serve.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    markdown = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    assert len(markdown) >= 4, "a lesson explains itself"

    env = {
        **os.environ,
        "CODETTE_PORT": str(_free_port()),
        "CODETTE_SERVE_PORT": str(_free_port()),
    }
    client = NotebookClient(
        notebook,
        km=_kernel_manager(tmp_path / "spec"),
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
