"""The realistic fault corpus's section of docs/advice.md (scripts/fault_real.py --report writes it).

The figures per split (recall, right remedy, clean controls and fault cases with a finding they should not
have, faults below their clean version), which targets the validation split meets, recall per fault kind and
severity, the thresholds fitted between the fit split's clean tracks and faults with their margins, and every
validation case the built-in rules get wrong.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fault_real_bound import bounds, by_instrument, by_type, overall
from fault_real_clipping import FLAT_RUN, FLAT_SAMPLES_MIN
from fault_real_sources import BANKS, SOURCES

#: The heading of the realistic corpus's section of docs/advice.md (fault_report keeps it when it rewrites the page).
SECTION = "## Realistic corpus: sampled instruments, fitted on one set, judged on another"


def figures(verdicts: list[dict], split: str) -> dict[str, int]:
    """The counts behind one split's row: faults, found, right remedy, clean controls (a source clipped at the
    source listed apart), those with a finding, fault cases with an extra finding, faults below their control."""
    chosen = [v for v in verdicts if v["split"] == split]
    faults = [v for v in chosen if v["fault"] != "clean"]
    controls = [v for v in chosen if v["fault"] == "clean" and "clipped_at_source" not in v]  # listed apart
    found = [v for v in faults if v["found"]]
    return {
        "faults": len(faults),
        "found": len(found),
        "right_remedy": sum(v["remedy_ok"] for v in found),
        "controls": len(controls),
        "alarmed_controls": sum(bool(v["false_alarms"]) for v in controls),
        "extra_on_faults": sum(bool(v["extra"]) for v in faults),
        "below_control": sum(v["below_control"] for v in faults),
    }


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f} % ({part}/{whole})" if whole else "-"


def _figure_rows(label: str, counts: dict[str, int]) -> list[str]:
    found, faults, controls = counts["found"], counts["faults"], counts["controls"]
    return [
        f"| {label} | {_percent(found, faults)} | {_percent(counts['right_remedy'], found)} "
        f"| {_percent(counts['alarmed_controls'], controls)} | {_percent(counts['extra_on_faults'], faults)} "
        f"| {_percent(counts['below_control'], faults)} |"
    ]


#: The families of sources (fault_real_sources' ``Source.family``), as the report names them.
FAMILIES = {
    "gm": "GM instruments",
    "hydrogen": "Hydrogen kits",
    "sonic-pi": "sonic-pi loops",
    "espeak": "espeak-ng voices",
    "festival": "Festival voices",
    "recorded": "recorded voices",
    "song": "songs",
}


def _sources_of(split: str) -> str:
    """The sources of one split, by family: how many and which."""
    parts = []
    for family, label in FAMILIES.items():
        names = [name for name, spec in SOURCES.items() if spec.split == split and spec.family == family]
        banks = len({SOURCES[name].bank for name in names})
        names = list(dict.fromkeys(SOURCES[name].instrument or name for name in names))  # a program once
        if names:
            short = ", ".join(name.split("-", 1)[1] for name in names)
            each = f", each from {banks} sample banks" if banks > 1 else ""
            parts.append(f"{len(names)} {label} ({short}{each})")
    return "; ".join(parts)


def _bank_rows(verdicts: list[dict]) -> list[str]:
    """The validation figures of the General MIDI instruments, per sample bank they were rendered from."""
    lines = []
    for bank, spec in BANKS.items():
        chosen = [v for v in verdicts if SOURCES[v["source"]].family == "gm" and SOURCES[v["source"]].bank == bank]
        lines += _figure_rows(f"GM instruments of {spec.label}, validation", figures(chosen, "validation"))
    return lines


#: The families of voices (see FAMILIES).
VOICE_FAMILIES = ("espeak", "festival", "recorded")


def _voice_rows(verdicts: list[dict]) -> list[str]:
    """The validation figures of the voices, per family: synthesised by formants, built from recordings of
    speakers, and recorded people."""
    lines = []
    for family in VOICE_FAMILIES:
        label = FAMILIES[family]
        chosen = [v for v in verdicts if SOURCES[v["source"]].family == family]
        lines += _figure_rows(f"{label}, validation", figures(chosen, "validation"))
    return lines


def _verdict_lines(counts: dict[str, int]) -> list[str]:
    """Which of the targets the validation split meets, from its figures."""
    met = {
        "recall >= 95 %": counts["found"] >= 0.95 * counts["faults"],
        "no finding on a clean control": counts["alarmed_controls"] == 0,
        "the right remedy for >= 95 % of the faults found": counts["right_remedy"] >= 0.95 * counts["found"],
        "every fault below its clean version": counts["below_control"] == counts["faults"],
    }
    return [
        "Targets on the validation split: "
        + "; ".join(f"{target}: {'met' if ok else '**not met**'}" for target, ok in met.items())
        + "."
    ]


def section(built_in: list[dict], fitted: list[dict], report: object) -> list[str]:
    """The realistic corpus's section of docs/advice.md, from a real run."""
    import datetime
    import platform

    lines = [
        SECTION,
        "",
        f"Written by `python scripts/fault_real.py --report` (`make advice`, after `scripts/fit_tone_references.py`)"
        f" from a real run ({datetime.date.today()}, Python {platform.python_version()}).",
        f"{len(SOURCES)} sources rendered by `scripts/fault_real_sources.py` with the tools",
        "`scripts/install-test-deps.sh` installs (General MIDI instruments of the FluidR3 soundfont through",
        "fluidsynth, Hydrogen drum kits, sonic-pi loops, voices, and songs mixed from them, mastered to -14 and -23",
        "LUFS), 6 s at 44.1 and 48 kHz; faults injected at two severities (bells of +9 and +6 dB, low-passes at",
        "3.5 and 5 kHz, S sounds +12 and +8 dB, three kinds of hiss), each checked by an independent measurement",
        "when rendered. The voices are of three kinds: espeak-ng's (formant synthesis), Festival's (diphone and",
        "statistical voices built from recordings of real speakers, in five languages, several made at 16 kHz,",
        "with nothing above 8 kHz) and people's (klettres-data's letters and syllables, a native speaker per",
        "language with their own microphone and room, and alsa-utils' speaker test, a studio recording). Every",
        "voice goes through the low-cut of a vocal chain (a fourth-order high-pass at `vocal.highpass_hz`), as a",
        "stem is delivered: the raw recordings carry handling noise and rumble under them (some a tenth of their",
        "energy under 20 Hz), and the rumble faults are injected after it. A recorded word whose decoded samples",
        "pass full scale was recorded clipped and is left out. Split by source, alternating within each family",
        "(pianos, organs, guitars, basses, pads and strings, kits, each kind of voice), so the two splits share",
        "no instrument, kit, voice or song; the one studio recording of a person is judged only. The",
        "validation split's General MIDI programs are rendered from two more sample banks as well (TimGM6mb and",
        "MuseScore General Lite): other recordings of those instruments, made with samples the fitting never",
        "heard, as a user's own instruments would be.",
        "",
        f"- `fit`: {_sources_of('fit')}.",
        f"- `validation`: {_sources_of('validation')}.",
        "",
        "Timbre is judged two ways, either one reporting. Against what is normal for the track's type",
        "(`codette_lab/rules/tone.py`, the `*_for_type` rules): the analysis reports the tone shape",
        "(`tone_shape_db`, the smoothed long-term spectrum at 1/3-octave centres, level-normalised), and the rules",
        "compare it with reference envelopes per track type (`codette_lab/rules/tone_references.json`: mean and",
        "spread of the shape, of each band against the bands an octave either side, and of the fall over the next",
        "octave; a band whose neighbours an octave either side both lie 20 dB under it is an isolated line, a",
        "part confined to a narrow range, which no EQ bell makes, and is not judged there: that changed no",
        "reference or threshold fitted on the `fit` split and was noticed on the validation split's square lead,",
        "whose fundamentals sit between an empty octave and the gap where a square wave has no second",
        "harmonic), fitted by `scripts/fit_tone_references.py` on the clean `fit` sources only. A build-up must",
        "stand out of the type's normal range by more than `type.mud_ref_z_max` / `type.harsh_ref_z_max` spreads;",
        "a dull",
        "track's top end must fall steeper *and* lower than normal (`type.dark_ref_z_max`); a sibilant voice's",
        "5-10 kHz must stand above other voices' (`vocal.sibilance_ref_z_max`). Those thresholds come from the",
        "clean `fit` sources alone, each judged by a reference fitted without it (leave one out), plus half a",
        "spread: no instrument of the fit split would be called muddy, harsh or dull by a reference that had not",
        "seen it; nor any clean control of the synthetic corpus above. One exception: a clean source the `dull`",
        "rule already calls dull (its top end's share under `type.top_end_min_db`: the Festival voice fi-mv, whose",
        "energy above 5 kHz lies 13-24 dB under every other voice's, and the jazz guitar) does not set the",
        "darkness threshold; `dull_for_type` gives way to `dull`, so a higher threshold would keep it no",
        "quieter and only miss faults (set by them, the guitar's threshold was 3.7 spreads, now 2.0: 13 of the",
        "validation split's 24 dull guitars found instead of 7). A voice's top end is judged low over 5-8 kHz,",
        "its presence and S sounds, not up to 12.5 kHz as an instrument's: above 8 kHz is breath and air, and",
        "many a voice recording stops there (the Festival voice ca-ona, made at 16 kHz, set the voices'",
        "threshold at 3.9 spreads, now 2.5). Both choices were made on the `fit` split: there the narrower range",
        "finds 12 more dull voices and calls no clean voice out, and on the instruments it would miss 7 dull",
        "ones; on the validation split the voices' dull cases found went from 32 of 46 to 43, none of its clean",
        "voices called out (the darkest stands 1.5 spreads out). Against the track's own envelope (the",
        "original rules `low_mid_buildup`, `harshness`, `dull`): their thresholds are raised as far as the",
        "synthetic corpus's faults and the demo's planted ones allow, and the build-up rules also need the",
        "reference to agree: a low-mid or upper-mid excess over the track's own envelope counts only when the",
        "same range also stands more than `type.mud_ref_gate_z` / `type.harsh_ref_gate_z` spreads above the",
        "type's normal (a pad's heavy low mids, a bright guitar's or voice's formants are the instrument, not",
        "a fault). The gates sit just above the clean `fit` sources (and the synthetic corpus's clean",
        "controls) that the own-envelope rules alone called muddy or harsh (for voices too, no longer at the",
        "vocal reference's own leave-one-out threshold, which on a reference of every kind of voice would leave",
        "no harsh voice found: `vocal.harsh_ref_gate_z` in the table of fitted values below); where a synthetic",
        "fault stands no further out than those, the clean sampled instruments and recorded voices win (four",
        "synthetic bells, the synthetic voice's upper-mid bell and its two sibilant cases: its S sounds sit",
        "under those of every recorded voice, listed above). Behind",
        "the gates a guitar's and a master's own-envelope thresholds sit lower, as far as no clean `fit` source",
        "passes both (`guitar.harsh_excess_max_db`, `guitar.mud_tilt_max_db`, `master.mud_*`). The",
        "own-envelope harshness rule cuts at the upper mids' peak over the track's own envelope when that band",
        "also stands at least `general.harsh_own_z_min` spreads above the type's normal, else where the upper",
        "mids stand out of the normal most (an overdriven guitar's own 2 kHz peak is the instrument, a bell added",
        "at 3.2 kHz is the harshness). Its 2.2 was chosen on the harsh faults of the `fit` split that rule finds:",
        "from 2.0 to 2.4 it places 12 of the 14 right, the own peak always 11, the reference's place always 10;",
        "on the validation split any value from 2.0 up places 38 of 41 right, the own peak always 33.",
        "Widths are judged per type too (`type.width_max`): stereo-sampled pianos and pads reach a side share",
        "of 0.49 on the `fit` split. The validation sources are never read by any fitting.",
        "A finding of any other rule on a fault case counts as an extra finding (a false alarm), any finding on a",
        "clean control too.",
        "",
        "| rules, split | recall | right remedy (of found) | clean controls with a finding "
        "| fault cases with an extra finding | faults below their control |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, verdicts in (("built-in", built_in), ("fitted between fit faults and controls", fitted)):
        for split in ("fit", "validation"):
            lines += _figure_rows(f"{label}, {split}", figures(verdicts, split))
    validation = figures(built_in, "validation")
    lines += ["", *_verdict_lines(validation), ""]
    lines += [
        "The validation split's General MIDI instruments by the bank they were rendered from (built-in rules):",
        "a bank other than FluidR3 tells how far the rules carry to recordings of an instrument they were not",
        "fitted on.",
        "",
        "| rules, split | recall | right remedy (of found) | clean controls with a finding "
        "| fault cases with an extra finding | faults below their control |",
        "| --- | --- | --- | --- | --- | --- |",
        *_bank_rows(built_in),
        "",
    ]
    lines += [
        "The validation split's voices by kind (built-in rules): whether what was fitted on some voices of",
        "each kind holds for others, a recorded person's above all.",
        "",
        "| rules, split | recall | right remedy (of found) | clean controls with a finding "
        "| fault cases with an extra finding | faults below their control |",
        "| --- | --- | --- | --- | --- | --- |",
        *_voice_rows(built_in),
        "",
        "What limits it: the instruments of one track type span a wide range (a keyboard from an electric piano",
        "with nothing above 1.5 kHz to a harpsichord; pads, leads and brass all `synth`), so a +6 or +9 dB bell",
        "on one often stays inside the range its clean neighbours span, and the leave-one-out thresholds, which",
        "keep the clean ones quiet, miss it (the mud and harsh rows below). Voices too: the vocal reference is",
        "fitted on espeak-ng voices, Festival voices and recorded people of the `fit` split, and recorded voices",
        "stand apart from synthesised ones (heavier low mids, brighter S sounds than espeak-ng's; Festival's",
        "16 kHz voices stop at 8 kHz). Fitted on espeak-ng voices alone (and the sibilance threshold held under",
        "the synthetic corpus's S sounds), the rules called 6 of the validation split's 11 recorded people",
        "sibilant, harsh, dull or muddy at both rates; fitted on all three kinds they leave them clean,",
        "and a bell on a recorded voice stands out of them more often than one on an espeak-ng voice, whose",
        "faults now stay inside the broader normal range (the table by kind above). The gates on the",
        "own-envelope rules cost recall where a bell stays inside the type's normal range (metal and",
        "synth-string pads, a clavinet). Recall falls on the other banks' recordings (the table by bank above),",
        "and they hold most of the clean controls called out. Fitting on the other banks too was tried (on the",
        "corpus before its Festival and recorded voices: their renderings of the fit programs in the fit split,",
        "every bank's rendering of an instrument left out together, the gates set again above every clean `fit`",
        "source): every threshold here is the largest clean score plus a margin, so more fit sources raised them",
        "all, and validation recall fell from 49 % to 35 % with the same 18 clean controls called out; the",
        "references stay fitted on FluidR3. Clean controls still called out: the square lead of every bank (its",
        "low mids, where its notes' fundamentals sit, against the mostly pad synth reference; in TimGM6mb and",
        "MuseScore its upper mids too), a sweep pad darker than the fit pads, and from TimGM6mb an electric",
        "piano's low mids, a sitar's upper mids, a steel guitar's sub-bass (there indeed: a fine spectrum puts",
        "-21 dB of its energy at 40-60 Hz at both rates) and a honky-tonk piano's crest, and from MuseScore a",
        "bright piano's top end; of the voices, a Festival voice's low mids against its own envelope; and a",
        "broadcast master just under the narrow mark (0.03 of side share, a fixed engineering mark: that mix",
        "measures 0.030-0.032 at every render, the fit songs 0.046-0.097, so nothing fitted on them would lower",
        "it). Those were left as they are: moving a threshold because a validation track crossed it would be",
        "fitting on the validation split.",
        "",
        *_bound_lines(built_in),
        "",
        "The score follows the findings (each finding's penalty, scaled by how far past its threshold it lies)",
        "and, below them, the tonal balance (`codette_lab/rules/balance.py`): five balances read from the",
        "analysis's own measures, each moved one way by one kind of fault (the low mids over the mids, the upper",
        "mids over the mids, how far the top end sits under the rest, where the top end stops, the S sounds",
        "against the loud frames), judged against their middle and spread over the clean `fit` sources of the",
        "type (in `tone_references.json`), each costing softplus of its standard score less one; the score keeps",
        "`1 - cap * (1 - exp(-rate * sum))` of what the findings leave (`general.balance_cost_rate` 0.1 and",
        "`general.balance_cost_max` 0.2). The balances and the numbers were chosen on the `fit` split: the mids",
        "as the low and upper mids' reference rather than the presence range, which an upper-mid bell lifts; the",
        "top end's edge beside its share, which S sounds raise; and, of the costs that leave a clean `fit` track",
        "at least 0.97 at the median (a clean track's score stays near 1), the one with the most faults below",
        "their clean version (on the `fit` split before its Festival and recorded voices: cost from no lean at",
        "all: 255/265 of those faults but clean tracks at 0.95; from one spread past the middle: 249/265, clean",
        "at 0.97; from two: 244/265, clean at 0.99). So a fault too",
        "small for a finding still scores below its clean version, except where its clean version was called",
        "out wrongly and the fault silences that finding (about half of those below: a sitar, a square lead, a",
        "sweep pad, pianos of the other banks), where it also moves another",
        "balance the other way by as much (an upper-mid bell also lifts where a pad's top end stops), or where",
        "the fault changes nothing the analysis hears (a 5 kHz low-pass on an electric piano with nothing above",
        "1.5 kHz, a 250 Hz bell under a brass line): the faults listed below with their scores.",
        "",
    ]
    lines += _per_fault_rows(built_in)
    lines += [
        "",
        "The second pair of rows sets each threshold between the fit split's clean tracks and its faults",
        "(`codette_lab.corpus.fit_between`, in-sample): margin to the nearest clean control and to the weakest",
        "fault, in the parameter's unit (negative: they overlap, and the threshold sits one step past the clean",
        "side). The built-in rules keep their own values.",
        "",
        "| parameter | clean extreme | weakest fault | fitted | margin to clean | margin to fault | built-in |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in report.itertuples():  # type: ignore[attr-defined]
        lines.append(
            f"| `{row.parameter}` | {row.clean_extreme:.2f} | {row.weakest_fault:.2f} | {row.value:g} "
            f"| {row.clean_margin:.2f} | {row.fault_margin:.2f} | {row.default:g} |"
        )
    clipped = sorted(
        {(v["case"], v["clipped_at_source"]) for v in built_in if v["fault"] == "clean" and "clipped_at_source" in v}
    )
    if clipped:
        named = "; ".join(f"`{case}` ({flat} samples)" for case, flat in clipped)
        lines += [
            "",
            f"Clipped at the source, checked on the samples themselves (runs of {FLAT_RUN} or more equal samples at",
            f"the peak, at least {FLAT_SAMPLES_MIN}): {named}. Their clipping findings are right, so they are not",
            "counted as alarms, on the control or on the faults injected into it (the other rate, resampled, has",
            "no flat runs and stays a clean control).",
        ]
    lines += ["", "Validation cases the built-in rules get wrong:", ""]
    for v in built_in:
        if v["split"] != "validation":
            continue
        if v["fault"] == "clean" and v["false_alarms"]:
            lines.append(f"- `{v['case']}` (clean): {', '.join(v['false_alarms'])}")
        elif v["fault"] != "clean" and not (v["found"] and v["remedy_ok"] and not v["extra"] and v["below_control"]):
            why = (
                "not found"
                if not v["found"]
                else "; ".join(v["remedy_problems"]) or ("extra findings" if v["extra"] else "found")
            )
            score = "" if v["below_control"] else f"; scores {v['score']}, its clean version {v['control_score']}"
            lines.append(f"- `{v['case']}`: {why} (findings: {', '.join(v['findings']) or 'none'}){score}")
    return lines


def _bound_lines(verdicts: list[dict]) -> list[str]:
    """How far the measures the timbre rules read could go at all (fault_real_bound): the text and the table."""
    validation = bounds(verdicts, "validation")
    validation_total, _, _, validation_every = overall(validation, verdicts, "validation")
    fit_total, _, _, fit_every = overall(bounds(verdicts, "fit"), verdicts, "fit")
    return [
        "How far the measures the timbre rules read could go at all (`scripts/fault_real_bound.py`): for each",
        "timbre fault kind and track type, the most faults that a threshold on one of the kind's measures, or",
        "thresholds on all of them at once, could find with no clean control of that type and split above them,",
        "the thresholds chosen by looking at the very split they are judged on (which no fitted rule may do).",
        "The measures: the low mids' standard score against the type's reference, their excess over the",
        "track's own envelope and their tilt over 1-4 kHz (mud); the upper mids' standard score and excess",
        "(harsh); the darkness against the reference, the top end's share and where it stops (dull); the S",
        "sounds' standard score and level (sibilance). A fault beyond that bound stands, in every one of those",
        "measures at once, no further out than some clean track of its type: no threshold on them finds it",
        "without calling that track out too. Even so chosen, they would find at most",
        f"{_percent(validation_every, validation_total)} of the validation split's faults (the target: 95 %), and",
        f"{_percent(fit_every, fit_total)} of the fit split's. The validation split by fault kind:",
        "",
        *_bound_rows(validation, verdicts, "validation"),
        "",
        *_instrument_lines(verdicts),
    ]


def _bound_rows(found: dict[str, tuple[int, int, int, int]], verdicts: list[dict], split: str) -> list[str]:
    """The bound (fault_real_bound.bounds) as a table: per timbre fault kind, then every fault of the split."""
    lines = [
        f"| {split} fault kind | faults | found by the built-in rules | at most, one measure "
        "| at most, all its measures at once |",
        "| --- | --- | --- | --- | --- |",
    ]
    for fault, (total, rules, one, every) in found.items():
        lines.append(
            f"| {fault} | {total} | {_percent(rules, total)} | {_percent(one, total)} | {_percent(every, total)} |"
        )
    total, rules, one, every = overall(found, verdicts, split)
    lines.append(
        f"| every fault (the others as the rules find them) | {total} | {_percent(rules, total)} "
        f"| {_percent(one, total)} | {_percent(every, total)} |"
    )
    return lines


def _instrument_lines(verdicts: list[dict]) -> list[str]:
    """The same bound on the validation split's General MIDI faults, per track type and per instrument."""
    gm = [v for v in verdicts if SOURCES[v["source"]].family == "gm"]
    typed, by_program = (bounds(gm, "validation", group) for group in (by_type, by_instrument))
    faults = sum(counts[0] for counts in typed.values())
    return [
        "Per instrument instead of per track type (the General MIDI program, its clean renderings from the three",
        "banks as the clean tracks to stay above), the same bound on the validation split's General MIDI faults is",
        f"{_percent(sum(c[3] for c in by_program.values()), faults)}, against "
        f"{_percent(sum(c[3] for c in typed.values()), faults)} per track type: fewer clean tracks to stay",
        "above, and the banks' recordings of one instrument differ less than the instruments of one type do. It",
        "too is a bound set on the recordings it judges, not a reference anyone could fit: the rules know a",
        "track's type, not its instrument, and the split by source keeps every validation instrument out of the",
        "fitting.",
    ]


def _per_fault_rows(verdicts: list[dict]) -> list[str]:
    """Validation recall per fault kind and severity (the case name's first part: mud9, dull3.5k, ...), and how
    many of them score below their clean version."""
    rows: dict[str, list[int]] = {}
    for v in verdicts:
        if v["split"] == "validation" and v["fault"] != "clean":
            kind = v["case"].split("-")[0]
            counts = rows.setdefault(kind, [0, 0, 0])
            counts[0] += bool(v["found"])
            counts[1] += bool(v["below_control"])
            counts[2] += 1
    return [
        "| validation fault (kind and severity) | found | scores below its clean version |",
        "| --- | --- | --- |",
        *(
            f"| {kind} | {_percent(found, total)} | {_percent(below, total)} |"
            for kind, (found, below, total) in rows.items()
        ),
    ]


def write_section(page: Path, lines: list[str]) -> None:
    """Replace (or append) the realistic corpus's section of ``page``."""
    text = page.read_text() if page.is_file() else ""
    head = text.split(SECTION)[0].rstrip("\n")
    page.write_text(head + "\n\n" + "\n".join(lines) + "\n")
