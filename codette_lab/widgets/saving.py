"""Saving files from the panels without losing anyone's work.

Each lesson's panels write under names of their own (the notebook's name,
which a Jupyter server gives its kernels as ``JPY_SESSION_NAME``: a rules file
exported in lesson 01 is ``01_quickstart_rules.json``, never another lesson's).
A save over a file this Lab did not write (or that changed since) is not done
silently: code passes ``overwrite=True``, a button click shows
:class:`OverwriteQuestion` and waits for *Replace*. A missing folder is an
error, not created behind the user's back. The same checks as a rule
export's (:func:`codette_lab.rules.files.writable_target`).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from os import PathLike
from pathlib import Path

import ipywidgets as widgets

from ..errors import CodetteError
from ..rules.files import remember_written, writable_target, written_here

#: What the kernel's notebook is called, as Jupyter servers tell a kernel they start.
NOTEBOOK_VARIABLE = "JPY_SESSION_NAME"


def default_name(what: str) -> str:
    """``01_quickstart_rules.json`` for ``what="rules.json"`` in lesson 01's kernel; ``codette_rules.json``
    where the notebook is not known."""
    notebook = os.environ.get(NOTEBOOK_VARIABLE)
    stem = Path(notebook).stem if notebook else "codette"
    return f"{stem}_{what}"


def needs_question(path: str | PathLike[str]) -> bool:
    """True when saving to ``path`` would replace a file this Lab did not write (or that changed since)."""
    target = Path(path).expanduser()
    return target.is_file() and not written_here(target)


def write_text(path: str | PathLike[str], text: str, *, overwrite: bool, what: str) -> Path:
    """Write ``text`` to ``path`` after the checks of the module's docstring; CodetteError naming the file."""
    target = writable_target(path, overwrite=overwrite, what=what)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CodetteError(f"Cannot save the {what} to {target}: {exc.strerror or exc}") from None
    remember_written(target)
    return target


class OverwriteQuestion(widgets.HBox):
    """ "``report.html`` exists and was not written by this Lab: [Replace] [Keep it]", shown only when asked."""

    def __init__(self) -> None:
        self.text = widgets.HTML()
        self.replace_button = widgets.Button(description="Replace", button_style="warning", icon="check")
        self.keep_button = widgets.Button(description="Keep it", icon="times")
        self._on_yes: Callable[[], None] | None = None
        self.replace_button.on_click(lambda _: self.answer(True))
        self.keep_button.on_click(lambda _: self.answer(False))
        super().__init__(
            [self.text, self.replace_button, self.keep_button],
            layout=widgets.Layout(display="none", flex_flow="row wrap"),
        )
        self.add_class("codette-overwrite-question")

    @property
    def asking(self) -> bool:
        return self._on_yes is not None

    def ask(self, path: str | PathLike[str], on_yes: Callable[[], None]) -> None:
        """Show the question about ``path``; *Replace* runs ``on_yes``, *Keep it* only hides the question."""
        where = html.escape(str(Path(path).expanduser().resolve()))
        self.text.value = (
            f"<span style='color:#a60;overflow-wrap:anywhere'><code>{where}</code> exists and was not written "
            "by this Lab. Replace it?</span>"
        )
        self._on_yes = on_yes
        self.layout.display = ""

    def answer(self, replace: bool) -> None:
        """What the buttons do (callable from code): replace (run the save) or keep the file as it is."""
        on_yes, self._on_yes = self._on_yes, None
        self.layout.display = "none"
        if replace and on_yes is not None:
            on_yes()


def save_clicked(
    question: OverwriteQuestion, path: str, save: Callable[[bool], Path], show_error: Callable[[str], None]
) -> None:
    """A Save/Export button: ask first when ``path`` holds a file this Lab did not write, then ``save(overwrite)``;
    a failure goes to ``show_error``."""

    def attempt(overwrite: bool) -> None:
        try:
            save(overwrite)
        except CodetteError as exc:
            show_error(html.escape(str(exc)))

    if needs_question(path):
        question.ask(path, lambda: attempt(True))
    else:
        attempt(False)
