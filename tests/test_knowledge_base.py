"""The curated knowledge base (data) and the retrieval over it (code)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from codette_lab.chat import FACET_PERSPECTIVES
from codette_lab.errors import KnowledgeError
from codette_lab.knowledge import KnowledgeBase, Query, fill_figures, stem
from codette_lab.knowledge.figures import figure_names
from codette_lab.rules import RuleSet

REQUIRED_TOPICS = {
    "gain_staging", "eq", "compression", "reverb", "delay", "stereo", "low_end", "vocals", "drums", "bass",
    "guitars", "keys", "synths", "mastering", "arrangement", "monitoring", "workflow",
}  # fmt: skip


@pytest.fixture(scope="module")
def base() -> KnowledgeBase:
    return KnowledgeBase.builtin()


def test_builtin_is_loaded_once_from_package_data(base):
    assert KnowledgeBase.builtin() is base
    text = resources.files("codette_lab").joinpath("data", "knowledge_base.json").read_text(encoding="utf-8")
    assert len(json.loads(text)["entries"]) == len(base)


def test_the_base_is_large_and_every_entry_speaks_from_every_perspective(base):
    assert len(base) >= 60
    assert {entry.topic for entry in base} >= REQUIRED_TOPICS
    assert set(base.perspectives) == set(FACET_PERSPECTIVES)
    for entry in base:
        assert set(entry.facets) == set(FACET_PERSPECTIVES), entry.id
        assert len(set(entry.facets.values())) == len(FACET_PERSPECTIVES), entry.id
        assert entry.keywords and entry.title and entry.topic in base.topics
        for instrument in entry.instruments:
            assert base.instrument_of(instrument) == instrument, (entry.id, instrument)


@pytest.mark.parametrize(
    "figure",
    ["-14 LUFS", "-23 LUFS", "-16 LUFS", "-1 dBTP", "79-85 dB SPL", "5 and 8 kHz", "3-5 kHz", "200-400 Hz",
     "60000 / BPM", "pre-delay", "-18 dBFS", "mono"],
)  # fmt: skip
def test_the_concrete_numbers_of_mixing_practice_are_in_the_base(base, figure):
    values = RuleSet.default().snapshot().values
    assert any(figure in fill_figures(text, values.get) for entry in base for text in entry.facets.values())


def test_figures_borrowed_from_the_rule_set_name_its_parameters_and_are_not_copied(base):
    values = RuleSet.default().snapshot().values
    named = {name for entry in base for text in entry.facets.values() for name in figure_names(text)}
    assert {"loudness.streaming_lufs", "loudness.streaming_true_peak_dbtp", "loudness.broadcast_lufs"} <= named
    assert named <= set(values), named - set(values)
    loudness = base.get("loudness-targets")
    assert all("-14 LUFS" not in text and "-23 LUFS" not in text for text in loudness.facets.values())
    tuned = {**values, "loudness.streaming_lufs": -16.0}
    assert "about -16 LUFS integrated" in fill_figures(loudness.facet("mix_engineering"), tuned.get)


@pytest.mark.parametrize(
    ("word", "key"),
    [("vocals", "vocal"), ("panning", "pan"), ("panned", "pan"), ("compression", "compress"),
     ("compressed", "compress"), ("gates", "gat"), ("gating", "gat"), ("releases", "releas"), ("bus", "bus"),
     ("bass", "bass"), ("automation", "automat"), ("808", "808")],
)  # fmt: skip
def test_stemming_maps_word_forms_onto_one_key(word, key):
    assert stem(word) == key


def test_parsing_resolves_phrases_synonyms_and_instrument_aliases(base):
    assert base.parse("How do I high-pass the vox?").terms == ("highpass",)
    assert base.parse("How do I high-pass the vox?").instruments == ("vocal",)
    assert base.parse("bass guitar compression").instruments == ("bass",)
    assert base.parse("kick drum and hi-hat").instruments == ("kick", "cymbals")
    assert base.parse("my compressor is squashing the verb").terms == ("compress", "reverb")
    assert base.parse("what's the weather like").instruments == ()
    assert base.instrument_of("Lead Vox 2") == "vocal"
    assert base.instrument_of("Audio 7") is None


@pytest.mark.parametrize(
    ("instrument", "expected"),
    [("vocal", "vocal-compression"), ("bass", "bass-compression"), ("kick", "kick-compression"),
     ("snare", "snare-compression")],
)  # fmt: skip
def test_instruments_steer_the_ranking(base, instrument, expected):
    assert base.search("compression settings", instruments=[instrument]).best.entry.id == expected


def test_an_instrument_family_counts_for_its_members(base):
    ranking = base.rank(Query(terms={"overview": 1.0, "mix": 1.0}, instruments=("snare",)))
    assert ranking.best.entry.id == "drum-mix-overview"


def test_rankings_are_ordered_and_confidence_is_calibrated(base):
    ranking = base.search("how do I de-ess a vocal", limit=4)
    scores = [hit.score for hit in ranking.hits]
    assert scores == sorted(scores, reverse=True) and len(scores) == 4
    assert ranking.best.entry.id == "vocal-de-essing"
    assert ranking.on_topic and 0.9 <= ranking.confidence <= 0.98
    off = base.search("what is the capital of France")
    assert off.hits == () and off.confidence == 0.05 and not off.on_topic and off.recognised == 0.0


def test_a_custom_base_loads_from_a_file(tmp_path):
    document = {
        "vocabulary": {"stopwords": ["how", "do", "i"], "instruments": {"theremin": {"aliases": ["etherwave"]}}},
        "topics": {"pitch": "pitch"},
        "entries": [
            {"id": "theremin-pitch", "topic": "pitch", "title": "Theremin pitch", "instruments": ["theremin"],
             "keywords": ["antenna"], "facets": {"mix_engineering": "Keep your hand steady near the antenna."}},
            {"id": "tuning", "topic": "pitch", "title": "Tuning", "keywords": ["tuner"],
             "facets": {"mix_engineering": "Tune to A 440 Hz."}},
        ],
    }  # fmt: skip
    path = tmp_path / "kb.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    base = KnowledgeBase.load(path)
    assert len(base) == 2
    assert base.search("how do I play the etherwave antenna").best.entry.id == "theremin-pitch"
    assert base.get("tuning").facet("audio_theory") == "Tune to A 440 Hz."


ENTRY = {"id": "x", "topic": "t", "title": "T", "facets": {"a": "b"}}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"entries": []}, "Knowledge base: field 'vocabulary' is missing (expected an object)"),
        (
            {"vocabulary": {}, "entries": [{"id": "x"}]},
            "Knowledge base entry 0 (id 'x'): field 'entries[0].facets' is missing (expected an object)",
        ),
        (
            {"vocabulary": {}, "entries": [{**ENTRY, "facets": {"a": ""}}]},
            "Knowledge base entry 0 (id 'x'): field 'entries[0].facets.a': expected a non-empty string, got ''",
        ),
        (
            {"vocabulary": {}, "entries": [ENTRY] * 2},
            "field 'entries[1].id': repeats the id 'x' of entries[0]",
        ),
        (
            {"vocabulary": {"regions": {"mud": [500, 150]}}, "entries": [ENTRY]},
            "field 'vocabulary.regions.mud': ends at 150 Hz, not above where it starts (500 Hz)",
        ),
        (
            {"vocabulary": {"regions": {"mud": [150]}}, "entries": [ENTRY]},
            "field 'vocabulary.regions.mud': expected [lowest Hz, highest Hz], two numbers above 0, got [150]",
        ),
    ],
)
def test_malformed_bases_are_refused_with_what_is_wrong(document, problem):
    with pytest.raises(KnowledgeError) as raised:
        KnowledgeBase(document)
    assert problem in str(raised.value)


def test_unreadable_file_names_the_path(tmp_path):
    with pytest.raises(KnowledgeError, match=r"Cannot read knowledge base .*missing\.json"):
        KnowledgeBase.load(tmp_path / "missing.json")


# -- the whole document is checked at load, errors naming the entry and the field -------------------------


def builtin_document() -> dict:
    """A fresh copy of the shipped document, to break one field of."""
    return json.loads(resources.files("codette_lab").joinpath("data", "knowledge_base.json").read_text("utf-8"))


def refusal(document: dict) -> str:
    with pytest.raises(KnowledgeError) as raised:
        KnowledgeBase(document)
    return str(raised.value)


def test_an_entry_without_a_topic_is_named_by_index_and_id():
    document = builtin_document()
    entry_id = document["entries"][12]["id"]
    del document["entries"][12]["topic"]
    assert refusal(document) == (
        f"Knowledge base entry 12 (id '{entry_id}'): field 'entries[12].topic' is missing (expected a non-empty string)"
    )


def test_an_entry_without_an_id_is_named_by_its_index():
    document = builtin_document()
    del document["entries"][3]["id"]
    assert "field 'entries[3].id' is missing" in refusal(document)


def test_an_entry_naming_an_unknown_instrument_is_refused():
    document = builtin_document()
    document["entries"][0]["instruments"] = ["theremin"]
    assert "field 'entries[0].instruments[0]': names 'theremin', not an instrument" in refusal(document)


@pytest.mark.parametrize(
    ("path", "text", "problem"),
    [
        (
            ("answer",), "{title}: {txt}",
            "field 'texts.answer': names the unknown placeholder {txt} (expected {text}, {title})",
        ),
        (
            ("levels", "peak_rules", "headroom"), "trim {ovr:.1f} dB",
            "'texts.levels.peak_rules.headroom': names the unknown placeholder {ovr}",
        ),
        (("levels", "healthy"), "It peaks at {peak:.1q} dBFS.", "'texts.levels.healthy': is not a valid template"),
        (("levels", "fader"), "The fader sits at {volume", "'texts.levels.fader': is not a valid template"),
        (("selected_track",), "Selected: {0}", "'texts.selected_track': names the unknown placeholder {0}"),
    ],
)  # fmt: skip
def test_every_text_is_checked_as_a_template_at_load(path, text, problem):
    document = builtin_document()
    *parents, key = path
    section = document["texts"]
    for parent in parents:
        section = section[parent]
    section[key] = text
    assert problem in refusal(document)


def test_a_missing_text_of_the_builtin_base_is_named():
    document = builtin_document()
    del document["texts"]["levels"]["quiet"]
    with pytest.raises(KnowledgeError, match=r"field 'texts\.levels\.quiet' is missing \(expected a string\)"):
        KnowledgeBase(document)  # a custom base may leave texts out (it gets the built-in ones)...
    del document["texts"]
    assert len(KnowledgeBase(document)) == len(KnowledgeBase.builtin())


@pytest.mark.parametrize(
    ("section", "key", "value", "problem"),
    [
        ("phrases", "kick drum", "kick", "'vocabulary.phrases.kick drum': uses the instrument name 'kick drum'"),
        ("synonyms", "vox", "voice", "'vocabulary.synonyms.vox': uses the instrument name 'vox'"),
    ],
)
def test_instrument_names_live_only_in_the_track_type_table(section, key, value, problem):
    document = builtin_document()
    document["vocabulary"][section][key] = value
    assert problem in refusal(document)


def test_unknown_sections_are_refused_by_name():
    document = builtin_document()
    document["levels"] = {"target_peak_dbfs": -6.0}
    assert "field 'levels': is not a known field" in refusal(document)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Master to {streaming} LUFS.", "has a brace that is not a {group.parameter}"),
        (
            "Master to {loudness.streaming_lufs:q} LUFS.",
            "formats {loudness.streaming_lufs} with 'q', not a number format",
        ),
        ("Use a {curly brace.", "has a brace that is not a {group.parameter}"),
    ],
)
def test_figures_in_entry_texts_are_checked_at_load(text, problem):
    document = builtin_document()
    document["entries"][5]["facets"]["audio_theory"] = text
    assert f"field 'entries[5].facets.audio_theory': {problem}" in refusal(document)
