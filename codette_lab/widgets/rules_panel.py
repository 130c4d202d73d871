"""The Rules tab: a slider for every tunable heuristic, grouped by track type, live on ``lab.rules``.

Each parameter is one row: a readable name with its unit once, the slider, a
marker when the value differs from the default with a button to reset just
that one, and the description underneath. Moving a slider sets
``lab.rules[name]`` (the next request uses it); code that sets
``lab.rules[...]`` (or loads, or resets) moves the sliders back in step,
through the rule set's change notifications marshalled to the main thread.
The top row loads and exports rule files; *Changes* lists what differs from
the defaults, and *Before / after* re-runs the Analysis tab's last analysis
with the rules as they are now (see :class:`~.rules_compare.RulesComparison`).
"""

from __future__ import annotations

import contextlib
import html
import math
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..errors import CodetteError
from ..rules import RuleSet
from .mainthread import Coalescer, MainThread
from .rules_compare import RulesComparison
from .saving import OverwriteQuestion, default_name, save_clicked

if TYPE_CHECKING:
    from ..rules.model import Parameter
    from .analysis_panel import Outcome
    from .interface import LabLike

#: Where :meth:`RulesPanel.export` writes (and :meth:`RulesPanel.load` reads) when the path box is left as it is:
#: a name of the notebook's own (see :func:`~.saving.default_name`).
DEFAULT_EXPORT_NAME = "rules.json"

#: The marker shown next to a value that differs from its default.
CHANGED = "&#9679;"


def _decimals(step: float) -> int:
    """How many decimals a value moving by ``step`` needs (1 -> 0, 0.5 -> 1, 0.05 -> 2)."""
    return max(0, -math.floor(math.log10(step))) if step > 0 else 3


def readable_name(parameter: Parameter) -> str:
    """``vocal.comp_attack_ms`` -> ``comp attack (ms)``: words, and the unit once."""
    words = parameter.name.split(".", 1)[-1].split("_")
    unit = parameter.unit
    if len(words) > 1 and unit and words[-1] == unit.lower():
        words = words[:-1]
    return " ".join(words) + (f" ({unit})" if unit else "")


class ParameterRow(widgets.VBox):
    """One parameter: name, slider, changed marker, reset button, description."""

    def __init__(self, parameter: Parameter) -> None:
        self.parameter = parameter
        self.label = widgets.HTML(
            f"<span title='{html.escape(parameter.name)}'>{html.escape(readable_name(parameter))}</span>",
            layout=widgets.Layout(width="190px", min_width="120px"),
        )
        self.slider = widgets.FloatSlider(
            value=parameter.value,
            min=parameter.minimum,
            max=parameter.maximum,
            step=parameter.step or None,
            continuous_update=False,
            readout_format=f".{_decimals(parameter.step)}f",
            layout=widgets.Layout(flex="1 1 200px", min_width="160px", max_width="420px"),
        )
        self.marker = widgets.HTML(layout=widgets.Layout(width="16px"))
        self.reset_button = widgets.Button(
            icon="undo", tooltip=f"back to the default, {parameter.default:g}", layout=widgets.Layout(width="34px")
        )
        self.description = widgets.HTML(
            f"<div style='color:#666;font-size:11px;margin:0 0 6px 4px;overflow-wrap:anywhere'>"
            f"{html.escape(parameter.description)} (default {parameter.default:g})</div>"
        )
        self.show(parameter.value)
        super().__init__(
            [
                widgets.HBox(
                    [self.label, self.slider, self.marker, self.reset_button],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self.description,
            ]
        )

    def show(self, value: float) -> None:
        """Mark the row as changed (or not) for ``value``."""
        changed = not math.isclose(value, self.parameter.default)
        self.marker.value = f"<span style='color:#c60' title='changed'>{CHANGED}</span>" if changed else ""
        self.reset_button.disabled = not changed


class RulesPanel(widgets.VBox):
    """Rows per parameter in an Accordion of groups; :meth:`reset`, :meth:`load` and :meth:`export` are the buttons."""

    def __init__(
        self,
        lab: LabLike,
        *,
        main: MainThread | None = None,
        last_analysis: Callable[[], Outcome | None] | None = None,
    ) -> None:
        self.lab = lab
        self.main = main or MainThread()
        self.rows: dict[str, ParameterRow] = {}
        self._names: dict[int, str] = {}  # id(slider) -> parameter name
        self._syncing = False
        boxes = []
        for parameters in lab.rules.groups().values():
            for parameter in parameters:
                row = self.rows[parameter.name] = ParameterRow(parameter)
                self._names[id(row.slider)] = parameter.name
                row.slider.observe(self._on_slider, names="value")
                row.reset_button.on_click(lambda _, name=parameter.name: self.reset(name))
            boxes.append(widgets.VBox([self.rows[parameter.name] for parameter in parameters]))
        self.groups = widgets.Accordion(children=boxes, titles=tuple(lab.rules.groups()))
        self.status = widgets.HTML()
        self.changes = widgets.HTML()
        self.reset_button = widgets.Button(description="Reset all", icon="undo")
        self.path = widgets.Text(value=default_name(DEFAULT_EXPORT_NAME), description="Rule file")
        self.question = OverwriteQuestion()
        self.path.add_class("codette-rules-path")
        self.load_button = widgets.Button(description="Load", icon="folder-open")
        self.export_button = widgets.Button(description="Export", icon="save")
        self.comparison = RulesComparison(lab, self.main, last_analysis)
        self.reset_button.on_click(lambda _: self.reset())
        self.load_button.on_click(lambda _: self._file_action(self.load))
        self.export_button.on_click(
            lambda _: save_clicked(
                self.question,
                self.path.value,
                lambda overwrite: self.export(overwrite=overwrite),
                lambda text: self._say(text, error=True),
            )
        )
        self._follow = Coalescer(self.main, self.refresh)
        lab.rules.on_change(self._on_rules_changed)
        self._show_changes()
        super().__init__(
            [
                widgets.HBox(
                    [self.path, self.load_button, self.export_button, self.reset_button],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                self.question,
                self.status,
                widgets.HTML("<b>Changes</b> from the defaults"),
                self.changes,
                self.comparison,
                self.groups,
            ],
            layout=widgets.Layout(overflow="hidden"),
        )

    @property
    def sliders(self) -> dict[str, widgets.FloatSlider]:
        return {name: row.slider for name, row in self.rows.items()}

    def values(self) -> dict[str, float]:
        """What the sliders show, by parameter name."""
        return {name: row.slider.value for name, row in self.rows.items()}

    def set(self, name: str, value: float) -> None:
        """Move one slider, as a user would (sets ``lab.rules[name]``)."""
        self.rows[name].slider.value = value

    def refresh(self) -> None:
        """Move the sliders to the rule set's current values (without writing them back) and mark the changes."""
        current: Mapping[str, Any] = {parameter.name: parameter.value for parameter in self.lab.rules.parameters()}
        self._syncing = True
        try:
            for name, row in self.rows.items():
                if name in current and row.slider.value != current[name]:
                    row.slider.value = current[name]
                row.show(row.slider.value)
        finally:
            self._syncing = False
        self._show_changes()

    def reset(self, name: str | None = None) -> None:
        """One parameter, or every one, back to its default (the sliders follow through the change notification)."""
        self.lab.rules.reset(name)
        which = f"<code>{html.escape(name)}</code> is" if name else "All parameters are"
        self._say(f"{which} back to the default.")

    def load(self, path: str | PathLike[str] | None = None) -> Path:
        """Load a rule file (default: the path box) into the live rules; an error names that file."""
        target = Path(path if path is not None else self.path.value).expanduser()
        try:
            loaded = RuleSet.load(target)
        except OSError as exc:
            raise CodetteError(f"Cannot load rules from {target}: {exc.strerror or exc}") from None
        self.lab.rules.replace(loaded)
        self._say(f"Loaded <code>{html.escape(str(target.resolve()))}</code>")
        return target

    def export(self, path: str | PathLike[str] | None = None, *, overwrite: bool = False) -> Path:
        """Write the tuned rules to ``path`` (default: the path box); ``codette-lab serve --rules`` loads it.

        A file there that this Lab did not write is replaced only with ``overwrite=True`` (the button asks).
        """
        target = Path(path if path is not None else self.path.value).expanduser()
        try:
            self.lab.rules.export(target, overwrite=overwrite)
        except (CodetteError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise CodetteError(f"Export to {target} failed: {reason}") from None
        self._say(f"Exported to <code>{html.escape(str(target.resolve()))}</code>")
        return target

    def close(self) -> None:
        self.lab.rules.remove_on_change(self._on_rules_changed)
        super().close()

    def _file_action(self, action: Callable[[], Path]) -> None:
        """A Load or Export click: like the method, but a failure is only shown in the status line."""
        with contextlib.suppress(CodetteError):  # the status line says why
            try:
                action()
            except CodetteError as exc:
                self._say(html.escape(str(exc)), error=True)
                raise

    def _on_slider(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        name = self._names[id(change["owner"])]
        try:
            self.lab.rules[name] = change["new"]
        except CodetteError as exc:
            self._say(html.escape(str(exc)), error=True)
            return
        self._say(f"<code>{html.escape(name)}</code> = {change['new']:g}")

    def _on_rules_changed(self, changes: dict[str, float]) -> None:
        """The rule set changed (from code, a slider, a reset or a load): realign the sliders, compare."""
        if self.main.is_current():
            self.refresh()
        else:
            self._follow.request()
        self.comparison.request()

    def _show_changes(self) -> None:
        """The table of :meth:`RuleSet.diff`: every parameter that differs from its default."""
        self.changes.value = self.lab.rules.diff()._repr_html_()

    def _say(self, text: str, *, error: bool = False) -> None:
        colour = "#a00" if error else "#080"
        self.status.value = f"<span style='color:{colour};overflow-wrap:anywhere'>{text}</span>"
