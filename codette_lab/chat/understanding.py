"""Understanding a question: what it is about once follow-ups, "this track" and the selected track count.

"And for the bass?" keeps the previous turn's topic words and swaps the
instrument; "how do I fix this track?" means the selected one; a question that
names no instrument is steered by the selected track's. The result,
:class:`Understanding`, holds the knowledge entries that answer it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..knowledge import KnowledgeBase, Query, Ranking
from ..memory import Turn
from .daw import DawContext, TrackView

#: Weights of the words that make up a query: the question's own, carried from the previous turn, ...
OWN_WEIGHT = 1.0
CARRIED_WEIGHT = 0.5
INSTRUMENT_WEIGHTS = {"question": 1.0, "selected": 0.5, "memory": 0.6}
#: ... and of the selected track's instrument when "this" or "it" points at it but the question's words alone find
#: nothing on topic ("how do I fix this track?" with keys selected): less, and "what reverb for this?" with a
#: guitar selected got the guitar's EQ; more, and "fix" alone matched nothing to say about the keys.
SELECTED_ALONE_WEIGHT = 0.8

#: The instruments a question about the whole mix implies ("how loud should my mix be?"): the mix is what the
#: master bus carries, so entries about the master answer it as well as general ones do.
MIX_INSTRUMENTS = ("master",)

#: The knowledge base's cues of a message that stands on its own even with no topic words: it never continues the
#: previous topic ("thanks", "hi", "what can you do?", "how is my mix?").
STANDALONE_CUES = ("thanks", "greeting", "help", "review")

#: A question with at most this many words of its own, all found in the entry the previous answer led with, follows
#: it up ("what release?", "how many dB?").
SHORT_FOLLOW_UP_TERMS = 2

#: How many entries a question's ranking keeps (the answer uses up to two).
RANKING_DEPTH = 4

#: How many topic terms a turn hands on to the next follow-up.
CARRIED_TERMS_LIMIT = 6


@dataclass(frozen=True)
class Understanding:
    """A question resolved against the conversation and the DAW.

    ``terms`` are its topic words (its own plus any carried from the previous
    turn, ``carried``); ``instruments`` what it is about and where that came
    from (``instrument_source``: ``question``, ``selected``, ``memory`` or
    ``""``); ``track`` the selected track when the answer concerns it;
    ``previous`` the earlier turn a follow-up continues; ``ranking`` the
    knowledge entries that answer it, found with ``query``. ``continues``: a
    follow-up with no topic words or instrument of its own ("how much?", "why?",
    "how do I set it up?"), which asks more of the previous answer's entry.
    """

    terms: tuple[str, ...]
    carried: tuple[str, ...]
    instruments: tuple[str, ...]
    instrument_source: str
    track: TrackView | None
    previous: Turn | None
    query: Query
    ranking: Ranking
    continues: bool = False

    @property
    def is_follow_up(self) -> bool:
        return bool(self.carried) or self.instrument_source == "memory"


def understand(message: str, *, daw: DawContext, memory: tuple[Turn, ...], knowledge: KnowledgeBase) -> Understanding:
    """What ``message`` asks once follow-up cues, pronouns for the selected track and memory are applied.

    The question's own instrument wins; "this track" means the selected one; a
    follow-up ("and for the bass?", "what about the attack?") keeps the previous
    turn's topic words and, if it names none, its instrument; otherwise the
    selected track's instrument steers the ranking without counting as a word.
    """
    parsed = knowledge.parse(message)
    follows_cue = knowledge.has_cue("follow_up", message)
    previous = next((turn for turn in reversed(memory) if turn.on_topic), None)
    # "it", "this": what was being talked about when that was an instrument ("should I compress it?" after the
    # kick's EQ) or when the question says nothing of its own ("how do I set it up?"); the instrument a question
    # names ("my vocal is harsh, how do I fix it?"); else the selected track
    pronoun = knowledge.has_cue("pronoun", message)
    explicit = knowledge.has_cue("selection", message)
    refers_back = (
        pronoun
        and not explicit
        and not parsed.instruments
        and previous is not None
        and (bool(previous.instruments) or not parsed.terms)
    )
    points_at_selection = explicit or (pronoun and not refers_back)
    # "what is compression?", "explain reverb": the concept, whatever track is selected
    defines = knowledge.has_cue("definition", message)
    # "how much?", "why?": a question with no words of its own continues the topic (not "thanks", "how is my mix?")
    bare = not parsed.terms and not any(knowledge.has_cue(kind, message) for kind in STANDALONE_CUES)
    # "each track", "all my tracks": a question about the whole session is not steered by the selected track;
    # "my mix", "the final mix": nor one about the mix, which is the master's (its loudness, width, bus)
    whole_mix = knowledge.has_cue("whole_mix", message)
    session_wide = whole_mix or knowledge.has_cue("session_wide", message)
    # "what release?" after side-chaining: a question of a word or two, all of them in the entry the previous answer
    # led with, asks more of it (not "what is compression?", nor one naming an instrument or the selected track)
    asks_more_of_it = (
        previous is not None
        and bool(previous.entries)
        and 0 < len(parsed.terms) <= SHORT_FOLLOW_UP_TERMS
        and not parsed.instruments
        and not explicit
        and not defines
        and all(knowledge.mentions(previous.entries[0], term) for term in parsed.terms)
    )
    is_follow_up = previous is not None and (
        follows_cue or refers_back or (bare and not points_at_selection) or asks_more_of_it
    )
    selected = daw.selected_track
    if session_wide and not (whole_mix and selected is not None and selected.instrument in MIX_INSTRUMENTS):
        selected = None

    candidates = (
        ("question", parsed.instruments, True),
        ("selected", (selected.instrument,) if selected and selected.instrument else (), points_at_selection),
        ("memory", previous.instruments if previous else (), is_follow_up),
        ("steer", (selected.instrument,) if selected and selected.instrument else (), not is_follow_up and not defines),
    )
    source, instruments = next(((name, found) for name, found, allowed in candidates if found and allowed), ("", ()))

    terms = {term: OWN_WEIGHT for term in parsed.terms}
    carried = tuple(t for t in previous.terms if t not in terms) if is_follow_up and previous else ()
    terms.update({term: CARRIED_WEIGHT for term in carried})
    for instrument in instruments:
        weight = INSTRUMENT_WEIGHTS.get(source)
        if weight:
            terms.setdefault(knowledge.vocabulary.instrument_term(instrument), weight)
    query = Query(
        terms=terms,
        instruments=tuple(instruments),
        steer_only=source == "steer",
        implied=MIX_INSTRUMENTS if whole_mix else (),
    )
    ranking = knowledge.rank(query, limit=RANKING_DEPTH)
    if source == "selected" and not ranking.on_topic:
        selected_terms = {knowledge.vocabulary.instrument_term(instrument) for instrument in instruments}
        # a question of no words of its own ("is the selected track ok?") asks about the track as if it named it
        alone = INSTRUMENT_WEIGHTS["question"] if not parsed.terms else SELECTED_ALONE_WEIGHT
        terms = {term: max(weight, alone) if term in selected_terms else weight for term, weight in terms.items()}
        query = replace(query, terms=terms)
        ranking = knowledge.rank(query, limit=RANKING_DEPTH)

    about_selection = selected is not None and (
        selected.instrument in instruments if selected.instrument else points_at_selection
    )
    return Understanding(
        terms=(*parsed.terms, *carried)[:CARRIED_TERMS_LIMIT],
        carried=carried,
        instruments=tuple(instruments),
        instrument_source="selected" if source == "steer" else source,
        track=selected if about_selection else None,
        previous=previous if is_follow_up else None,
        query=query,
        ranking=ranking,
        continues=is_follow_up and not parsed.terms and not parsed.instruments,
    )
