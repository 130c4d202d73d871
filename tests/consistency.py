"""A consistency check for built-in answers: chat replies and analysis results, read as a student would.

An answer contradicts itself or the measurements when:

- it names a track count that is not the session's ("one of 1 tracks");
- it judges the selected track's peak too hot while recommending a peak or headroom range that track meets
  ("a little hot" next to "leave 3-6 dB of headroom" for a track peaking at -4 dBFS);
- it asks for an RMS level and a peak ceiling that the track's crest factor rules out together (unless the
  same answer says to set it by its peaks);
- it moves the track's gain both down and up;
- it boosts where it also cuts (within half an octave), boosts on a measured build-up, or aims a generic cut
  near a measured build-up somewhere else than where it was measured;
- an analysis suggestion names a frequency or amount that is neither a measured value, a value the rules
  in force derive from one, a parameter of those rules, nor a figure the rule file writes literally;
- a high-pass for the track's own instrument is named somewhere else than the rules' ``<type>.highpass_hz``.

Every check returns a list of problems (empty when consistent), each naming the words at fault.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from codette_lab.rules import RuleSnapshot

NUMBER = r"[-+]?\d+(?:\.\d+)?"
#: A frequency in Hz or kHz, as answers write it.
FREQUENCY = re.compile(rf"({NUMBER})\s*(k?Hz)\b")
#: Octaves within which a boost and a cut (or a boost and a measured build-up) pull against each other.
OPPOSED_OCTAVES = 0.5
#: A build-up steers a generic cut within this many octaves, and the cut must then be within this tolerance.
NEAR_OCTAVES = 1.0
AIM_TOLERANCE_OCTAVES = 1.0 / 24.0


def _hz(value: str, unit: str) -> float:
    return float(value) * (1000.0 if unit.lower() == "khz" else 1.0)


def sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.;!?])\s+", text) if part]


# -- session and levels ------------------------------------------------------------------------------------------


def track_count_problems(text: str, listed: int) -> list[str]:
    problems = []
    for match in re.finditer(r"one of (\d+) tracks", text):
        count = int(match.group(1))
        if count < 2 or count != listed:
            problems.append(f"'{match.group(0)}' but the session lists {listed} tracks")
    return problems


def _recommended_peaks(sentence: str) -> list[float]:
    """The loosest peak (dBFS) each recommendation in the sentence allows for a single track."""
    if re.search(r"\b(?:mix )?bus\b|\bmaster\b|full scale", sentence, re.I) and not re.search(
        r"individual tracks|each track", sentence, re.I
    ):
        return []
    found = []
    for match in re.finditer(rf"(?:leave|keep|keeping)\w*\s+({NUMBER})(?:-({NUMBER}))? dB of headroom", sentence, re.I):
        low = float(match.group(1))
        found.append(-min(low, float(match.group(2) or low)))
    pattern = rf"peak\w*\s+(?:at or under|under|no higher than|around|near)\s+({NUMBER})(?:\s+to\s+({NUMBER}))? dBFS"
    for match in re.finditer(pattern, sentence, re.I):
        values = [float(v) for v in match.groups() if v is not None]
        found.append(max(values))
    return found


def headroom_problems(text: str, *, peak: float | None, judged_hot: bool, threshold: float | None) -> list[str]:
    """A track judged too hot must not be told, in the same answer, that a range it meets is fine."""
    if peak is None or not judged_hot or threshold is None:
        return []
    return [
        f"the track peaking at {peak:.1f} dBFS is judged hot (mark {threshold:g} dBFS) but "
        f"'{sentence}' allows peaks up to {allowed:g} dBFS"
        for sentence in sentences(text)
        for allowed in _recommended_peaks(sentence)
        if allowed > threshold + 0.05 and peak <= allowed
    ]


def crest_problems(text: str, crest: float | None) -> list[str]:
    """An RMS target with a peak ceiling the crest factor rules out, unless the answer says to go by the peaks."""
    if crest is None or re.search(r"by (?:its|the) peaks", text):
        return []
    problems = []
    for sentence in sentences(text):
        rms = re.search(rf"({NUMBER}) dBFS RMS", sentence)
        ceiling = re.search(rf"peak\w*\s+(?:at or under|under|below)\s+({NUMBER}) dBFS", sentence)
        if rms and ceiling and float(ceiling.group(1)) - float(rms.group(1)) < crest - 0.5:
            problems.append(f"'{sentence}' cannot hold at a crest factor of {crest:.1f} dB")
    return problems


_DOWN = re.compile(
    r"\b(?:lower the gain|turn \S+(?: \S+)? down|trim(?:ming)?(?: it)? (?:by )?about|pull \S+ down)", re.I
)
_UP = re.compile(r"\b(?:raise (?:the|its) (?:input |clip )?gain|raise \S+ by|lift (?:the|its) (?:gain|level))", re.I)


def per_track(text: str, names: Iterable[str]) -> list[str]:
    """An answer about several tracks (a session review: "'Kick' (drums). It peaks ...") cut into the part about
    each, each part starting where it names its track; an answer naming fewer than two is one part."""
    starts = sorted({text.find(f"'{name}' (") for name in names} - {-1})
    if len(starts) < 2:
        return [text]
    return [text[: starts[0]], *(text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True))]


def gain_direction_problems(text: str, names: Iterable[str] = ()) -> list[str]:
    """One track's gain moved both down and up (each track's part on its own when the answer is about several)."""
    problems = []
    for part in per_track(text, names):
        down, up = _DOWN.search(part), _UP.search(part)
        if down and up:
            problems.append(f"the gain is moved down ('{down.group(0)}') and up ('{up.group(0)}') in one answer")
    return problems


# -- EQ moves ----------------------------------------------------------------------------------------------------


def eq_moves(text: str, track: str | None = None) -> list[tuple[str, float, str]]:
    """(``cut`` or ``boost``, Hz, clause) of each EQ move on the track an answer names with one frequency (a
    move ``on`` another part, "on kick and toms" said of a drum kit, is that part's)."""
    moves = []
    for clause in re.split(r"[.;]\s+|, (?:and|or|then) ", text):
        elsewhere = re.search(r"\bon ([A-Za-z0-9' ]+)", clause)
        if elsewhere and track is not None and not elsewhere.group(1).startswith(track):
            continue
        kind = None
        if re.search(r"(?<![-\w])(?:cut|dip|carve|tame)\b", clause, re.I):
            kind = "cut"
        elif re.search(r"\b(?:boost|lift)\b", clause, re.I):
            kind = "boost"
        if kind is None or re.search(r"\d\s*-\s*\d", clause):  # ranges are knowledge, not a move
            continue
        found = FREQUENCY.findall(clause)
        if len(found) == 1:
            moves.append((kind, _hz(*found[0]), clause.strip()))
    return moves


def eq_problems(suggestions: Iterable[str], build_ups: Iterable[float] = (), track: str | None = None) -> list[str]:
    """Opposed moves in one answer; boosts on a measured build-up; generic cuts near one aimed elsewhere."""
    moves = [move for text in suggestions for move in eq_moves(text, track)]
    problems = []
    for kind, hz, clause in moves:
        if kind != "boost":
            continue
        for other_kind, other_hz, other_clause in moves:
            if other_kind == "cut" and abs(math.log2(hz / other_hz)) <= OPPOSED_OCTAVES:
                problems.append(f"'{clause}' boosts where '{other_clause}' cuts")
        problems.extend(
            f"'{clause}' boosts on the build-up measured at {found:.0f} Hz"
            for found in build_ups
            if abs(math.log2(hz / found)) <= OPPOSED_OCTAVES
        )
    for kind, hz, clause in moves:
        if kind != "cut":
            continue
        near = [found for found in build_ups if abs(math.log2(hz / found)) <= NEAR_OCTAVES]
        if near and min(abs(math.log2(hz / found)) for found in near) > AIM_TOLERANCE_OCTAVES:
            problems.append(f"'{clause}' cuts at {hz:.0f} Hz, but the build-up there was measured at {near[0]:.0f} Hz")
    return problems


# -- figures of analysis suggestions -----------------------------------------------------------------------------


def _literal_numbers(snapshot: RuleSnapshot) -> set[float]:
    """Every number the rule file writes in its texts (``12-18 dB/octave``, ``about 150 Hz``)."""
    raw = json.dumps({key: snapshot.document.raw.get(key) for key in ("rules", "advice")})
    texts = re.sub(r"\{[^{}]*\}", " ", raw)  # placeholders are filled, not literal
    return {abs(float(value)) for value in re.findall(r"\d+(?:\.\d+)?", texts)}


def _flat(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            flat[f"{prefix}{key}"] = float(value)
    return flat


def _renderings(value: float) -> set[str]:
    """The ways an answer may print ``value`` (0 or 1 decimal, and its magnitude)."""
    shown = set()
    for number in (value, abs(value)):
        shown |= {f"{number:.0f}", f"{number:.1f}", f"{number:g}"}
    return shown


def figure_problems(
    suggestions: Iterable[str], *, metrics: Mapping[str, Any], derived: Mapping[str, Any], snapshot: RuleSnapshot
) -> list[str]:
    """Every Hz, dB and dBFS figure of the suggestions is measured, derived, a parameter or a literal of the rules."""
    values = {**_flat(metrics), **_flat(derived)}
    shown: set[str] = set()
    for value in (*values.values(), *snapshot.values.values()):
        shown |= _renderings(float(value))
    shown |= {f"{number:g}" for number in _literal_numbers(snapshot)}
    return [
        f"'{text}' names {number}, which no measurement or rule in force gives"
        for text in suggestions
        for number in re.findall(rf"({NUMBER}) ?(?:Hz|dB|dBFS|dBTP|LUFS)\b", text)
        if number.lstrip("+") not in shown and number.lstrip("+-") not in shown
    ]


# -- figures the rules own, in chat ------------------------------------------------------------------------------


#: A sentence about high-passing something else than the track itself (a return, a side-chain, other mics).
OTHER_OBJECTS = re.compile(
    r"\b(?:returns?|reverb|sends?|side-chain|detector|sides|overheads|room|hi-hat|doubles|harmon\w*|sub region)\b",
    re.I,
)


def highpass_problems(text: str, instrument_type: str | None, snapshot: RuleSnapshot) -> list[str]:
    """ "High-pass (the <type>) at X Hz" for the track's own type must name that type's high-pass in force."""
    if instrument_type is None:
        return []
    try:
        expected = snapshot.lookup_for(instrument_type)("type.highpass_hz")
    except KeyError:
        return []
    if expected is None:
        return []
    if f"{instrument_type}.highpass_hz" not in snapshot.values:
        return []  # no high-pass of its own type: the general one is a fallback, not advice about it
    problems = []
    pattern = rf"high-pass(?: the {instrument_type}\w*)? at (?:about )?({NUMBER})(?:-({NUMBER}))? Hz"
    for sentence in sentences(text):
        if OTHER_OBJECTS.search(sentence):
            continue
        problems += _highpass_mismatches(sentence, pattern, instrument_type, expected)
    return problems


def _highpass_mismatches(sentence: str, pattern: str, instrument_type: str, expected: float) -> list[str]:
    problems = []
    for match in re.finditer(pattern, sentence, re.I):
        low, high = float(match.group(1)), float(match.group(2) or match.group(1))
        if not low - 0.5 <= expected <= high + 0.5:
            problems.append(f"'{match.group(0)}' but {instrument_type}'s high-pass in force is {expected:g} Hz")
    return problems
