"""Typing slips in a question, mended before it is searched: "compresion on drums", "guitr sounds thin".

Students type fast. A word the knowledge base does not know at all (no word of its texts, keywords, synonyms or
instrument names, no stop word, no form of a known term) is read as the word of the base's own vocabulary (its
titles, keywords, synonyms, phrases, instrument names and measure names, not the ordinary English of its texts)
that one slip makes it (the optimal string alignment distance, rapidfuzz's ``OSA``): a letter left out, added or
swapped with its neighbour, a letter changed only in a long word, two slips only in a very long one, the first
letter always kept. What no such slip explains ("teacher", "said", "cello") stays an unknown word, which lowers the
answer's confidence as before. A wrong reading costs more than a missed one (a confident answer about something
else against an honest "I can't answer that one well"), so the rules lean to leaving a word alone: a similarity
ratio could not tell "delya" (delay) from "cello" (hello), both 0.8, and a changed letter turns short words into
others ("game" into "gate", "scream" into "stream", "clarinet" into "clavinet"). The rules were chosen on two lists
of slips and ordinary words; ``tests/test_chat_spelling.py`` judges them on a third.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

#: Words shorter than this are never mended ("mx", "eq", "kik": too short to tell a slip from another word).
SHORTEST_MENDED = 4
#: Slips allowed in a word (OSA distance), by its length: one, and two from LONG_WORD letters on ("sidechaning";
#: "assignment" would need two to be "alignment" and is left alone)...
SLIPS = 1
LONG_WORD = 11
LONG_SLIPS = 2
#: ... and in a word shorter than this, a letter left out, added or swapped but not changed: one changed letter
#: turns a word into another too often ("game" into "gate", "scream" into "stream", "clarinet" into "clavinet").
CHANGED_LETTER_FROM = 10
#: At most this many words of one question are mended: a long message of unknown words costs no more than a short one.
MENDED_PER_TEXT = 8
#: Mended words remembered (a class asks the same slips again).
MEMORY = 4096

_WORD = re.compile(r"[a-z]+")


def words_of(text: str) -> list[str]:
    """The lower-case words of ``text``, as the speller reads and mends them (letters only)."""
    return _WORD.findall(text.lower())


class Speller:
    """Mends a question's unknown words into the knowledge base's vocabulary, set up once per base."""

    def __init__(self, vocabulary: Iterable[str], *, known: Callable[[str], bool]) -> None:
        """``vocabulary``: the words a slip may be of, repeats included (how often the base uses a word breaks a
        tie); ``known``: whether a word needs no mending (a word of the base's texts, a stop word, an instrument
        name, a form of a known term)."""
        # a mended word may be a letter shorter than the shortest word mended ("mudy" is "mud")
        uses = Counter(word for word in vocabulary if len(word) >= SHORTEST_MENDED - 1)
        self._uses = uses
        self._known = known
        self._by_initial: dict[str, list[str]] = {}
        for word in sorted(uses):
            self._by_initial.setdefault(word[0], []).append(word)
        self._mended: dict[str, str] = {}

    def mend(self, text: str) -> str:
        """``text`` lower-cased, its unknown words (up to :data:`MENDED_PER_TEXT`) replaced by the words of the
        vocabulary a slip makes them; the text as it was (lower-cased) when none is."""
        budget = [MENDED_PER_TEXT]

        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            if budget[0] <= 0 or len(word) < SHORTEST_MENDED or word in self._uses or self._known(word):
                return word
            budget[0] -= 1
            return self.closest(word)

        return _WORD.sub(replace, text.lower())

    def closest(self, word: str) -> str:
        """The vocabulary's word a slip makes ``word`` (the fewest slips, then the most used), or ``word``."""
        mended = self._mended.get(word)
        if mended is None:
            slips = LONG_SLIPS if len(word) >= LONG_WORD else SLIPS
            found = [
                (known, distance)
                for known, distance, _ in process.extract(
                    word, self._by_initial.get(word[0], ()), scorer=OSA.distance, score_cutoff=slips, limit=None
                )
                if len(word) >= CHANGED_LETTER_FROM or not _changes_a_letter(word, known)
            ]
            mended = min(found, key=lambda hit: (hit[1], -self._uses[hit[0]], hit[0]))[0] if found else word
            if len(self._mended) >= MEMORY:
                self._mended.clear()
            self._mended[word] = mended
        return mended


def _changes_a_letter(word: str, known: str) -> bool:
    """Whether ``known`` is ``word`` with a letter changed rather than left out, added or swapped with its
    neighbour (the same length, not the same letters)."""
    return len(word) == len(known) and sorted(word) != sorted(known)
