"""``lab.panel()``: the four tabs in one ipywidgets Tab, following the Lab of its kernel.

After ``lab.stop()`` the tabs say the Lab is stopped and how to start it; when
a Lab of this kernel starts again (the same one, or the next ``Lab(...)`` of a
re-run start cell) the panel follows it: the same Lab's tabs refresh, a new
Lab's tabs are built over it in place, on the tab that was open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .analysis_panel import AnalysisPanel
from .chat_panel import ChatPanel
from .mainthread import MainThread
from .monitor_panel import MonitorPanel
from .rules_panel import RulesPanel

if TYPE_CHECKING:
    from .interface import LabLike


class LabPanel(widgets.Tab):
    """Chat, Monitor, Analysis and Rules over one Lab; each tab is also an attribute."""

    def __init__(self, lab: LabLike) -> None:
        self.main = MainThread()  # built in a cell: the kernel's main thread
        super().__init__(titles=("Chat", "Monitor", "Analysis", "Rules"))
        self._build(lab)
        self.add_class("codette-lab-panel")
        lab.when_started(self._on_lab_started)

    def _build(self, lab: LabLike) -> None:
        self.lab = lab
        self.chat = ChatPanel(lab, main=self.main)
        self.monitor = MonitorPanel(lab, main=self.main)
        self.analysis = AnalysisPanel(lab, main=self.main)
        self.rules = RulesPanel(lab, main=self.main, last_analysis=lambda: self.analysis.outcome)
        self.children = [self.chat, self.monitor, self.analysis, self.rules]
        self.titles = ("Chat", "Monitor", "Analysis", "Rules")

    def _on_lab_started(self, lab: Any) -> None:
        """Called by ``lab.start()``: follow that Lab (see the module's docstring)."""
        self.main.run(lambda: self.follow(lab))

    def follow(self, lab: LabLike) -> None:
        """Show ``lab``: refresh the tabs when it is this panel's Lab, else rebuild them over it."""
        if lab is self.lab:
            self.monitor.refresh()
            self.chat.refresh()
            return
        shown: int | None = getattr(self, "selected_index", None)
        old: list[Any] = list(self.children)
        self._build(lab)
        for tab in old:
            tab.close()
        self.selected_index = shown  # (this panel already hears of every Lab of the kernel that starts)

    def close(self) -> None:
        tabs: list[Any] = list(self.children)
        for tab in tabs:
            tab.close()
        super().close()
