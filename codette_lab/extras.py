"""The optional parts of the install and the one check that says which one is missing.

The core install (``pip install codette-lab``) is the server, the analysis and
the rules. The notebook side (the Lab, its panels) comes with the ``lab``
extra and the Dask side (``corpus``) with the ``corpus`` extra; pandas tables
come with either. Code that needs one calls :func:`require` before its first
import of those libraries, so a user without them reads one line naming what
is missing and the command that installs it, instead of a bare ImportError
from deep inside. The Ardour bridge's OSC library comes with the ``ardour`` extra.
"""

from __future__ import annotations

from importlib.util import find_spec

from .errors import MissingExtraError

#: The libraries each extra brings that the code imports (pyproject.toml's optional-dependencies).
EXTRAS: dict[str, tuple[str, ...]] = {
    "lab": ("ipykernel", "ipywidgets", "matplotlib", "pandas"),
    "corpus": ("dask", "distributed", "pandas", "pyarrow", "tqdm"),
    "ardour": ("pythonosc",),
}


def install_command(extra: str) -> str:
    """The shell command that installs ``extra``: ``pip install 'codette-lab[lab]'``."""
    return f"pip install 'codette-lab[{extra}]'"


def missing(modules: tuple[str, ...]) -> list[str]:
    """Those of ``modules`` (top-level import names) that cannot be imported here."""
    return [module for module in modules if find_spec(module) is None]


def require(extra: str, what: str, modules: tuple[str, ...] | None = None) -> None:
    """Raise :class:`MissingExtraError` unless ``modules`` (default: all of ``extra``'s) are installed.

    ``what`` names the part being used ("codette_lab.Lab", "lab.panel()"),
    for the message: ``lab.panel() needs ipywidgets, matplotlib, which are
    not installed: pip install 'codette-lab[lab]'``.
    """
    if extra not in EXTRAS:
        raise ValueError(f"extra: expected one of {sorted(EXTRAS)}, got {extra!r}")
    absent = missing(modules if modules is not None else EXTRAS[extra])
    if absent:
        names = ", ".join(absent)
        verb = "is" if len(absent) == 1 else "are"
        raise MissingExtraError(f"{what} needs {names}, which {verb} not installed: {install_command(extra)}")
