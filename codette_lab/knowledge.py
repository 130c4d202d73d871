"""The curated mixing knowledge base and the retrieval that answers questions from it.

The knowledge itself is data (``data/knowledge_base.json``): entries with a
topic, the instruments they concern, keywords and one text per perspective
(``facets``), plus the vocabulary that turns a question into search terms
(stop words, phrases such as "high pass", synonyms such as "vox", instrument
aliases). This module only reads that file and ranks entries with BM25 over
weighted fields, so improving an answer means editing the data, not code.

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

from .errors import CodetteError

#: BM25 parameters: term-frequency saturation and length normalisation.
BM25_K1 = 1.2
BM25_B = 0.5

#: The short fields that say what an entry is about, and how strongly a word in each marks it.
#: A question word found there adds ``HEAD_BOOST * weight * idf`` on top of BM25 over the facet texts.
HEAD_FIELDS = {"title": 1.0, "keywords": 0.8, "topic": 0.6, "instruments": 0.6}
HEAD_BOOST = 2.0

#: Score multipliers for how an entry's instruments relate to the question's.
INSTRUMENT_FACTORS = {"exact": 1.4, "family": 1.2, "general": 1.0, "unasked": 0.85, "other": 0.45}

_WORD = re.compile(r"[a-z0-9]+")
_LETTER_HYPHEN = re.compile(r"(?<=[a-z])[-/](?=[a-z])")


class KnowledgeError(CodetteError):
    """A knowledge-base file that does not have the expected shape."""


def stem(word: str) -> str:
    """A light suffix stripper: vocals->vocal, panning->pan, compression->compress, gates/gating->gat.

    Not linguistics: the same function runs over the base and the question, so
    it only has to map a word's common forms onto one key.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement, keep in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            word = word[: len(word) - len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] and word[-1] in "bdgmnprt":
                word = word[:-1]
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


#: (suffix, replacement, shortest stem kept) tried in order; the first match applies.
#: The "ss", "us" and "is" rows change nothing: they keep "bass", "bus" and "chorus" whole.
_SUFFIXES = (
    ("ations", "at", 3),
    ("ation", "at", 3),
    ("ssions", "ss", 3),
    ("ssion", "ss", 3),
    ("ies", "y", 3),
    ("ness", "", 3),
    ("ing", "", 3),
    ("ed", "", 3),
    ("ly", "", 4),
    ("ss", "ss", 2),
    ("us", "us", 2),
    ("is", "is", 2),
    ("s", "", 3),
)


@dataclass(frozen=True)
class KnowledgeEntry:
    """One piece of mixing knowledge, told once per perspective (``facets``)."""

    id: str
    topic: str
    title: str
    instruments: tuple[str, ...]
    keywords: tuple[str, ...]
    facets: Mapping[str, str]

    def facet(self, perspective: str, *, fallback: str = "mix_engineering") -> str:
        """The entry's text for ``perspective`` (the ``fallback`` perspective's text if it has none)."""
        return self.facets.get(perspective) or self.facets.get(fallback) or next(iter(self.facets.values()))


@dataclass(frozen=True)
class ParsedText:
    """A text as the base reads it: content terms (stemmed) and the instruments it names."""

    terms: tuple[str, ...]
    instruments: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """What to look for: weighted terms plus instruments.

    Instruments in ``instruments`` steer the ranking (entries about them rank
    higher, entries about other instruments lower); to also count them as
    words of the question, put their names in ``terms``.
    """

    terms: Mapping[str, float]
    instruments: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class Calibration:
    """How match strength becomes confidence.

    ``floor + (ceiling - floor) * fit**2 * logistic((score - midpoint) / width)``
    where ``fit`` averages the share of the question's words the base knows at
    all and the share the best entry holds (so one mixing word in an otherwise
    foreign question stays low); a best score near ``midpoint`` lands in the
    middle and several specific words push it towards ``ceiling``. Questions
    below ``on_topic`` get the polite redirect instead of an answer.
    """

    floor: float = 0.05
    ceiling: float = 0.98
    midpoint: float = 3.5
    width: float = 1.2
    on_topic: float = 0.3


@dataclass(frozen=True)
class Vocabulary:
    """Turns text into terms: stop words, multi-word phrases, synonyms and instrument aliases."""

    stopwords: frozenset[str]
    phrases: Mapping[str, str]
    phrase_pattern: re.Pattern[str] | None
    synonyms: Mapping[str, str]
    instrument_aliases: Mapping[str, str]
    instrument_families: Mapping[str, str]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Vocabulary:
        phrases = {phrase.lower(): token for phrase, token in document.get("phrases", {}).items()}
        longest_first = sorted(phrases, key=len, reverse=True)
        pattern = re.compile(rf"\b(?:{'|'.join(map(re.escape, longest_first))})\b") if phrases else None
        synonyms: dict[str, str] = {}
        for word, canonical in document.get("synonyms", {}).items():
            synonyms[word] = canonical
            synonyms.setdefault(stem(word), canonical)
        aliases: dict[str, str] = {}
        families: dict[str, str] = {}
        for name, spec in document.get("instruments", {}).items():
            for alias in (name, *spec.get("aliases", ())):
                aliases[stem(alias)] = name
                aliases[alias] = name
            if spec.get("family"):
                families[name] = spec["family"]
        return cls(
            stopwords=frozenset(document.get("stopwords", ())),
            phrases=phrases,
            phrase_pattern=pattern,
            synonyms=synonyms,
            instrument_aliases=aliases,
            instrument_families=families,
        )

    def words(self, text: str) -> list[str]:
        """Lower-cased words with phrases joined (``high-pass`` and ``high pass`` -> ``highpass``), no stop words."""
        text = _LETTER_HYPHEN.sub(" ", text.lower())
        if self.phrase_pattern is not None:
            text = self.phrase_pattern.sub(lambda match: self.phrases[match.group(0)], text)
        return [word for word in _WORD.findall(text) if word not in self.stopwords]

    def term(self, word: str) -> str:
        """The index key of one word: synonyms resolved, then stemmed."""
        canonical = self.synonyms.get(word)
        if canonical is None:
            stemmed = stem(word)
            canonical = self.synonyms.get(stemmed, stemmed)
        return stem(canonical)

    def instrument(self, word: str) -> str | None:
        """The instrument a word names (``vox`` -> ``vocal``, ``toms`` -> ``toms``), or None."""
        return self.instrument_aliases.get(word) or self.instrument_aliases.get(stem(word))

    def family(self, instrument: str) -> str | None:
        """The broader instrument an instrument belongs to (``kick`` -> ``drums``)."""
        return self.instrument_families.get(instrument)

    def parse(self, text: str) -> ParsedText:
        terms: list[str] = []
        instruments: list[str] = []
        for word in self.words(text):
            instrument = self.instrument(word)
            if instrument is not None:
                if instrument not in instruments:
                    instruments.append(instrument)
                continue
            term = self.term(word)
            if not word.isdigit() and term not in self.stopwords and term not in terms:
                terms.append(term)
        return ParsedText(terms=tuple(terms), instruments=tuple(instruments))

    def instrument_term(self, instrument: str) -> str:
        """The index key an instrument's name has in the text of the base."""
        return stem(instrument)


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

    def __init__(self, document: Mapping[str, Any]) -> None:
        try:
            self.vocabulary = Vocabulary.from_document(document["vocabulary"])
            self.entries: tuple[KnowledgeEntry, ...] = tuple(_entry(raw) for raw in document["entries"])
            self.perspectives: Mapping[str, Mapping[str, str]] = dict(document.get("perspectives", {}))
            self.topics: Mapping[str, str] = dict(document.get("topics", {}))
            self.texts: Mapping[str, Any] = dict(document.get("texts", {}))
            self.levels: Mapping[str, float] = dict(document.get("levels", {}))
            self.calibration = Calibration(**document.get("calibration", {}))
            self._cues = {name: _cue_pattern(spec) for name, spec in document.get("cues", {}).items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise KnowledgeError(f"Knowledge base is malformed: {type(exc).__name__}: {exc}") from None
        self._by_id = {entry.id: entry for entry in self.entries}
        if len(self._by_id) != len(self.entries):
            duplicates = [key for key, count in Counter(e.id for e in self.entries).items() if count > 1]
            raise KnowledgeError(f"Knowledge base has duplicate entry ids: {', '.join(duplicates)}")
        self._index = self._build_index()

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

    def get(self, entry_id: str) -> KnowledgeEntry:
        """The entry with this id; KeyError names the id when there is none."""
        return self._by_id[entry_id]

    def parse(self, text: str) -> ParsedText:
        """The content terms and instruments of a text, as ranking sees them."""
        return self.vocabulary.parse(text)

    def instrument_of(self, text: str) -> str | None:
        """The first instrument a text names (a track type or name such as ``Lead Vox``), or None."""
        for word in self.vocabulary.words(text):
            instrument = self.vocabulary.instrument(word)
            if instrument is not None:
                return instrument
        return None

    def has_cue(self, kind: str, text: str) -> bool:
        """Whether ``text`` holds one of the base's cue phrases of ``kind`` (``follow_up``, ``selection``)."""
        pattern = self._cues.get(kind)
        return bool(pattern and pattern.search(text.lower()))

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
        for position, score in scores.items():
            entry = self.entries[position]
            factor = INSTRUMENT_FACTORS[self._instrument_fit(entry, query.instruments)]
            coverage = matched[position] / total_weight if total_weight else 0.0
            ranked.append((score * factor, coverage, entry.id, entry))
        ranked.sort(key=lambda item: (-item[0], -item[1], item[2]))
        hits = tuple(Hit(entry=entry, score=score, coverage=cov) for score, cov, _, entry in ranked[:limit])
        recognised = known_weight / total_weight if total_weight else 0.0
        confidence = self._confidence(hits[0] if hits else None, recognised)
        return Ranking(
            hits=hits, confidence=confidence, on_topic=confidence >= self.calibration.on_topic, recognised=recognised
        )

    def _instrument_fit(self, entry: KnowledgeEntry, instruments: tuple[str, ...]) -> str:
        if not entry.instruments:
            return "general"
        if not instruments:
            return "unasked"
        if any(instrument in entry.instruments for instrument in instruments):
            return "exact"
        families = {self.vocabulary.family(instrument) for instrument in instruments}
        members = {self.vocabulary.family(instrument) for instrument in entry.instruments}
        if families & set(entry.instruments) or (families - {None}) & members:
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


def _cue_pattern(spec: Mapping[str, Any]) -> re.Pattern[str]:
    """``{"phrases": [...], "at_start": bool}`` as one regex over lower-cased text."""
    phrases = sorted((str(phrase).lower() for phrase in spec["phrases"]), key=len, reverse=True)
    alternatives = "|".join(re.escape(phrase) for phrase in phrases)
    return re.compile(rf"{'^[^a-z]*' if spec.get('at_start') else ''}\b(?:{alternatives})\b")


def _entry(raw: Mapping[str, Any]) -> KnowledgeEntry:
    facets = dict(raw["facets"])
    if not facets or not all(isinstance(text, str) and text.strip() for text in facets.values()):
        raise ValueError(f"entry {raw.get('id')!r} needs non-empty facet texts")
    return KnowledgeEntry(
        id=str(raw["id"]),
        topic=str(raw["topic"]),
        title=str(raw["title"]),
        instruments=tuple(raw.get("instruments", ())),
        keywords=tuple(raw.get("keywords", ())),
        facets=facets,
    )


@cache
def _builtin_base() -> KnowledgeBase:
    text = resources.files("codette_lab").joinpath("data", "knowledge_base.json").read_text(encoding="utf-8")
    return KnowledgeBase(json.loads(text))
