"""ipywidgets panels over a :class:`~codette_lab.lab.Lab`: Chat, Monitor, Analysis and Rules tabs.

They are thin views: every button calls a public method (``panel.chat.send(...)``,
``panel.monitor.refresh()``, ``panel.analysis.run()``, ``panel.rules.reset()``,
``panel.rules.export(path)``), so code and tests drive them without a browser.
They use only what :class:`~codette_lab.widgets.interface.LabLike` declares.
"""

from .analysis_panel import AnalysisPanel
from .chat_panel import ChatPanel
from .interface import LabLike
from .mainthread import MainThread
from .monitor_panel import MonitorPanel
from .panel import LabPanel
from .rules_panel import RulesPanel

__all__ = ["AnalysisPanel", "ChatPanel", "LabLike", "LabPanel", "MainThread", "MonitorPanel", "RulesPanel"]
