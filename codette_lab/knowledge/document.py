"""Reading a knowledge-base document: every field checked at load, every error naming the entry and field.

The document is read once through the shared path-tracking reader
(:mod:`codette_lab.protocol.fields`), so a bad file fails when it is loaded
("entry 12 (id 'kick-eq'): field 'entries[12].topic' is missing") rather than
with a ``KeyError`` in the middle of a chat answer. The texts chat fills in
are checked as templates here too: each may name only the placeholders chat
provides for it (:data:`TEXT_FIELDS`, :data:`LEVEL_FIELDS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..errors import KnowledgeError
from ..protocol.fields import Reader
from ..tracktypes import INSTRUMENT_TABLE, INSTRUMENTS, TRACK_TYPES, spoken_aliases
from .figures import figure_problem
from .teaching import Teaching, read_teaching
from .templates import check_template
from .vocabulary import Vocabulary

FORMAT = "codette-knowledge/1"

#: The top-level fields a document may have.
SECTIONS = (
    "format", "about", "perspectives", "topics", "calibration", "cues", "texts", "teaching", "vocabulary", "entries",
)  # fmt: skip

_PEAK = frozenset({"peak", "headroom", "target"})
_FINDING = frozenset({"value", "threshold", "over", "under"})
_DYNAMICS = frozenset({"rms", "crest"})
#: The remedy amounts the rules derive (chat.levels.REMEDY_FIGURES): the trim to the headroom mark, the lift to the
#: track type's RMS target.
_REMEDY = frozenset({"trim", "lift"})

#: The texts chat fills in and the placeholders each may name.
TEXT_FIELDS: Mapping[str, frozenset[str]] = {
    "redirect": frozenset({"topics"}),
    "greeting": frozenset({"topics"}),
    "follow_up": frozenset({"previous"}),
    "selected_track": frozenset({"name", "kind", "count"}),
    "selected_track_alone": frozenset({"name", "kind"}),
    "matching_tracks": frozenset({"names", "count"}),
    "session_size": frozenset({"count"}),
    "session_review": frozenset({"count", "notes"}),
    "session_review_clean": frozenset({"count"}),
    "review_track": frozenset({"name", "kind", "notes"}),
    "review_more": frozenset({"names"}),
    "review_others": frozenset({"names"}),
    "review_unmeasured": frozenset({"names"}),
    "review_loudest": frozenset({"loud", "loud_rms", "quiet", "quiet_rms"}),
    "compare_rms": frozenset({"loud", "quiet", "gap"}),
    "compare_rms_same": frozenset({"first", "second"}),
    "thanks": frozenset({"topics"}),
    "help": frozenset({"topics"}),
    "review_tone": frozenset(),
    "review_no_session": frozenset(),
    "review_limited": frozenset({"shown", "count"}),
    "related": frozenset({"title", "text"}),
    "answer": frozenset({"title", "text"}),
    "continued": frozenset({"title", "text"}),
    "measure": frozenset({"meaning"}),
}

#: Texts a document may leave out (a custom one gets the built-in text, the built-in one none).
OPTIONAL_TEXT_FIELDS = frozenset(
    {
        "selected_track_alone",
        "session_review",
        "session_review_clean",
        "review_track",
        "review_more",
        "review_others",
        "review_unmeasured",
        "review_loudest",
        "compare_rms",
        "compare_rms_same",
        "thanks",
        "help",
        "review_tone",
        "review_no_session",
        "review_limited",
        "continued",
        "measure",
    }
)

#: The sentences about a selected track's levels (``texts.levels``) and their placeholders. The two
#: ``*_rules`` groups word the findings of rules by rule id: ``peak_rules`` for the peak sentence,
#: ``dynamics_rules`` for the RMS and crest-factor sentence.
LEVEL_FIELDS: Mapping[str, frozenset[str]] = {
    "full_scale": _PEAK | _FINDING | _REMEDY,
    "healthy": _PEAK,
    "peak": _PEAK,
    "quiet": _PEAK | {"raise_by"},
    "crest": _DYNAMICS | {"peak"},
    "by_peaks": _PEAK | _DYNAMICS | {"rms_target", "rms_at_target"},
    "rms": frozenset({"rms"}),
    "fader": frozenset({"volume"}),
    "muted": frozenset(),
    "soloed": frozenset(),
}
#: Level texts a custom document may leave out (added after documents were written; chat skips them).
OPTIONAL_LEVEL_FIELDS = frozenset({"by_peaks"})
RULE_TEXT_GROUPS = ("peak_rules", "dynamics_rules")
RULE_TEXT_FIELDS = _PEAK | _FINDING | _DYNAMICS | _REMEDY

#: Placeholders filled with words rather than numbers (the rest get a number when a template is tried).
_WORD_FIELDS = frozenset({"topics", "previous", "name", "kind", "names", "title", "text", "notes", "loud", "quiet"})

#: Every name in the track-type table (instruments and their aliases): a document may not redefine one.
_TABLE_NAMES = frozenset({*INSTRUMENTS, *(alias for _, aliases in INSTRUMENT_TABLE.values() for alias in aliases)})


class _KnowledgeTexts:
    """The knowledge base's error texts, as :class:`~codette_lab.protocol.fields.ErrorTexts`."""

    def __init__(self, where: str = "") -> None:
        self.where = where

    def _at(self, path: str) -> str:
        return f"Knowledge base{self.where}: field '{path}'"

    def missing(self, path: str, expected: str) -> KnowledgeError:
        return KnowledgeError(f"{self._at(path)} is missing (expected {expected})")

    def invalid(self, path: str, expected: str, value: object) -> KnowledgeError:
        shown = repr(value) if isinstance(value, (str, int, float, bool)) else type(value).__name__
        return KnowledgeError(f"{self._at(path)}: expected {expected}, got {shown}")

    out_of_range = invalid

    def problem(self, path: str, text: str) -> KnowledgeError:
        return KnowledgeError(f"{self._at(path)}: {text}")


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


def _calibration(root: Reader) -> Calibration:
    section = root.object("calibration", None)
    if section is None:
        return Calibration()
    names = tuple(field.name for field in fields(Calibration))
    _refuse_unknown(section, names)
    defaults = Calibration()
    return Calibration(**{name: section.number(name, getattr(defaults, name)) for name in names})


@dataclass(frozen=True)
class Document:
    """A knowledge-base document as read and checked (the parts :class:`KnowledgeBase` builds on)."""

    vocabulary: Vocabulary
    entries: tuple[KnowledgeEntry, ...]
    perspectives: Mapping[str, Mapping[str, str]]
    topics: Mapping[str, str]
    texts: Mapping[str, Any]
    calibration: Calibration
    cues: Mapping[str, tuple[bool, tuple[str, ...]]]
    teaching: Teaching


def _texts(root: Reader, defaults: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``texts`` section; a custom document may leave texts out and gets the built-in ones (``defaults``)."""
    texts = root.object("texts", None) if defaults is not None else root.object("texts")
    if texts is None:
        return dict(defaults or {})
    default_levels = defaults.get("levels", {}) if defaults is not None else None
    result: dict[str, Any] = {}
    for key, allowed in TEXT_FIELDS.items():
        if (defaults is not None or key in OPTIONAL_TEXT_FIELDS) and not texts.has(key):
            result[key] = (defaults or {}).get(key)
        else:
            result[key] = check_template(texts, key, allowed, words=_WORD_FIELDS)
    levels = texts.object("levels", None) if default_levels is not None else texts.object("levels")
    result["levels"] = _levels(levels) if levels is not None else default_levels
    _refuse_unknown(texts, (*TEXT_FIELDS, "levels"))
    return result


def _levels(levels: Reader) -> dict[str, Any]:
    result: dict[str, Any] = {
        key: check_template(levels, key, allowed, words=_WORD_FIELDS)
        for key, allowed in LEVEL_FIELDS.items()
        if key not in OPTIONAL_LEVEL_FIELDS or levels.has(key)
    }
    for group in RULE_TEXT_GROUPS:
        words = levels.object(group)
        result[group] = {
            rule_id: check_template(words, rule_id, RULE_TEXT_FIELDS, words=_WORD_FIELDS)
            for rule_id, _ in words.items()
        }
    _refuse_unknown(levels, (*LEVEL_FIELDS, *RULE_TEXT_GROUPS))
    return result


def _teaching(root: Reader, default: Teaching | None) -> Teaching:
    """The document's ``teaching`` section, or ``default`` when it has none (and may leave it out)."""
    if default is None or root.has("teaching"):
        return read_teaching(root.object("teaching"))
    return default


def _refuse_unknown(reader: Reader, known: tuple[str, ...]) -> None:
    for key in reader.get(None):
        if key not in known:
            raise reader.problem(key, f"is not a known field (expected one of: {', '.join(known)})")


def _words(reader: Reader, key: str) -> dict[str, str]:
    section = reader.object(key, None)
    return {} if section is None else {name: value.text(None, non_empty=True) for name, value in section.items()}


def _instruments(vocabulary: Reader) -> tuple[dict[str, str], dict[str, str]]:
    """(alias -> instrument, instrument -> family): the shared table's spoken names plus the document's own."""
    aliases, families = spoken_aliases(), {name: kind for name, kind in INSTRUMENTS.items() if kind != name}
    extra = vocabulary.object("instruments", None)
    for name, spec in extra.items() if extra is not None else ():
        family = spec.choice("family", TRACK_TYPES) if spec.has("family") else None
        for alias in (name, *spec.strings("aliases", required=False)):
            if alias.lower() in _TABLE_NAMES:
                raise spec.problem(
                    None, f"names {alias!r}, already a name in the track-type table (codette_lab.tracktypes)"
                )
            aliases[alias.lower()] = name
        if family is not None:
            families[name] = family
    return aliases, families


def _vocabulary(root: Reader) -> Vocabulary:
    vocabulary = root.object("vocabulary")
    aliases, families = _instruments(vocabulary)
    phrases, synonyms = _words(vocabulary, "phrases"), _words(vocabulary, "synonyms")
    stopwords = vocabulary.strings("stopwords", required=False)
    for section, words in (("phrases", phrases), ("synonyms", synonyms)):
        for word, target in words.items():
            clash = word if word.lower() in aliases else target if target.lower() in aliases else None
            if clash is not None:
                where = vocabulary.child(section, words)
                raise where.problem(
                    word, f"uses the instrument name {clash!r}: instrument names live in codette_lab.tracktypes"
                )
    _refuse_unknown(vocabulary, ("stopwords", "phrases", "synonyms", "instruments", "regions"))
    return Vocabulary.build(
        stopwords=stopwords,
        phrases=phrases,
        synonyms=synonyms,
        aliases=aliases,
        families=families,
        regions=_regions(vocabulary),
    )


def _regions(vocabulary: Reader) -> dict[str, tuple[float, float]]:
    """word -> (lowest, highest Hz): a frequency a question gives in that range is read as the word too
    (``vocabulary.regions``)."""
    section = vocabulary.object("regions", None)
    if section is None:
        return {}
    regions: dict[str, tuple[float, float]] = {}
    for word, bounds in section.items():
        values = bounds.data
        if not (isinstance(values, list) and len(values) == 2 and all(map(_positive, values))):
            raise bounds.problem(None, f"expected [lowest Hz, highest Hz], two numbers above 0, got {values!r}")
        low, high = float(values[0]), float(values[1])
        if high <= low:
            raise bounds.problem(None, f"ends at {high:g} Hz, not above where it starts ({low:g} Hz)")
        regions[word] = (low, high)
    return regions


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@dataclass(frozen=True)
class _Known:
    """What an entry may name: instruments, and (when the document lists them) topics and perspectives."""

    instruments: frozenset[str]
    topics: frozenset[str] | None
    perspectives: frozenset[str] | None


def _one_of(reader: Reader, key: str, value: str, known: frozenset[str] | None, what: str) -> None:
    if known is not None and value not in known:
        raise reader.problem(key, f"names {value!r}, not {what} (expected one of: {', '.join(sorted(known))})")


def _entry(raw: Reader, index: int, known: _Known) -> KnowledgeEntry:
    entry_id = raw.text("id", non_empty=True)
    entry = Reader(raw.data, _KnowledgeTexts(f" entry {index} (id {entry_id!r})"), raw.path)
    facets = entry.object("facets")
    texts = {name: text.text(None, non_empty=True) for name, text in facets.items()}
    if not texts:
        raise facets.problem(None, "has no texts (expected one non-empty text per perspective)")
    for name, text in texts.items():
        _one_of(facets, name, name, known.perspectives, "a perspective of the document")
        problem = figure_problem(text)
        if problem is not None:
            raise facets.problem(name, problem)
    topic = entry.text("topic", non_empty=True)
    _one_of(entry, "topic", topic, known.topics, "a topic of the document")
    instruments = entry.strings("instruments", required=False)
    for position, instrument in enumerate(instruments):
        _one_of(entry, f"instruments[{position}]", instrument, known.instruments, "an instrument")
    _refuse_unknown(entry, ("id", "topic", "title", "instruments", "keywords", "facets"))
    return KnowledgeEntry(
        id=entry_id,
        topic=topic,
        title=entry.text("title", non_empty=True),
        instruments=instruments,
        keywords=entry.strings("keywords", required=False),
        facets=texts,
    )


def _cue_phrases(cue: Reader) -> tuple[str, ...]:
    phrases = cue.strings("phrases")
    if not phrases or not all(phrase.strip() for phrase in phrases):
        raise cue.problem("phrases", "needs at least one phrase, none of them empty")
    return phrases


def read_document(
    document: Any, *, default_texts: Mapping[str, Any] | None, default_teaching: Teaching | None = None
) -> Document:
    """The checked parts of a decoded knowledge-base document; KnowledgeError names what is wrong and where.

    ``default_texts`` are the texts a document may leave out (None: it must have them all, as the built-in must);
    ``default_teaching`` the ``teaching`` section it may leave out (None: it must have one).
    """
    root = Reader(document, _KnowledgeTexts())
    if not isinstance(document, dict):
        raise root.fail(None, "an object", document)
    if root.has("format") and root.text("format") != FORMAT:
        raise root.fail("format", f"'{FORMAT}'", root.get("format"))
    _refuse_unknown(root, SECTIONS)
    root.text("about", None)
    vocabulary = _vocabulary(root)
    topics = _words(root, "topics")
    perspectives = root.object("perspectives", None)
    known = _Known(
        instruments=frozenset(vocabulary.instrument_aliases.values()),
        topics=frozenset(topics) if root.has("topics") else None,
        perspectives=frozenset(name for name, _ in perspectives.items()) if perspectives is not None else None,
    )
    entries = tuple(_entry(raw, index, known) for index, raw in enumerate(root.array("entries")))
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry.id in first_index:
            raise root.problem(
                f"entries[{index}].id", f"repeats the id {entry.id!r} of entries[{first_index[entry.id]}]"
            )
        first_index[entry.id] = index
    cues = root.object("cues", None)
    return Document(
        vocabulary=vocabulary,
        entries=entries,
        perspectives={}
        if perspectives is None
        else {name: {"description": spec.text("description", non_empty=True)} for name, spec in perspectives.items()},
        topics=topics,
        texts=_texts(root, default_texts),
        teaching=_teaching(root, default_teaching),
        calibration=_calibration(root),
        cues={}
        if cues is None
        else {name: (spec.flag("at_start", False), _cue_phrases(spec)) for name, spec in cues.items()},
    )
