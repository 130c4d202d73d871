"""The mixing heuristics as data: a :class:`RuleSet` loaded from JSON, tuned live, exported.

Every number and suggestion text of the heuristics lives in a rule file
(``default_rules.json`` here; ``RuleSet.export`` writes others), not in code.
"""

from ..errors import RulesError
from .diff import ParameterChange, RulesDiff
from .model import SEVERITIES, Finding, LoudnessTarget, Parameter
from .ruleset import RuleSet
from .snapshot import Coverage, RuleSnapshot

__all__ = [
    "SEVERITIES",
    "Coverage",
    "Finding",
    "LoudnessTarget",
    "Parameter",
    "ParameterChange",
    "RuleSet",
    "RuleSnapshot",
    "RulesDiff",
    "RulesError",
]
