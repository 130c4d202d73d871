"""Composing a built-in answer: the best entry's text, facts about the tracks concerned, one related idea.

An answer leads with what was asked: the entry's text first, then what the
selected track's levels say, unless the question is about levels (the
knowledge base's ``levels`` cue words: "too loud", "headroom", ...) or about
the track alone ("what should I do with this track?": no topic words of its
own), when the track's figures are the answer and come first. Figures the
text borrows from the rule set (loudness targets) are filled from the
request's rule snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..knowledge import KnowledgeEntry, Ranking, fill_figures
from ..memory import Turn
from ..rules import SEVERITIES, RuleSnapshot
from .daw import DawContext, TrackView
from .levels import level_findings, level_notes
from .reply import ChatReply
from .understanding import Understanding

if TYPE_CHECKING:
    from .context import ChatContext

#: A second entry is mentioned when it scores at least this share of the best one.
RELATED_SHARE = 0.75

#: A follow-up skips the entry it was just given for one scoring at least this share of the best.
FRESH_SHARE = 0.5

#: A session review tells at most this many tracks with level findings (the worst first), then names the rest.
REVIEW_TRACKS_SHOWN = 4
#: A list of track names in an answer names at most this many, then says how many more.
NAMES_SHOWN = 6
#: A session review judges at most this many tracks (far more than a mix has; a daw_context of thousands of
#: tracks is not a session anyone mixes, and each costs a judgement).
REVIEW_TRACKS_MAX = 512

#: The confidence of a session review: it reads the rules' verdicts on the reported levels rather than ranking
#: knowledge entries, so it is as sure as they are, short of what only the audio could tell.
REVIEW_CONFIDENCE = 0.9
#: The confidence of the answer to "what can you do?": Codette tells what it is, which it knows.
HELP_CONFIDENCE = 0.9
#: The confidence of an answer that is only what an analysis measures by a name the question uses (no entry is
#: about it): the words are the analysis's own, so as sure as a review of the session.
MEASURE_CONFIDENCE = REVIEW_CONFIDENCE
#: Words a question about what a measure means may add without asking anything else ("in the analysis").
MEASURE_CONTEXT_WORDS = "analysis analyse analyze analyser analyzer measure measurement meter reading result report"


def first_sentence(text: str) -> str:
    """Up to the first full stop that is followed by a capital letter (so "e.g." and "1.5 s" don't end it)."""
    match = re.match(r"(.+?[.!?])(?=\s+[A-Z]|$)", text, flags=re.DOTALL)
    return match.group(1) if match else text


def _tracks_of(daw: DawContext, instrument: str, family: str | None) -> tuple[TrackView, ...]:
    """The session's tracks of ``instrument``; when none is, those of its ``family``: a question about the kick
    in a session with one 'Drums' track is about the track the kick plays in."""
    return daw.tracks_of(instrument) or (daw.tracks_of(family) if family else ())


def _track_lines(
    understanding: Understanding,
    context: ChatContext,
    *,
    about_levels: bool = False,
    steered_aside: bool = False,
) -> list[str]:
    """What the session says about the tracks a question concerns: the selected track's levels, the tracks of
    the instrument it names, or the session's size. ``steered_aside``: the selected track only steered the
    search and the answer is not about it (see :func:`steered_aside`), so its levels would be beside the point
    and only the session's size is told."""
    daw, texts, rules = context.daw_context, context.knowledge.texts, context.rules
    if steered_aside:
        return [texts["session_size"].format(count=daw.track_count)] if daw.track_count else []
    family = context.knowledge.vocabulary.family
    track = understanding.track
    matching = list(
        {
            id(t): t
            for instrument in understanding.instruments or understanding.query.implied
            for t in _tracks_of(daw, instrument, family(instrument))
        }.values()
    )
    if track is not None:
        alone = texts.get("selected_track_alone")
        if daw.track_count < 2 and alone:  # "one of 1 tracks" says nothing: the session's size is not known
            line = alone.format(name=track.name, kind=track.kind)
        else:
            line = texts["selected_track"].format(name=track.name, kind=track.kind, count=max(daw.track_count, 1))
        lines = [" ".join([line, *level_notes(track, rules, texts["levels"])])]
        # "is the vocal too quiet next to the guitar?": the other tracks it names, and how they compare
        if about_levels:
            others = [t for t in matching if t.name != track.name and _has_levels(t)][: REVIEW_TRACKS_SHOWN - 1]
            lines.extend(_told(other, texts, rules) for other in others)
            lines.extend(_compared([track, *others], texts))
        return lines
    lines = []
    if matching:
        names = ", ".join(f"'{t.name}'" for t in matching[:REVIEW_TRACKS_SHOWN])
        lines.append(texts["matching_tracks"].format(names=names, count=daw.track_count))
        if about_levels:  # "is my kick too loud?": each such track's levels, as for the selected one
            lines.extend(_told(track, texts, rules) for track in matching[:REVIEW_TRACKS_SHOWN] if _has_levels(track))
    elif daw.track_count:
        lines.append(texts["session_size"].format(count=daw.track_count))
    return lines


def _compared(tracks: list[TrackView], texts: Mapping[str, Any]) -> list[str]:
    """How two tracks' RMS levels compare (a fact, no threshold: which of them sits under the other, by how
    much); nothing for another number of tracks with an RMS."""
    measured = [(track.rms_db, track) for track in tracks if track.rms_db is not None]
    if len(measured) != 2 or not texts.get("compare_rms"):
        return []
    (low, quiet), (high, loud) = sorted(measured, key=lambda pair: pair[0])
    if round(high, 1) == round(low, 1) and texts.get("compare_rms_same"):  # not "sits 0.0 dB under"
        return [texts["compare_rms_same"].format(first=tracks[0].name, second=tracks[1].name)]
    return [texts["compare_rms"].format(quiet=quiet.name, loud=loud.name, gap=high - low)]


def _has_levels(track: TrackView) -> bool:
    return track.peak_db is not None or track.rms_db is not None or track.loudness_lufs is not None


def _told(track: TrackView, texts: Mapping[str, Any], rules: RuleSnapshot, *, findings_only: bool = False) -> str:
    """One track's levels as chat words them, under its name (``findings_only``: only what the rules find)."""
    notes = " ".join(level_notes(track, rules, texts["levels"], findings_only=findings_only))
    return texts["review_track"].format(name=track.name, kind=track.kind, notes=notes)


def _reviewed_tracks(daw: DawContext) -> list[TrackView]:
    """The session's tracks, the selected one as ``selected_track`` has it (a DAW may send the levels of the
    selected track only) and added when ``tracks`` does not list it."""
    selected = daw.selected_track
    if selected is None:
        return list(daw.tracks)
    tracks = [selected if track.name == selected.name else track for track in daw.tracks]
    return tracks if any(track is selected for track in tracks) else [*tracks, selected]


def _names(tracks: list[TrackView]) -> str:
    """'Vox', 'Bass' and 'Keys'; past :data:`NAMES_SHOWN`, "and 12 more"."""
    quoted = [f"'{track.name}'" for track in tracks[:NAMES_SHOWN]]
    if len(tracks) > NAMES_SHOWN:
        return f"{', '.join(quoted)} and {len(tracks) - NAMES_SHOWN} more"
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def asks_only(context: ChatContext, cue: str) -> bool:
    """Whether the message holds a cue of this kind and no topic or instrument besides it: a review ("how is my
    mix?"; "... for streaming", "... on my vocal" are answered from the knowledge base) or a question about
    Codette itself ("what can you do?"; "help me with vocal EQ" is about vocal EQ)."""
    rest = context.knowledge.without_cue(cue, context.message)
    if rest is None:
        return False
    asked = context.knowledge.parse(rest)
    return not asked.terms and not asked.instruments


def session_review(context: ChatContext) -> ChatReply:
    """The answer to "How is my mix?": the session's tracks whose reported levels the rules find something in
    (the worst first, each with what chat says of its levels; past :data:`REVIEW_TRACKS_SHOWN`, named), the
    tracks that sit well and those that sent no levels (named), and where the tone is judged (levels are all a
    chat request carries)."""
    texts, rules, daw = context.knowledge.texts, context.rules, context.daw_context
    if not daw.tracks and daw.selected_track is None:
        return ChatReply(
            response=texts["review_no_session"], perspective=context.perspective, confidence=REVIEW_CONFIDENCE
        )
    flagged: list[tuple[int, int, TrackView]] = []
    fine: list[TrackView] = []
    unmeasured: list[TrackView] = []
    listed = _reviewed_tracks(daw)
    reviewed = listed[:REVIEW_TRACKS_MAX]
    for position, track in enumerate(reviewed):
        findings = level_findings(track, rules)
        if findings:
            worst = max(SEVERITIES.index(finding.severity) for finding in findings)
            flagged.append((-worst, position, track))
        elif not _has_levels(track):
            unmeasured.append(track)
        else:
            fine.append(track)
    count = max(daw.track_count, len(listed))
    worst_first = [track for _, _, track in sorted(flagged, key=lambda item: item[:2])]
    if flagged:
        shown = worst_first[:REVIEW_TRACKS_SHOWN]
        notes = " ".join(_told(track, texts, rules, findings_only=True) for track in shown)
        parts = [texts["session_review"].format(count=count, notes=notes)]
        if len(flagged) > REVIEW_TRACKS_SHOWN:
            parts.append(texts["review_more"].format(names=_names(worst_first[REVIEW_TRACKS_SHOWN:])))
        if fine:
            parts.append(texts["review_others"].format(names=_names(fine)))
    else:
        parts = [texts["session_review_clean"].format(count=count)] if fine else []
    by_rms = sorted(
        ((track.rms_db, track) for track in reviewed if track.rms_db is not None), key=lambda pair: -pair[0]
    )
    # the loudest and the quietest by RMS, when they differ as told (two tracks at -20.0 dBFS have neither)
    if len(by_rms) >= 2 and round(by_rms[0][0], 1) != round(by_rms[-1][0], 1):
        (loud_rms, loud), (quiet_rms, quiet) = by_rms[0], by_rms[-1]
        parts.append(
            texts["review_loudest"].format(loud=loud.name, loud_rms=loud_rms, quiet=quiet.name, quiet_rms=quiet_rms)
        )
    if unmeasured:
        parts.append(texts["review_unmeasured"].format(names=_names(unmeasured)))
    if len(listed) > len(reviewed):
        parts.append(texts["review_limited"].format(shown=len(reviewed), count=len(listed)))
    parts.append(texts["review_tone"])
    return ChatReply(response=" ".join(parts), perspective=context.perspective, confidence=REVIEW_CONFIDENCE)


def compose_answer(context: ChatContext, *, perspective: str) -> ChatReply:
    """A built-in answer: track facts, the best entry's text for ``perspective``, and one related idea; a
    request to review the session ("how is my mix?", with no topic of its own) is :func:`session_review`, and
    so, without a session, is one whose words match an entry only by chance ("what should I do next?" found
    reverb's "next phrase"): only a review that asks about levels ("is anything clipping?") is then answered from
    the knowledge base, whose entry on them holds with or without a session."""
    knowledge = context.knowledge
    texts = knowledge.texts
    understanding = context.understanding
    ranking = understanding.ranking
    if asks_only(context, "thanks"):  # "ok", "cool", "got it": nothing to answer again
        return _said(context, texts["thanks"], knowledge.calibration.floor)
    if asks_only(context, "help"):
        return _said(context, texts.get("help") or texts["greeting"], HELP_CONFIDENCE)
    has_session = bool(context.daw_context.tracks) or context.daw_context.selected_track is not None
    about_levels = knowledge.has_cue("levels", context.message)
    if asks_only(context, "review") and (has_session or not ranking.on_topic or not about_levels):
        return session_review(context)
    continued = continued_entry(context)
    if continued is not None:
        return _more_of(context, continued, perspective, about_levels=about_levels)
    defined = measures_defined(context)
    if not ranking.on_topic or ranking.best is None:
        if defined:  # "what is sounding crest?": the analysis's own words, though no entry is about it
            return ChatReply(response=" ".join(defined), perspective=context.perspective, confidence=MEASURE_CONFIDENCE)
        redirect = next((cue for cue in ("greeting", "thanks") if knowledge.has_cue(cue, context.message)), "redirect")
        return _said(context, texts[redirect], ranking.confidence)
    lead, related = choose_entries(ranking, understanding.previous)
    parts: list[str] = []
    if understanding.previous is not None and understanding.previous.entries:
        previous_title = knowledge.get(understanding.previous.entries[0]).title
        parts.append(texts["follow_up"].format(previous=previous_title))
    parts.extend(defined)
    aside = steered_aside(context, lead)
    track_lines = _track_lines(understanding, context, about_levels=about_levels, steered_aside=aside)
    answer = texts["answer"].format(title=lead.title, text=told(lead, perspective, context.rules))
    own_terms = set(understanding.terms) - set(understanding.carried)
    facts_first = bool(track_lines) and (not own_terms or about_levels)
    parts.extend([*track_lines, answer] if facts_first else [answer, *track_lines])
    if related is not None:
        text = first_sentence(told(related, perspective, context.rules))
        parts.append(texts["related"].format(title=related.title, text=text))
    return ChatReply(
        response=" ".join(parts),
        perspective=context.perspective,
        confidence=ranking.confidence,
        topics=tuple(entry.id for entry in (lead, related) if entry is not None),
    )


def measures_defined(context: ChatContext) -> list[str]:
    """What an analysis measures by the names a question about what something is uses ("What does crest factor
    mean?", "what is true peak?"), in the teaching section's words: a student reading an analysis asks about
    the names it shows. Only when the question asks nothing else: "what is a good attack time for vocals?" asks
    for a compressor setting, "what's the ideal RMS for a vocal?" for a level, not what those names mean."""
    knowledge = context.knowledge
    text = knowledge.texts.get("measure")
    if not text or not knowledge.has_cue("definition", context.message):
        return []
    teaching = knowledge.teaching
    measures = list(teaching.measures_called(context.message))
    names = [name for words in measures for name in words.called]
    # a finding's name read back ("it says squashed transients"): what the measure its rule reads means
    for rule_id in teaching.rules_called(context.message):
        names += [teaching.title(rule_id), rule_id]
        rule = context.rules.rule(rule_id)
        words = teaching.metrics.get(rule.condition.metric) if rule is not None else None
        if words is not None and words not in measures:
            measures.append(words)
    asked = knowledge.parse(context.message)
    named = {term for name in names for term in knowledge.parse(name).terms}
    named |= set(knowledge.parse(MEASURE_CONTEXT_WORDS).terms)
    if not measures or asked.instruments or set(asked.terms) - named:
        return []
    return [text.format(meaning=words.meaning) for words in measures]


def steered_aside(context: ChatContext, lead: KnowledgeEntry) -> bool:
    """Whether the selected track only steered the search to ``lead`` and ``lead`` is not about its instrument
    (nor one of its family), the question not about levels: "how do I check phase?" or "how do I get more low
    end?" with a vocal selected, whose levels are then beside the point. The kick's EQ with a 'Drums' track
    selected is about it."""
    understanding = context.understanding
    if not understanding.query.steer_only or context.knowledge.has_cue("levels", context.message):
        return False
    family = context.knowledge.vocabulary.family
    asked = {*understanding.instruments, *(family(instrument) for instrument in understanding.instruments)} - {None}
    return not any(instrument in asked or family(instrument) in asked for instrument in lead.instruments)


def _said(context: ChatContext, text: str, confidence: float) -> ChatReply:
    """One of the base's own texts (thanks, what Codette does, a redirect), filled with the topics it knows."""
    topics = ", ".join(context.knowledge.topics.values())
    return ChatReply(response=text.format(topics=topics), perspective=context.perspective, confidence=confidence)


def _more_of(context: ChatContext, entry: KnowledgeEntry, perspective: str, *, about_levels: bool) -> ChatReply:
    """More of the entry just given ("why?", "how do I set it up?"): its next perspective's text, as sure as that
    answer was. The track's figures, which that answer told, come again only when asked about levels."""
    texts, previous = context.knowledge.texts, context.understanding.previous
    track_lines = _track_lines(context.understanding, context, about_levels=True) if about_levels else []
    angle = _next_angle(context, entry, perspective)
    answer = (texts.get("continued") or texts["answer"]).format(
        title=entry.title, text=told(entry, angle, context.rules)
    )
    return ChatReply(
        response=" ".join([*track_lines, answer]),
        perspective=context.perspective,
        confidence=previous.confidence if previous is not None else context.understanding.ranking.confidence,
        topics=(entry.id,),
    )


def continued_entry(context: ChatContext) -> KnowledgeEntry | None:
    """The entry a follow-up with no words of its own asks more of ("how much?", "why?" after an answer): the
    previous answer's, when the base has it. Moving on to the next best match would wander off ("how do I set it
    up?" after side-chaining found bus compression)."""
    previous = context.understanding.previous
    if not context.understanding.continues or previous is None or not previous.entries:
        return None
    return context.knowledge.get(previous.entries[0]) if previous.entries[0] in context.knowledge else None


def _next_angle(context: ChatContext, entry: KnowledgeEntry, perspective: str) -> str:
    """The perspective whose text of ``entry`` is told next: each time the conversation's recent turns led with
    the entry, the next of its texts (the asked perspective's first, then the others in the base's order), so
    asking more gives more, an "ok" in between or not."""
    order = [perspective, *(name for name in context.knowledge.perspectives if name != perspective)]
    told_before = sum(1 for turn in context.memory if turn.entries[:1] == (entry.id,))
    return order[told_before % len(order)]


def told(entry: KnowledgeEntry, perspective: str, rules: RuleSnapshot) -> str:
    """An entry's text for ``perspective``, with the figures it borrows from the rule set filled from ``rules``."""
    return fill_figures(entry.facet(perspective), rules.values.get)


def choose_entries(ranking: Ranking, previous: Turn | None) -> tuple[KnowledgeEntry, KnowledgeEntry | None]:
    """The entry to answer from and an optional related one.

    A follow-up ("what about the attack?") whose best match is the entry just
    given moves on to the next strong match instead of repeating itself.
    """
    top = ranking.hits[0].score
    just_given = set(previous.entries) if previous is not None else set()
    fresh = [hit.entry for hit in ranking.hits if hit.entry.id not in just_given and hit.score >= FRESH_SHARE * top]
    lead = fresh[0] if fresh else ranking.hits[0].entry
    related = next(
        (
            hit.entry
            for hit in ranking.hits
            if hit.entry is not lead and hit.entry.id not in just_given and hit.score >= RELATED_SHARE * top
        ),
        None,
    )
    return lead, related
