"""The package's floors hold: each module imports only its own layer or those below, and imports alone.

The layers are those of docs/architecture.md. Imports inside functions count
too (a lazy import of the server from the analysis layer would still tie the
floors together). Every module must also import on its own, first, in a fresh
interpreter state: an import cycle shows up there as a partially initialised
module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "codette_lab"

#: The first part of a module's name below ``codette_lab`` -> its layer (docs/architecture.md).
LAYERS = {
    "errors": 1,
    "protocol": 1,
    "resources": 1,
    "heap": 1,
    "extras": 1,
    "processes": 1,
    "analysis": 2,
    "tracktypes": 3,
    "registry": 3,
    "usercode": 3,
    "memory": 3,
    "knowledge": 3,
    "chat": 3,
    "rules": 3,
    "audio_input": 3,
    "attached_audio": 3,
    "analysis_types": 3,
    "engine": 3,
    "warm_up": 3,
    "server": 4,
    "recording": 4,
    "reload": 4,
    "lab": 5,
    "widgets": 5,
    "daw": 5,
    "corpus": 5,
    "bridges": 5,
    "cli": 5,
    "__main__": 5,
    "__init__": 5,
}

#: The most lines a module may have before it holds two rooms.
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    assert key in LAYERS, f"{module} is in no layer: add it to LAYERS here and to docs/architecture.md"
    return LAYERS[key]


def _imported(path: Path) -> set[str]:
    """The codette_lab modules ``path`` imports, anywhere in it, as absolute names."""
    own = _name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("codette_lab"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("codette_lab"):
                found.add(target)
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_imports_go_down_the_layers(path):
    own = _name(path)
    if own == "codette_lab":
        return  # the package's lazy front door names every layer
    layer = _layer(own)
    upward = sorted(target for target in _imported(path) if target != "codette_lab" and _layer(target) > layer)
    assert not upward, f"{own} (layer {layer}) imports from higher layers: {upward}"


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_holds_two_rooms(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines (at most {MAX_LINES})"


def test_every_module_imports_on_its_own():
    names = [_name(path) for path in _modules() if path.name != "__main__.py"]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'codette_lab' or m.startswith('codette_lab.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        print(f'{name}: {type(exc).__name__}: {exc}')\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "", f"modules that do not import first in a fresh state:\n{run.stdout}"


def _defines_an_exception(node: ast.ClassDef) -> bool:
    names = {base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in node.bases}
    return any(name.endswith(("Error", "Exception")) or name == "Exception" for name in names)


def test_every_exception_class_lives_in_errors_py():
    strays = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}"
        for path in _modules()
        if path.name != "errors.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and _defines_an_exception(node)
    ]
    assert not strays, f"exception classes outside codette_lab/errors.py: {strays}"


def test_the_core_imports_none_of_the_extras():
    """The server, the command line, replays and ``analyze`` load no library of the ``lab`` or ``corpus`` extras
    (pyproject.toml), so a core install runs them; tests/test_core_install.py installs it for real."""
    script = (
        "import sys\n"
        "import codette_lab, codette_lab.cli, codette_lab.server, codette_lab.recording, codette_lab.engine\n"
        "from codette_lab import analyze, RuleSet, serve\n"
        "from codette_lab.extras import EXTRAS\n"
        "codette_lab.cli.build_parser()\n"
        "loaded = {name.partition('.')[0] for name in sys.modules}\n"
        "print(sorted(loaded & {module for modules in EXTRAS.values() for module in modules}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", f"the core imports extras' libraries: {run.stdout}"
