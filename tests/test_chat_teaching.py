"""The ``teaching`` perspective and ``explain``: each finding told for a student, numbers from the rules."""

from __future__ import annotations

import copy
import json
from importlib import resources

import numpy as np
import pytest

from codette_lab import analyze
from codette_lab.chat import BUILTIN_PERSPECTIVES, TEACHING_PERSPECTIVE, explain
from codette_lab.chat.teaching import explain_findings
from codette_lab.engine import Engine
from codette_lab.errors import KnowledgeError
from codette_lab.knowledge import KnowledgeBase
from codette_lab.rules import Finding, RuleSet

HOT_VOCAL = {"selected_track": {"name": "Lead Vox", "type": "vocal", "peak_level": -0.5, "rms_level": -7.0}}
CALM_GUITAR = {"selected_track": {"name": "Gtr", "type": "guitar", "peak_level": -12.0, "rms_level": -26.0}}


def teach(message: str, daw_context=None, engine: Engine | None = None) -> str:
    reply = (engine or Engine()).chat(message, perspective=TEACHING_PERSPECTIVE, daw_context=daw_context)
    assert reply.perspective == TEACHING_PERSPECTIVE
    return reply.response


def test_teaching_is_a_built_in_perspective_with_a_description():
    engine = Engine()
    assert TEACHING_PERSPECTIVE in BUILTIN_PERSPECTIVES
    entry = engine.perspectives.resolve(TEACHING_PERSPECTIVE)
    assert entry.builtin and "student" in entry.description


def test_a_finding_on_the_selected_track_is_explained_for_a_student():
    text = teach("How should I compress this track?", HOT_VOCAL)
    assert text.startswith("What the checks found on 'Lead Vox', in plain words:")
    finding = text.split("\n\n")[1]
    assert finding.startswith("1. Close to clipping (fix this first).")
    assert "It measured -0.5 dBFS, 0.5 dB above the line of -1.0 dBFS" in finding
    assert "What that measures: The peak is the single loudest moment" in finding
    rules = RuleSet.default().snapshot()
    levels = {"peak_dbfs": -0.5, "rms_dbfs": -7.0}
    judged = rules.evaluate(levels, track_type="vocal", analysis_type="dynamics", track_name="Lead Vox")
    assert f"The suggestion: {judged[0].suggestion}" in finding  # the rule's own suggestion, as analysis gives it
    assert "Why: " in finding and "What to listen for: " in finding
    assert "Compressing vocals, explained:" in text and "In practice: Start at 3:1-4:1" in text


def test_the_checks_a_healthy_track_passed_say_how_far_it_is_from_each():
    text = teach("How do I EQ this track?", CALM_GUITAR)
    assert "None of the checks found a problem on 'Gtr'." in text
    margins = next(paragraph for paragraph in text.split("\n\n") if paragraph.startswith("How far 'Gtr' is"))
    assert "Little headroom: -12.0 dBFS, 6.0 dB away from the line of -6.0 dBFS." in margins
    assert "Over-compressed: 14.0 dB, 8.0 dB away from the line of 6.0 dB." in margins
    assert "The crest factor is the gap in dB between the loudest peaks and the average (RMS) level" in margins


@pytest.mark.parametrize("question", ["Should I EQ before or after compression?", "How do I check phase?"])
def test_a_general_question_is_taught_without_the_selected_tracks_checks(question):
    """With a vocal selected, 'Should I EQ before or after compression?' was taught as the vocal's checks first (a
    long list a student did not ask for): the selected track only steered the search to a general entry. A
    question about the track itself, or about levels, still opens with its checks."""
    text = teach(question, HOT_VOCAL)
    assert "Lead Vox" not in text and ", explained:" in text and "In practice: " in text
    assert teach("How should I compress?", HOT_VOCAL).startswith("What the checks found on 'Lead Vox'")
    assert teach("Is it too loud?", HOT_VOCAL).startswith("What the checks found on 'Lead Vox'")


def test_a_tuned_threshold_changes_what_is_explained():
    engine = Engine()
    engine.rules.set(**{"general.headroom_peak_dbfs": -10.0})
    text = teach("How do I EQ this track?", CALM_GUITAR, engine)
    assert "1. Little headroom (worth fixing). It measured -12.0 dBFS" not in text  # -12 is still under -10
    engine.rules.set(**{"general.headroom_peak_dbfs": -14.0})
    text = teach("How do I EQ this track?", CALM_GUITAR, engine)
    assert "1. Little headroom (worth fixing). It measured -12.0 dBFS, 2.0 dB above the line of -14.0 dBFS" in text


def test_a_question_without_a_track_gets_the_theory_then_the_practice():
    text = teach("What loudness should I master to for Spotify?")
    answer, practice = text.split("\n\n")
    assert answer.startswith("Loudness targets: streaming, broadcast and podcast, explained: ")
    assert "-14 LUFS" in answer and practice.startswith("In practice: ")


def test_a_student_asking_more_gets_more_of_the_entry_not_the_tracks_findings_again():
    """ "Why?" after an explanation moved on to parallel compression and told the vocal's findings again; "ok" told
    them a third time. Now "why?" tells more of the entry just explained, and "ok" is thanked."""
    engine = Engine()
    first = engine.chat(
        "How should I compress it?", perspective=TEACHING_PERSPECTIVE, daw_context=HOT_VOCAL, session="s"
    )
    assert first.topics == ("vocal-compression",) and "What the checks found on 'Lead Vox'" in first.response
    more = engine.chat("why?", perspective=TEACHING_PERSPECTIVE, daw_context=HOT_VOCAL, session="s")
    assert more.topics == ("vocal-compression",) and more.perspective == TEACHING_PERSPECTIVE
    assert more.response.startswith('More on "Compressing vocals": ') and "Lead Vox" not in more.response
    thanks = engine.chat("ok", perspective=TEACHING_PERSPECTIVE, daw_context=HOT_VOCAL, session="s")
    assert thanks.response.startswith("Glad to help.")


def test_an_off_topic_question_gets_the_polite_redirect():
    assert "mixing assistant" in teach("What's the capital of France?")


def test_teaching_answers_over_the_wire():
    frame = {"type": "chat", "message": "Is this too loud?", "perspective": "teaching", "daw_context": HOT_VOCAL}
    reply = Engine().respond(json.dumps(frame))
    assert reply["type"] == "chat_response" and reply["perspective"] == "teaching"
    assert "Close to clipping" in reply["response"]


@pytest.fixture(scope="module")
def clipped_vocal():
    """Three seconds of a sine driven into hard clipping: clipped samples and a tiny crest factor."""
    rate = 44100
    t = np.arange(3 * rate) / rate
    return np.clip(1.4 * np.sin(2 * np.pi * 220 * t), -1.0, 1.0).astype(np.float32), rate


def test_explain_tells_each_finding_of_an_analysis_in_order(clipped_vocal):
    y, rate = clipped_vocal
    result = analyze(y, rate, kind="quality", track_type="vocal")
    assert [finding.rule_id for finding in result.problems][:2] == ["clipped", "over_compressed"]
    text = explain(result, track_name="Lead Vox")
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == "What the checks found on 'Lead Vox', in plain words:"
    assert len(paragraphs) == 1 + len(result.problems)
    clipped, squashed = paragraphs[1], paragraphs[2]
    assert clipped.startswith("1. Clipped samples (fix this first). It measured ")
    assert " samples above the line of 0 samples" in clipped
    crest = result.problems[1].value
    assert squashed.startswith("2. Over-compressed (worth fixing).")
    assert f"It measured {crest:.1f} dB, {6.0 - crest:.1f} dB below the line of 6.0 dB" in squashed
    assert "What that measures: The crest factor is" in squashed
    assert result.problems[1].suggestion in squashed


def test_explain_reads_units_and_words_from_the_rules_it_is_given(clipped_vocal):
    y, rate = clipped_vocal
    rules = RuleSet.default()
    rules.set(**{"general.crest_min_db": 8.0})
    result = analyze(y, rate, kind="dynamics", track_type="vocal", rules=rules)
    text = explain(result, rules=rules)
    assert text.startswith("What the checks found on this track")
    crest = next(finding.value for finding in result.problems if finding.rule_id == "over_compressed")
    assert f"{8.0 - crest:.1f} dB below the line of 8.0 dB" in text


def test_explain_says_so_when_nothing_was_found():
    rate = 44100
    t = np.arange(2 * rate) / rate
    plucks = np.exp(-6 * (t % 0.5)) * np.sin(2 * np.pi * 196 * t)  # a decaying note twice a second
    result = analyze((0.3 * plucks).astype(np.float32), rate, kind="dynamics", track_type="guitar")
    assert result.problems == []
    assert explain(result).endswith("None of the checks found a problem on this track.")


def test_every_rule_and_metric_of_the_built_in_rules_has_teaching_words():
    teaching = KnowledgeBase.builtin().teaching
    rules = RuleSet.default().snapshot().document.rules
    assert {rule.id for rule in rules} <= set(teaching.rules)
    assert {rule.condition.metric for rule in rules} <= set(teaching.metrics)
    assert set(teaching.severities) == {"info", "warning", "critical"}


def test_a_rule_without_teaching_words_is_still_told_by_its_metric():
    teaching = KnowledgeBase.builtin().teaching
    rules = RuleSet.default().snapshot()
    finding = Finding("a_new_rule", "crest_factor_db", 4.0, 6.0, "warning", "Too dense.", "Ease off.")
    paragraph = explain_findings([finding], track_type="vocal", track_name=None, rules=rules, teaching=teaching)[1]
    assert paragraph.startswith("1. A new rule (worth fixing). It measured 4.00, 2.00 below the line of 6.00")
    assert "What that measures: The crest factor is" in paragraph and "The suggestion: Ease off." in paragraph


def builtin_document() -> dict:
    text = resources.files("codette_lab").joinpath("data", "knowledge_base.json").read_text(encoding="utf-8")
    return json.loads(text)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: t["metrics"]["peak_dbfs"].pop("listen"), "field 'teaching.metrics.peak_dbfs.listen' is missing"),
        (lambda t: t["rules"]["headroom"].update(wy="typo"), "field 'teaching.rules.headroom.wy': unknown field"),
        (lambda t: t["texts"].update(finding="{number}. {titel}"), "names the unknown placeholder {titel}"),
        (lambda t: t["decimals"].update(dB=-1), "field 'teaching.decimals.dB'"),
        (lambda t: t["metrics"]["rms_dbfs"].update(called="rms"), "field 'teaching.metrics.rms_dbfs.called'"),
        (lambda t: t["metrics"]["rms_dbfs"].update(called=["rms", " - "]), "each name must hold a letter or a digit"),
    ],
)
def test_a_malformed_teaching_section_is_refused_naming_the_field(change, problem):
    document = builtin_document()
    change(document["teaching"])
    with pytest.raises(KnowledgeError, match="Knowledge base") as raised:
        KnowledgeBase(document)
    assert problem in str(raised.value)


def test_a_custom_base_without_a_teaching_section_uses_the_built_in_words():
    document = copy.deepcopy(builtin_document())
    del document["teaching"]
    assert KnowledgeBase(document).teaching == KnowledgeBase.builtin().teaching


def test_asking_what_a_measure_means_gets_what_the_analysis_measures_by_that_name():
    """Students read "crest factor", "true peak", "low-mid build-up" in an analysis and ask what they are: the
    answer opens with the teaching words for that measure, in every perspective, then the entry; a name no
    entry covers is still told, and a question that is not asking what something is gets no definition."""
    base = KnowledgeBase.builtin()
    crest = base.teaching.metrics["crest_factor_db"].meaning
    engine = Engine()
    for perspective in ("mix_engineering", TEACHING_PERSPECTIVE):
        reply = engine.chat("What does crest factor mean?", perspective=perspective, session=perspective)
        assert reply.response.startswith(f"As an analysis measures it: {crest}"), reply.response
    reply = engine.chat("What's the difference between the crest factor and the RMS?")
    assert crest in reply.response and base.teaching.metrics["rms_dbfs"].meaning in reply.response
    sounding = engine.chat("What is sounding crest?")
    assert sounding.response.startswith("As an analysis measures it: This is the crest factor while the part sounds")
    assert sounding.confidence >= 0.5
    # asking something else about a measure is not asking what it is
    for question in (
        "How do I lower the crest factor of my drums?",
        "What is a good attack time for vocals?",  # a compressor's attack, not the analysis's attack time of hits
        "What's the ideal RMS for a vocal?",
    ):
        assert "As an analysis measures it" not in engine.chat(question).response, question
    # a longer name wins over a shorter one inside it: 'true peak' is not the sample peak
    true_peak = engine.chat("What is true peak?").response
    assert base.teaching.metrics["true_peak_over_ceiling_db"].meaning in true_peak
    assert base.teaching.metrics["peak_dbfs"].meaning not in true_peak


def test_every_name_of_a_measure_finds_that_measure():
    teaching = KnowledgeBase.builtin().teaching
    named = [(name, metric) for metric in teaching.metrics.values() for name in metric.called]
    assert len(named) >= 30
    for name, metric in named:
        assert teaching.measures_called(f"What does {name} mean?") == (metric,), name


def test_a_findings_name_read_back_gets_what_the_measure_its_rule_reads_means():
    """An analysis names its findings ("Squashed transients", "over_compressed"); a student quoting one ("It says
    squashed transients") is told what the measure that rule judges means, as for a measure's own name."""
    base = KnowledgeBase.builtin()
    metrics, engine = base.teaching.metrics, Engine()
    for question, metric in (
        ("It says squashed transients", "transient_crest_db"),
        ("What does over-compressed mean?", "crest_factor_db"),
        ("what does over_compressed mean", "crest_factor_db"),
        ("Why does it say narrow image?", "stereo_width"),
        ("It says burying another track", "burying_share"),
    ):
        reply = engine.chat(question, session=question)
        assert reply.response.startswith(f"As an analysis measures it: {metrics[metric].meaning}"), question
    # every rule with words is found by its title and by its id
    for rule_id, words in base.teaching.rules.items():
        assert rule_id in base.teaching.rules_called(f"It says {words.title}"), words.title
        assert rule_id in base.teaching.rules_called(f"what does {rule_id} mean"), rule_id
    # a finding's name inside a question that asks more is not a question about the name
    assert "As an analysis measures it" not in engine.chat("It says rumble under my vocal, how do I fix it?").response
