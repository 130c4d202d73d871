"""A part whose optional libraries are missing says so in one line, with the pip command that brings them."""

from __future__ import annotations

import pytest

from codette_lab.errors import CodetteError, MissingExtraError
from codette_lab.extras import EXTRAS, install_command, require


def test_a_missing_library_is_named_with_the_command_that_installs_its_extra():
    with pytest.raises(MissingExtraError) as raised:
        require("corpus", "codette_lab.corpus.analyze()", ("pandas", "no_such_module_for_this_test"))
    text = str(raised.value)
    assert text == (
        "codette_lab.corpus.analyze() needs no_such_module_for_this_test, which is not installed: "
        "pip install 'codette-lab[corpus]'"
    )
    assert "\n" not in text
    assert isinstance(raised.value, CodetteError) and isinstance(raised.value, ImportError)
    assert raised.value._render_traceback_() == [f"MissingExtraError: {text}"]  # what IPython shows


def test_every_extra_is_installed_here_and_names_its_pip_command():
    for extra in EXTRAS:
        require(extra, f"the {extra} side")  # make install brings every extra
        assert install_command(extra) == f"pip install 'codette-lab[{extra}]'"
    with pytest.raises(ValueError, match="extra: expected one of"):
        require("gpu", "something")
