"""The curated mixing knowledge base: reading and checking it, and ranking its entries for a question.

``vocabulary`` turns text into search terms (instrument names from the shared
track-type table; a frequency a question gives also names its region, the
document's ``vocabulary.regions``: "300 Hz" asks about "mud"), ``document``
reads and checks a knowledge-base file, ``figures`` fills the numbers a text
borrows from the rule set, ``teaching`` holds the plain words of the
``teaching`` perspective, and ``base`` holds :class:`KnowledgeBase` with its
BM25 ranking.
"""

from .base import Hit, KnowledgeBase, Query, Ranking
from .document import Calibration, KnowledgeEntry
from .figures import fill_figures
from .teaching import MetricWords, RuleWords, Teaching
from .vocabulary import ParsedText, Vocabulary, stem

__all__ = [
    "Calibration",
    "Hit",
    "KnowledgeBase",
    "KnowledgeEntry",
    "MetricWords",
    "ParsedText",
    "Query",
    "Ranking",
    "RuleWords",
    "Teaching",
    "Vocabulary",
    "fill_figures",
    "stem",
]
