"""The curated mixing knowledge base and the retrieval that answers questions from it.

The knowledge itself is data (``data/knowledge_base.json``): entries with a
topic, the instruments they concern, keywords and one text per perspective
(``facets``), plus the vocabulary that turns a question into search terms
(stop words, phrases such as "high pass", synonyms such as "vox"; instrument
names come from the track-type table). This module ranks entries with BM25
over weighted fields, so improving an answer means editing the data, not code.

Ranking is pure Python over a small inverted index: well under a millisecond
per question once the base is built, and the base is built once per process
(:meth:`KnowledgeBase.builtin`).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import KnowledgeError
from .document import Document, KnowledgeEntry, read_document
from .spelling import Speller, words_of
from .vocabulary import ParsedText

#: BM25 parameters: term-frequency saturation and length normalisation.
BM25_K1 = 1.2
BM25_B = 0.5

#: The short fields that say what an entry is about, and how strongly a word in each marks it.
#: A question word found there adds ``HEAD_BOOST * weight * idf`` on top of BM25 over the facet texts.
HEAD_FIELDS = {"title": 1.0, "keywords": 0.8, "topic": 0.6, "instruments": 0.6}
HEAD_BOOST = 2.0

#: Score multipliers for how an entry's instruments relate to the question's.
INSTRUMENT_FACTORS = {"exact": 1.4, "family": 1.2, "general": 1.0, "unasked": 0.85, "other": 0.45}
#: The multiplier for an entry about other instruments when the query's instruments only steer (the selected
#: track's, not named in the question): as for a question naming none, so "explain sidechain compression" with a
#: vocal selected still finds side-chaining (written for kick and bass), not a vocal entry that mentions it.
STEERED_OTHER_FACTOR = INSTRUMENT_FACTORS["unasked"]


@dataclass(frozen=True)
class Query:
    """What to look for: weighted terms plus instruments.

    Instruments in ``instruments`` steer the ranking (entries about them rank
    higher, entries about other instruments lower); to also count them as
    words of the question, put their names in ``terms``.
    """

    terms: Mapping[str, float]
    instruments: tuple[str, ...] = ()
    #: True when ``instruments`` only steer (the selected track's, not asked for): entries about other
    #: instruments are then held down no more than for a question naming none (:data:`STEERED_OTHER_FACTOR`).
    steer_only: bool = False
    #: Instruments the question implies without naming them ("how loud should my mix be?": the master): when it
    #: names or is steered by none, entries about these rank as general ones instead of as unasked.
    implied: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """An entry and how well it matched: ``score`` and ``coverage`` (weighted share of the query's terms it holds)."""

    entry: KnowledgeEntry
    score: float
    coverage: float


@dataclass(frozen=True)
class Ranking:
    """The best entries for a query, best first, and a confidence in [0.05, 0.98] for the best one.

    ``recognised`` is the weighted share of the query's terms that occur anywhere in the base.
    """

    hits: tuple[Hit, ...]
    confidence: float
    on_topic: bool
    recognised: float = 0.0

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


@dataclass
class _Index:
    """BM25 postings over the facet texts, plus the head-field weight of each term per entry."""

    body: dict[str, dict[int, float]] = field(default_factory=dict)
    head: dict[str, dict[int, float]] = field(default_factory=dict)
    lengths: list[float] = field(default_factory=list)
    average_length: float = 1.0
    frequency: dict[str, int] = field(default_factory=dict)

    def idf(self, term: str) -> float:
        documents = len(self.lengths)
        frequency = self.frequency.get(term, 0)
        return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))

    def score(self, term: str) -> Iterator[tuple[int, float]]:
        """(entry position, unweighted score) for every entry holding ``term``."""
        idf = self.idf(term)
        body, head = self.body.get(term, {}), self.head.get(term, {})
        for position in body.keys() | head.keys():
            frequency = body.get(position, 0.0)
            norm = 1.0 - BM25_B + BM25_B * self.lengths[position] / self.average_length
            bm25 = frequency * (BM25_K1 + 1.0) / (frequency + BM25_K1 * norm)
            yield position, idf * (bm25 + HEAD_BOOST * head.get(position, 0.0))


class KnowledgeBase:
    """The entries of a knowledge-base document and a ranking over them.

    >>> base = KnowledgeBase.builtin()
    >>> base.search("how do I de-ess a vocal").best.entry.id
    'vocal-de-essing'
    """

    def __init__(self, document: Any) -> None:
        """A base from a decoded document; texts it leaves out are the built-in base's. KnowledgeError if malformed."""
        builtin = _builtin_base()
        self._use(read_document(document, default_texts=builtin.texts, default_teaching=builtin.teaching))

    def _use(self, document: Document) -> None:
        self.vocabulary = document.vocabulary
        self.entries: tuple[KnowledgeEntry, ...] = document.entries
        self.perspectives: Mapping[str, Mapping[str, str]] = document.perspectives
        self.topics: Mapping[str, str] = document.topics
        self.texts: Mapping[str, Any] = document.texts
        self.calibration = document.calibration
        self.teaching = document.teaching
        self._cues = {name: _cue_pattern(at_start, phrases) for name, (at_start, phrases) in document.cues.items()}
        self._by_id = {entry.id: entry for entry in self.entries}
        self._positions = {entry.id: position for position, entry in enumerate(self.entries)}
        self._instruments = [frozenset(entry.instruments) for entry in self.entries]
        self._families = [frozenset(map(self.vocabulary.family, entry.instruments)) for entry in self.entries]
        self._index = self._build_index()
        self._text_words = frozenset(
            word
            for entry in self.entries
            for text in (entry.title, *entry.keywords, *entry.facets.values())
            for word in words_of(text)
        )
        self._speller = Speller(self._vocabulary_words(), known=self._is_known)

    # -- loading -----------------------------------------------------------------

    @classmethod
    def builtin(cls) -> KnowledgeBase:
        """The curated base shipped in the package (built once per process)."""
        return _builtin_base()

    @classmethod
    def load(cls, path: str | PathLike[str]) -> KnowledgeBase:
        """A base from a JSON file of the same shape as ``data/knowledge_base.json``."""
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KnowledgeError(f"Cannot read knowledge base {str(path)!r}: {exc}") from None
        return cls(document)

    # -- reading -----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[KnowledgeEntry]:
        return iter(self.entries)

    def __contains__(self, entry_id: object) -> bool:
        """Whether the base has an entry with this id."""
        return entry_id in self._by_id

    def get(self, entry_id: str) -> KnowledgeEntry:
        """The entry with this id; KeyError names the id when there is none."""
        return self._by_id[entry_id]

    def parse(self, text: str) -> ParsedText:
        """The content terms and instruments of a text, as ranking sees them (typing slips mended: "compresion"; a
        frequency read as its region too: "300 Hz" asks about the low mids)."""
        return self.vocabulary.parse(self.vocabulary.with_regions(self._speller.mend(text)))

    def mentions(self, entry_id: str, term: str) -> bool:
        """Whether the entry with this id holds ``term`` (an index key, as :meth:`parse` gives) in any of its texts."""
        position = self._positions.get(entry_id)
        index = self._index
        return position is not None and (position in index.body.get(term, {}) or position in index.head.get(term, {}))

    def instrument_of(self, text: str) -> str | None:
        """The first instrument a text names (a track type or name such as ``Lead Vox``), or None."""
        for word in self.vocabulary.words(self._speller.mend(text)):
            instrument = self.vocabulary.instrument(word)
            if instrument is not None:
                return instrument
        return None

    def has_cue(self, kind: str, text: str) -> bool:
        """Whether ``text`` holds one of the base's cue phrases of ``kind`` (``follow_up``, ``selection``)."""
        pattern = self._cues.get(kind)
        return bool(pattern and pattern.search(text.lower()))

    def without_cue(self, kind: str, text: str) -> str | None:
        """``text`` (lower-cased) without its cue phrases of ``kind``; None when it holds none: what a question
        asks besides "how is my mix?" ("... for streaming")."""
        pattern = self._cues.get(kind)
        lowered = text.lower()
        if pattern is None or not pattern.search(lowered):
            return None
        return pattern.sub(" ", lowered)

    # -- ranking -----------------------------------------------------------------

    def search(self, text: str, *, instruments: Iterable[str] = (), limit: int = 3) -> Ranking:
        """The entries that best answer ``text``; ``instruments`` adds instruments the text itself may not name."""
        parsed = self.parse(text)
        named = tuple(dict.fromkeys((*parsed.instruments, *instruments)))
        terms = {term: 1.0 for term in parsed.terms}
        for instrument in named:
            terms.setdefault(self.vocabulary.instrument_term(instrument), 1.0)
        return self.rank(Query(terms=terms, instruments=named), limit=limit)

    def rank(self, query: Query, *, limit: int = 3) -> Ranking:
        """BM25 over the texts plus head-field matches, scaled by how each entry's instruments fit the query's."""
        index = self._index
        scores: defaultdict[int, float] = defaultdict(float)
        matched: defaultdict[int, float] = defaultdict(float)
        total_weight = known_weight = 0.0
        for term, weight in query.terms.items():
            total_weight += weight
            known_weight += weight if term in index.frequency else 0.0
            for position, score in index.score(term):
                scores[position] += weight * score
                matched[position] += weight
        ranked = []
        families = {self.vocabulary.family(instrument) for instrument in query.instruments}
        for position, score in scores.items():
            entry = self.entries[position]
            fit = self._instrument_fit(position, query.instruments, families, query.implied)
            factor = STEERED_OTHER_FACTOR if fit == "other" and query.steer_only else INSTRUMENT_FACTORS[fit]
            coverage = matched[position] / total_weight if total_weight else 0.0
            ranked.append((score * factor, coverage, entry.id, entry))
        ranked.sort(key=lambda item: (-item[0], -item[1], item[2]))
        hits = tuple(Hit(entry=entry, score=score, coverage=cov) for score, cov, _, entry in ranked[:limit])
        recognised = known_weight / total_weight if total_weight else 0.0
        confidence = self._confidence(hits[0] if hits else None, recognised)
        return Ranking(
            hits=hits, confidence=confidence, on_topic=confidence >= self.calibration.on_topic, recognised=recognised
        )

    def _instrument_fit(
        self, position: int, instruments: tuple[str, ...], families: set[str | None], implied: tuple[str, ...] = ()
    ) -> str:
        """How the entry at ``position`` fits the asked ``instruments`` (whose families are ``families``; with none,
        an entry about an ``implied`` one fits as a general one)."""
        own = self._instruments[position]
        if not own:
            return "general"
        if not instruments:
            return "general" if own.intersection(implied) else "unasked"
        if any(instrument in own for instrument in instruments):
            return "exact"
        if families & own or (families - {None}) & self._families[position]:
            return "family"
        return "other"

    def _confidence(self, hit: Hit | None, recognised: float) -> float:
        calibration = self.calibration
        if hit is None:
            return calibration.floor
        strength = 1.0 / (1.0 + math.exp(-(hit.score - calibration.midpoint) / calibration.width))
        fit = (recognised + hit.coverage) / 2
        value = calibration.floor + (calibration.ceiling - calibration.floor) * fit**2 * strength
        return round(min(calibration.ceiling, max(calibration.floor, value)), 3)

    def _build_index(self) -> _Index:
        index = _Index()
        for position, entry in enumerate(self.entries):
            heads = {
                "title": entry.title,
                "keywords": " ".join(entry.keywords),
                "topic": self.topics.get(entry.topic, entry.topic),
                "instruments": " ".join(entry.instruments),
            }
            for name, text in heads.items():
                for term in self._all_terms(text):
                    weights = index.head.setdefault(term, {})
                    weights[position] = max(weights.get(position, 0.0), HEAD_FIELDS[name])
            frequencies = Counter(self._all_terms(" ".join(entry.facets.values()), unique=False))
            for term, frequency in frequencies.items():
                index.body.setdefault(term, {})[position] = float(frequency)
            index.lengths.append(float(sum(frequencies.values())))
        index.average_length = sum(index.lengths) / max(1, len(index.lengths))
        for term in index.body.keys() | index.head.keys():
            index.frequency[term] = len(index.body.get(term, {}).keys() | index.head.get(term, {}).keys())
        return index

    def _vocabulary_words(self) -> Iterator[str]:
        """The words a question's slip may be of, repeats included: the base's titles, keywords, topics,
        synonyms, phrases, instrument names and measure names (not the ordinary English of its texts)."""
        vocabulary = self.vocabulary
        texts = [
            *(text for entry in self.entries for text in (entry.title, *entry.keywords)),
            *self.topics.values(),
            *vocabulary.synonyms.keys(),
            *vocabulary.synonyms.values(),
            *vocabulary.phrases.keys(),
            *vocabulary.instrument_aliases.keys(),
            *(name for words in self.teaching.metrics.values() for name in words.called),
        ]
        for text in texts:
            yield from words_of(text)

    def _is_known(self, word: str) -> bool:
        """Whether a word needs no mending: a word of the base's texts, a stop word, an instrument's name or a form
        of a term of the index."""
        vocabulary = self.vocabulary
        return (
            word in self._text_words
            or word in vocabulary.stopwords
            or vocabulary.instrument(word) is not None
            or vocabulary.term(word) in self._index.frequency
        )

    def _all_terms(self, text: str, *, unique: bool = True) -> list[str]:
        """Every index key of a text, instrument names included, in order (with repeats unless ``unique``)."""
        vocabulary = self.vocabulary
        keys = []
        for word in vocabulary.words(text):
            instrument = vocabulary.instrument(word)
            key = vocabulary.instrument_term(instrument) if instrument else vocabulary.term(word)
            if not word.isdigit() and key not in vocabulary.stopwords:
                keys.append(key)
        return list(dict.fromkeys(keys)) if unique else keys


def _cue_pattern(at_start: bool, phrases: Iterable[str]) -> re.Pattern[str]:
    """Cue phrases as one regex over lower-cased text (``at_start``: only at the start of the text)."""
    alternatives = "|".join(re.escape(phrase) for phrase in sorted((p.lower() for p in phrases), key=len, reverse=True))
    return re.compile(rf"{'^[^a-z]*' if at_start else ''}\b(?:{alternatives})\b")


@cache
def _builtin_base() -> KnowledgeBase:
    text = resources.files("codette_lab").joinpath("data", "knowledge_base.json").read_text(encoding="utf-8")
    base = KnowledgeBase.__new__(KnowledgeBase)
    base._use(read_document(json.loads(text), default_texts=None))
    return base
