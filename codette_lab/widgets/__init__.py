"""ipywidgets panels over a :class:`~codette_lab.lab.Lab`: Chat, Monitor, Analysis and Rules tabs.

They are thin views: every button calls a public method (``panel.chat.send(...)``,
``panel.monitor.refresh()``, ``panel.analysis.run()``, ``panel.rules.reset()``,
``panel.rules.export(path)``), so code and tests drive them without a browser.
They use only what :class:`~codette_lab.widgets.interface.LabLike` declares.
"""

from ..extras import require

require("lab", "lab.panel()", ("ipywidgets", "matplotlib"))  # before ipywidgets is imported

from .analysis_panel import AnalysisPanel  # noqa: E402
from .chat_panel import ChatPanel  # noqa: E402
from .interface import LabLike  # noqa: E402
from .mainthread import MainThread  # noqa: E402
from .monitor_panel import MonitorPanel  # noqa: E402
from .panel import LabPanel  # noqa: E402
from .rules_panel import RulesPanel  # noqa: E402

__all__ = ["AnalysisPanel", "ChatPanel", "LabLike", "LabPanel", "MainThread", "MonitorPanel", "RulesPanel"]
