"""How the knowledge base reads text: stemming, phrases, synonyms and the instruments a text names.

The instrument names are not the knowledge base's own: they come from the one
table of :mod:`codette_lab.tracktypes` (the names analysis reads track types
with), less the names that mean something else in a sentence. A multi-word
name becomes a phrase only when its words alone would not name that
instrument ("kick drum" must not read as kick and drums; "acoustic guitar"
needs no phrase and keeps "acoustic" as a word to search for).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+")
_LETTER_HYPHEN = re.compile(r"(?<=[a-z])[-/](?=[a-z])")
#: A frequency as people write it: "300 Hz", "3k", "2.5 kHz", a range "200-500 Hz" or "2 to 5 kHz".
_FREQUENCY = re.compile(r"\b(\d+(?:\.\d+)?)(?:\s*(?:-|to)\s*(\d+(?:\.\d+)?))?\s*(khz|hz|k)\b")

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

#: The last letters a word must end with for :func:`stem` to change it (a suffix's, or the dropped "e").
_STEMMED_ENDINGS = frozenset({suffix[-1] for suffix, _, _ in _SUFFIXES} | {"e"})


def stem(word: str) -> str:
    """A light suffix stripper: vocals->vocal, panning->pan, compression->compress, gates/gating->gat.

    Not linguistics: the same function runs over the base and the question, so
    it only has to map a word's common forms onto one key.
    """
    if len(word) <= 3 or word[-1] not in _STEMMED_ENDINGS or word.isdigit():
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


@dataclass(frozen=True)
class ParsedText:
    """A text as the base reads it: content terms (stemmed) and the instruments it names."""

    terms: tuple[str, ...]
    instruments: tuple[str, ...]


def _word_lookup(aliases: Mapping[str, str]) -> dict[str, str]:
    """Single-word alias (and its stem) -> instrument."""
    lookup: dict[str, str] = {}
    for alias, instrument in aliases.items():
        if " " not in alias:
            lookup.setdefault(stem(alias), instrument)
            lookup[alias] = instrument
    return lookup


def _instrument_phrases(
    aliases: Mapping[str, str], words: Mapping[str, str], stopwords: Iterable[str]
) -> dict[str, str]:
    """Multi-word aliases whose own words would not name just their instrument -> that instrument's name."""
    ignored = frozenset(stopwords)
    phrases: dict[str, str] = {}
    for alias, instrument in aliases.items():
        if " " not in alias:
            continue
        named = {words.get(word) or words.get(stem(word)) for word in alias.split() if word not in ignored}
        if named - {None} != {instrument}:
            phrases[alias] = instrument
    return phrases


@dataclass(frozen=True)
class Vocabulary:
    """Turns text into terms: stop words, multi-word phrases, synonyms and instrument names."""

    stopwords: frozenset[str]
    phrases: Mapping[str, str]
    phrase_pattern: re.Pattern[str] | None
    synonyms: Mapping[str, str]
    instrument_aliases: Mapping[str, str]
    instrument_families: Mapping[str, str]
    #: (lowest Hz, highest Hz, word): the word a frequency in that range stands for in a question.
    regions: tuple[tuple[float, float, str], ...] = ()

    @classmethod
    def build(
        cls,
        *,
        stopwords: Iterable[str],
        phrases: Mapping[str, str],
        synonyms: Mapping[str, str],
        aliases: Mapping[str, str],
        families: Mapping[str, str],
        regions: Mapping[str, tuple[float, float]] | None = None,
    ) -> Vocabulary:
        """A vocabulary from its parts; ``aliases`` maps every name of an instrument (itself included) to it;
        ``regions`` maps a word to the frequency range (Hz) it names ("mud": 150-500)."""
        stop = frozenset(stopwords)
        words = _word_lookup(aliases)
        joined = {phrase.lower(): token for phrase, token in phrases.items()}
        joined.update(_instrument_phrases(aliases, words, stop))
        longest_first = sorted(joined, key=len, reverse=True)
        pattern = re.compile(rf"\b(?:{'|'.join(map(re.escape, longest_first))})\b") if joined else None
        canonical: dict[str, str] = {}
        for word, target in synonyms.items():
            canonical[word] = target
            canonical.setdefault(stem(word), target)
        return cls(
            stopwords=stop,
            phrases=joined,
            phrase_pattern=pattern,
            synonyms=canonical,
            instrument_aliases=words,
            instrument_families=dict(families),
            regions=tuple(sorted((low, high, word) for word, (low, high) in (regions or {}).items())),
        )

    def with_regions(self, text: str) -> str:
        """``text`` with the word of its region after each frequency it gives: "cut at 300 Hz" reads as "cut at 300
        Hz mud", so a question asks about the range the frequency lies in even where no entry writes that number
        ("3k" is written "3 khz", as the base writes it). A range ("200-500 Hz") stands for its geometric middle;
        a frequency outside every region (a sample rate) is left alone."""
        if not self.regions:
            return text

        def named(match: re.Match[str]) -> str:
            scale = 1.0 if match.group(3) == "hz" else 1000.0
            low = float(match.group(1)) * scale
            high = float(match.group(2)) * scale if match.group(2) else low
            hz = (low * high) ** 0.5
            words = [word for bottom, top, word in self.regions if bottom <= hz < top]
            given = match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")
            return " ".join((given, "hz" if match.group(3) == "hz" else "khz", *words))

        return _FREQUENCY.sub(named, text.lower())

    def words(self, text: str) -> list[str]:
        """Lower-cased words with phrases joined (``high-pass`` and ``high pass`` -> ``highpass``), no stop words."""
        text = _LETTER_HYPHEN.sub(" ", text.lower())
        if self.phrase_pattern is not None:
            text = self.phrase_pattern.sub(lambda match: self.phrases[match.group(0)], text)
        return [word for word in _WORD.findall(text) if word not in self.stopwords]

    def term(self, word: str, stemmed: str | None = None) -> str:
        """The index key of one word: synonyms resolved, then stemmed (``stemmed``: ``stem(word)`` if known)."""
        canonical = self.synonyms.get(word)
        if canonical is None:
            stemmed = stem(word) if stemmed is None else stemmed
            canonical = self.synonyms.get(stemmed, stemmed)
        return stem(canonical)

    def instrument(self, word: str) -> str | None:
        """The instrument a word names (``vox`` -> ``vocal``, ``toms`` -> ``toms``), or None."""
        return self.instrument_aliases.get(word) or self.instrument_aliases.get(stem(word))

    def family(self, instrument: str) -> str | None:
        """The broader instrument an instrument belongs to (``kick`` -> ``drums``); None for a track type itself."""
        return self.instrument_families.get(instrument)

    def parse(self, text: str) -> ParsedText:
        """The text's terms and instruments, each once, in order of first mention.

        Linear in the length of the text (dicts keep the order and answer "seen already?" at once), so a
        message of many distinct words costs what its words cost.
        """
        terms: dict[str, None] = {}
        instruments: dict[str, None] = {}
        aliases = self.instrument_aliases
        for word in self.words(text):
            instrument, stemmed = aliases.get(word), None
            if instrument is None:
                stemmed = stem(word)
                instrument = aliases.get(stemmed)
            if instrument is not None:
                instruments[instrument] = None
            elif not word.isdigit():
                term = self.term(word, stemmed)
                if term not in self.stopwords:
                    terms[term] = None
        return ParsedText(terms=tuple(terms), instruments=tuple(instruments))

    def instrument_term(self, instrument: str) -> str:
        """The index key an instrument's name has in the text of the base."""
        return stem(instrument)
