"""The curated mixing knowledge base: reading and checking it, and ranking its entries for a question.

``vocabulary`` turns text into search terms (instrument names from the shared
track-type table), ``document`` reads and checks a knowledge-base file, and
``base`` holds :class:`KnowledgeBase` with its BM25 ranking.
"""

from .base import Hit, KnowledgeBase, Query, Ranking
from .document import Calibration, KnowledgeEntry
from .vocabulary import ParsedText, Vocabulary, stem

__all__ = [
    "Calibration",
    "Hit",
    "KnowledgeBase",
    "KnowledgeEntry",
    "ParsedText",
    "Query",
    "Ranking",
    "Vocabulary",
    "stem",
]
