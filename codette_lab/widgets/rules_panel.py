"""The Rules tab: a slider for every tunable heuristic, grouped by track type, live on ``lab.rules``.

A group's rows are built when it is first opened (or one of its rows is asked for): see :class:`Rows`.

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
from collections.abc import Callable, Iterator, Mapping
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


class RowLook:
    """The layouts and styles every row of one panel shares: one model each, not one per row.

    A row made of its own layouts and styles is about twenty widget models; 174 parameters made
    a panel of 3,500 models, each a message on the kernel's output channel when the panel is shown, and
    a burst that large overflows what that channel buffers for a front end that is busy drawing: messages
    are dropped, the cell's end among them (the cell then never finishes). Shared, a row is seven models.
    """

    def __init__(self) -> None:
        self.label = widgets.Layout(width="190px", min_width="120px")
        self.slider = widgets.Layout(flex="1 1 200px", min_width="160px", max_width="420px")
        self.marker = widgets.Layout(width="16px")
        self.button = widgets.Layout(width="34px")
        self.line = widgets.Layout(flex_flow="row wrap", align_items="center")
        self.plain = widgets.Layout()
        template = widgets.HTML()  # ipywidgets does not export the HTML style's class: take one's own
        self.text = template.style
        template.close()
        self.slider_style = widgets.SliderStyle()
        self.button_style = widgets.ButtonStyle()


class ParameterRow(widgets.VBox):
    """One parameter: name, slider, changed marker, reset button, description."""

    def __init__(self, parameter: Parameter, look: RowLook | None = None) -> None:
        look = look or RowLook()
        self.parameter = parameter
        self.label = widgets.HTML(
            f"<span title='{html.escape(parameter.name)}'>{html.escape(readable_name(parameter))}</span>",
            layout=look.label,
            style=look.text,
        )
        self.slider = widgets.FloatSlider(
            value=parameter.value,
            min=parameter.minimum,
            max=parameter.maximum,
            step=parameter.step or None,
            continuous_update=False,
            readout_format=f".{_decimals(parameter.step)}f",
            layout=look.slider,
            style=look.slider_style,
        )
        self.marker = widgets.HTML(layout=look.marker, style=look.text)
        self.reset_button = widgets.Button(
            icon="undo",
            tooltip=f"back to the default, {parameter.default:g}",
            layout=look.button,
            style=look.button_style,
        )
        self.description = widgets.HTML(
            f"<div style='color:#666;font-size:11px;margin:0 0 6px 4px;overflow-wrap:anywhere'>"
            f"{html.escape(parameter.description)} (default {parameter.default:g})</div>",
            layout=look.plain,
            style=look.text,
        )
        self.show(parameter.value)
        super().__init__(
            [
                widgets.HBox([self.label, self.slider, self.marker, self.reset_button], layout=look.line),
                self.description,
            ],
            layout=look.plain,
        )

    def show(self, value: float) -> None:
        """Mark the row as changed (or not) for ``value``."""
        changed = not math.isclose(value, self.parameter.default)
        self.marker.value = f"<span style='color:#c60' title='changed'>{CHANGED}</span>" if changed else ""
        self.reset_button.disabled = not changed


class Rows(Mapping[str, ParameterRow]):
    """Every parameter's row by name, each group's rows built the first time one of them is needed.

    Opening a group in the Accordion builds its rows, and so does asking for one here (``rows[name]``,
    :meth:`RulesPanel.set`); iterating names builds nothing. A panel shows at once with none built, so
    showing it sends a few hundred widget models, not thousands (see :class:`RowLook`).
    """

    def __init__(self, groups: Mapping[str, list[Parameter]], build: Callable[[int], None]) -> None:
        self._group_of = {parameter.name: index for index, group in enumerate(groups.values()) for parameter in group}
        self._build = build
        self.built: dict[str, ParameterRow] = {}

    def __getitem__(self, name: str) -> ParameterRow:
        if name not in self.built:
            if name not in self._group_of:
                raise KeyError(name)
            self._build(self._group_of[name])
        return self.built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._group_of)

    def __len__(self) -> int:
        return len(self._group_of)


class Sliders(Mapping[str, widgets.FloatSlider]):
    """Every parameter's slider by name (built with its group, as :class:`Rows`)."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows

    def __getitem__(self, name: str) -> widgets.FloatSlider:
        return self._rows[name].slider

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class RulesPanel(widgets.VBox):
    """Rows per parameter in an Accordion of groups (each built when first opened, :class:`Rows`); :meth:`reset`,
    :meth:`load` and :meth:`export` are the buttons."""

    def __init__(
        self,
        lab: LabLike,
        *,
        main: MainThread | None = None,
        last_analysis: Callable[[], Outcome | None] | None = None,
    ) -> None:
        self.lab = lab
        self.main = main or MainThread()
        self._names: dict[int, str] = {}  # id(slider) -> parameter name
        self._syncing = False
        self._look = RowLook()
        grouped = lab.rules.groups()
        self._grouped = list(grouped.values())  # as the panel was built: rows keep their place whatever is loaded
        self.rows = Rows(grouped, self._build_group)
        self._boxes = [widgets.VBox(layout=self._look.plain) for _ in self._grouped]
        self.groups = widgets.Accordion(children=self._boxes, titles=tuple(grouped))
        self.groups.observe(self._on_group_opened, names="selected_index")
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
    def sliders(self) -> Sliders:
        """Every parameter's slider by name (a group's are built when one of them is asked for)."""
        return Sliders(self.rows)

    def values(self) -> dict[str, float]:
        """What the sliders show, by parameter name (a group not built yet would show the rules' values)."""
        built = self.rows.built
        return {
            parameter.name: built[parameter.name].slider.value
            if parameter.name in built
            else self._shown(parameter).value
            for group in self._grouped
            for parameter in group
        }

    def set(self, name: str, value: float) -> None:
        """Move one slider, as a user would (sets ``lab.rules[name]``)."""
        self.rows[name].slider.value = value

    def refresh(self) -> None:
        """Move the sliders to the rule set's current values (without writing them back) and mark the changes."""
        current: Mapping[str, Any] = {parameter.name: parameter.value for parameter in self.lab.rules.parameters()}
        self._syncing = True
        try:
            for name, row in self.rows.built.items():
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

    def _build_group(self, index: int) -> None:
        """Build one group's rows (at their current values) and put them in its Accordion box."""
        rows = []
        for parameter in self._grouped[index]:
            row = self.rows.built[parameter.name] = ParameterRow(self._shown(parameter), self._look)
            self._names[id(row.slider)] = parameter.name
            row.slider.observe(self._on_slider, names="value")
            row.reset_button.on_click(lambda _, name=parameter.name: self.reset(name))
            rows.append(row)
        self._boxes[index].children = rows

    def _shown(self, parameter: Parameter) -> Parameter:
        """A parameter as its row shows it: as the live rules have it now; one a loaded rule file lacks keeps its
        row as the panel was built (moving that slider says the rules do not know it)."""
        return self.lab.rules.parameter(parameter.name) if parameter.name in self.lab.rules else parameter

    def _on_group_opened(self, change: dict[str, Any]) -> None:
        index = change["new"]
        if index is not None and not self._boxes[index].children:
            self._build_group(index)

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
