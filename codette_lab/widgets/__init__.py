"""ipywidgets panels over a :class:`~codette_lab.lab.Lab`: Chat, Monitor, Analysis and Rules tabs.

They are thin views: every button calls a public method (``panel.chat.send(...)``,
``panel.monitor.refresh()``, ``panel.analysis.run()``, ``panel.rules.reset()``,
``panel.rules.export(path)``), so code and tests drive them without a browser.
"""

from .analysis import AnalysisPanel
from .chat import ChatPanel
from .mainthread import MainThread
from .monitor import MonitorPanel
from .panel import LabPanel
from .rules import RulesPanel

__all__ = ["AnalysisPanel", "ChatPanel", "LabPanel", "MainThread", "MonitorPanel", "RulesPanel"]
