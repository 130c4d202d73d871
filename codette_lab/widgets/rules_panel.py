"""The Rules tab: a slider for every tunable heuristic, grouped by track type, live on ``lab.rules``.

Moving a slider sets ``lab.rules[name]`` (the next request uses it); code
that sets ``lab.rules[...]`` (or loads, or resets) moves the sliders back in
step, through the rule set's change notifications marshalled to the main thread.
"""

from __future__ import annotations

import contextlib
import html
import math
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..errors import CodetteError
from .mainthread import Coalescer, MainThread

if TYPE_CHECKING:
    from ..rules.model import Parameter
    from .interface import LabLike

#: Where :meth:`RulesPanel.export` writes when the path box is left as it is.
DEFAULT_EXPORT_PATH = "tuned_rules.json"


def _decimals(step: float) -> int:
    """How many decimals a value moving by ``step`` needs (1 -> 0, 0.5 -> 1, 0.05 -> 2)."""
    return max(0, -math.floor(math.log10(step))) if step > 0 else 3


def _slider(parameter: Parameter) -> widgets.FloatSlider:
    unit = f" ({parameter.unit})" if parameter.unit else ""
    return widgets.FloatSlider(
        value=parameter.value,
        min=parameter.minimum,
        max=parameter.maximum,
        step=parameter.step or None,
        description=parameter.name.split(".", 1)[-1] + unit,
        tooltip=f"{parameter.name}: {parameter.description} (default {parameter.default:g})",
        continuous_update=False,
        readout_format=f".{_decimals(parameter.step)}f",
        style={"description_width": "200px"},
        layout=widgets.Layout(width="520px"),
    )


class RulesPanel(widgets.VBox):
    """Sliders per parameter in an Accordion of groups; :meth:`reset` and :meth:`export` are the buttons."""

    def __init__(self, lab: LabLike, *, main: MainThread | None = None) -> None:
        self.lab = lab
        self.main = main or MainThread()
        self.sliders: dict[str, widgets.FloatSlider] = {}
        self._names: dict[int, str] = {}  # id(slider) -> parameter name
        self._syncing = False
        boxes = []
        for parameters in lab.rules.groups().values():
            for parameter in parameters:
                slider = self.sliders[parameter.name] = _slider(parameter)
                self._names[id(slider)] = parameter.name
                slider.observe(self._on_slider, names="value")
            boxes.append(widgets.VBox([self.sliders[parameter.name] for parameter in parameters]))
        self.groups = widgets.Accordion(children=boxes, titles=tuple(lab.rules.groups()))
        self.status = widgets.HTML()
        self.reset_button = widgets.Button(description="Reset to defaults", icon="undo")
        self.path = widgets.Text(value=DEFAULT_EXPORT_PATH, description="Export to")
        self.export_button = widgets.Button(description="Export", icon="save")
        self.reset_button.on_click(lambda _: self.reset())
        self.export_button.on_click(self._export_clicked)
        self._follow = Coalescer(self.main, self.refresh)
        lab.rules.on_change(self._on_rules_changed)
        super().__init__(
            [
                widgets.HBox([self.reset_button, self.path, self.export_button]),
                self.status,
                self.groups,
            ]
        )

    def values(self) -> dict[str, float]:
        """What the sliders show, by parameter name."""
        return {name: slider.value for name, slider in self.sliders.items()}

    def set(self, name: str, value: float) -> None:
        """Move one slider, as a user would (sets ``lab.rules[name]``)."""
        self.sliders[name].value = value

    def refresh(self) -> None:
        """Move the sliders to the rule set's current values (without writing them back)."""
        current: Mapping[str, Any] = {parameter.name: parameter.value for parameter in self.lab.rules.parameters()}
        self._syncing = True
        try:
            for name, slider in self.sliders.items():
                if name in current and slider.value != current[name]:
                    slider.value = current[name]
        finally:
            self._syncing = False

    def reset(self) -> None:
        """Every parameter back to its default (the sliders follow through the change notification)."""
        self.lab.rules.reset()
        self._say("All parameters are back to their defaults.")

    def export(self, path: str | PathLike[str] | None = None) -> Path:
        """Write the tuned rules to ``path`` (default: the path box); ``codette-lab serve --rules`` loads it."""
        target = Path(path if path is not None else self.path.value).expanduser()
        try:
            self.lab.rules.export(target)
        except (CodetteError, OSError) as exc:
            self._say(f"Export failed: {exc}", error=True)
            raise
        self._say(f"Exported to <code>{html.escape(str(target.resolve()))}</code>")
        return target

    def close(self) -> None:
        self.lab.rules.remove_on_change(self._on_rules_changed)
        super().close()

    def _on_slider(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        name = self._names[id(change["owner"])]
        try:
            self.lab.rules[name] = change["new"]
        except CodetteError as exc:
            self._say(str(exc), error=True)
            return
        self._say(f"<code>{html.escape(name)}</code> = {change['new']:g}")

    def _export_clicked(self, _: widgets.Button) -> None:
        """The Export button: like :meth:`export`, but a failure is only shown in the status line."""
        with contextlib.suppress(CodetteError, OSError):  # export() has put the reason in the status line
            self.export()

    def _on_rules_changed(self, changes: dict[str, float]) -> None:
        """The rule set changed (from code, a slider, a reset or a load): realign the sliders."""
        if self.main.is_current():
            self.refresh()
        else:
            self._follow.request()

    def _say(self, text: str, *, error: bool = False) -> None:
        colour = "#a00" if error else "#080"
        self.status.value = f"<span style='color:{colour}'>{text}</span>"
