"""``lab.panel()``: the four tabs in one ipywidgets Tab."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
        main = MainThread()  # built in a cell: the kernel's main thread
        self.lab = lab
        self.chat = ChatPanel(lab, main=main)
        self.monitor = MonitorPanel(lab, main=main)
        self.analysis = AnalysisPanel(lab, main=main)
        self.rules = RulesPanel(lab, main=main, last_analysis=lambda: self.analysis.outcome)
        super().__init__(
            children=[self.chat, self.monitor, self.analysis, self.rules],
            titles=("Chat", "Monitor", "Analysis", "Rules"),
        )
        self.add_class("codette-lab-panel")

    def close(self) -> None:
        for tab in self.children:
            tab.close()
        super().close()
