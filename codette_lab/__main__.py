"""``python -m codette_lab``: the same command line as ``codette-lab``."""

from .cli import run

run()
