"""The curated knowledge base (data) and the retrieval over it (code)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from codette_lab.chat import BUILTIN_PERSPECTIVES
from codette_lab.knowledge import KnowledgeBase, KnowledgeError, Query, stem

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
    assert REQUIRED_TOPICS <= {entry.topic for entry in base}
    assert set(base.perspectives) == set(BUILTIN_PERSPECTIVES)
    for entry in base:
        assert set(entry.facets) == set(BUILTIN_PERSPECTIVES), entry.id
        assert len(set(entry.facets.values())) == len(BUILTIN_PERSPECTIVES), entry.id
        assert entry.keywords and entry.title and entry.topic in base.topics
        for instrument in entry.instruments:
            assert base.instrument_of(instrument) == instrument, (entry.id, instrument)


@pytest.mark.parametrize(
    "figure",
    ["-14 LUFS", "-23 LUFS", "-16 LUFS", "-1 dBTP", "79-85 dB SPL", "5 and 8 kHz", "3-5 kHz", "200-400 Hz",
     "60000 / BPM", "pre-delay", "-18 dBFS", "mono"],
)  # fmt: skip
def test_the_concrete_numbers_of_mixing_practice_are_in_the_base(base, figure):
    assert any(figure in text for entry in base for text in entry.facets.values())


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


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"entries": []}, "Knowledge base is malformed: KeyError: 'vocabulary'"),
        ({"vocabulary": {}, "entries": [{"id": "x"}]}, "Knowledge base is malformed: KeyError: 'facets'"),
        (
            {"vocabulary": {}, "entries": [{"id": "x", "topic": "t", "title": "T", "facets": {"a": ""}}]},
            "entry 'x' needs non-empty facet texts",
        ),
        (
            {"vocabulary": {}, "entries": [{"id": "x", "topic": "t", "title": "T", "facets": {"a": "b"}}] * 2},
            "duplicate entry ids: x",
        ),
    ],
)
def test_malformed_bases_are_refused_with_what_is_wrong(document, problem):
    with pytest.raises(KnowledgeError) as raised:
        KnowledgeBase(document)
    assert problem in str(raised.value)


def test_unreadable_file_names_the_path(tmp_path):
    with pytest.raises(KnowledgeError, match="Cannot read knowledge base .*missing.json"):
        KnowledgeBase.load(tmp_path / "missing.json")
