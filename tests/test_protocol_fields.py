"""The shared path-tracking reader (``protocol/fields.py``) and the one table of request wire names."""

from __future__ import annotations

import json

import pytest

from codette_lab.protocol import REQUEST_TYPES, AnalyzeRequest, ChatRequest, PingRequest, StatusRequest, parse_request
from codette_lab.protocol.fields import Reader


class Refusal(Exception):
    """What the test's error factory raises: the kind of error and its arguments, to compare exactly."""


class Texts:
    def missing(self, path, expected):
        return Refusal("missing", path, expected)

    def invalid(self, path, expected, value):
        return Refusal("invalid", path, expected, value)

    def out_of_range(self, path, expected, value):
        return Refusal("range", path, expected, value)

    def problem(self, path, text):
        return Refusal("problem", path, text)


DOCUMENT = {
    "entries": [
        {"topic": "eq", "facets": {"audio_theory": "x"}},
        {"topic": "", "weight": -1, "count": 2.5, "tags": ["a", 3], "on": "yes", "facets": []},
    ],
    "gone": None,
}


def refusal(read) -> tuple:
    with pytest.raises(Refusal) as caught:
        read(Reader(DOCUMENT, Texts()))
    return caught.value.args


def second(reader: Reader) -> Reader:
    return reader.array("entries")[1]


def test_children_know_their_dotted_and_indexed_paths():
    entries = Reader(DOCUMENT, Texts()).array("entries")
    assert [entry.path for entry in entries] == ["entries[0]", "entries[1]"]
    facets = entries[0].object("facets")
    assert facets.path == "entries[0].facets"
    assert facets.at("audio_theory") == "entries[0].facets.audio_theory"
    assert facets.text("audio_theory") == "x"
    assert [item.path for item in Reader(DOCUMENT, Texts()).array("entries")[1].array("tags")] == [
        "entries[1].tags[0]",
        "entries[1].tags[1]",
    ]


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (lambda r: r.array("entries")[0].text("title"), ("missing", "entries[0].title", "a string")),
        (lambda r: second(r).text("topic", non_empty=True), ("invalid", "entries[1].topic", "a non-empty string", "")),
        (lambda r: second(r).number("weight", minimum=0), ("range", "entries[1].weight", "a number >= 0", -1)),
        (
            lambda r: second(r).number("weight", minimum=0, maximum=1),
            ("range", "entries[1].weight", "a number between 0 and 1", -1),
        ),
        (lambda r: second(r).integer("count"), ("invalid", "entries[1].count", "a whole number", 2.5)),
        (lambda r: second(r).flag("on"), ("invalid", "entries[1].on", "true or false", "yes")),
        (lambda r: second(r).object("facets"), ("invalid", "entries[1].facets", "an object", [])),
        (lambda r: second(r).strings("tags"), ("invalid", "entries[1].tags[1]", "a string", 3)),
        (lambda r: second(r).strings("tags", choices=("a", "b")), ("invalid", "entries[1].tags[1]", "a string", 3)),
        (
            lambda r: r.array("entries")[0].choice("topic", ("mix", "master")),
            ("invalid", "entries[0].topic", "one of mix, master", "eq"),
        ),
        (
            lambda r: r.array("entries")[0].only(("topic",), what="entry field"),
            ("problem", "entries[0].facets", "unknown entry field (expected one of topic)"),
        ),
        (lambda r: r.text("gone"), ("invalid", "gone", "a string", None)),
        (lambda r: r.object("entries"), ("invalid", "entries", "an object", DOCUMENT["entries"])),
        (
            lambda r: r.array("entries")[0].object("facets").number("audio_theory"),
            ("invalid", "entries[0].facets.audio_theory", "a number", "x"),
        ),
    ],
)
def test_each_getter_refuses_through_the_callers_factory_naming_the_full_path(read, expected):
    assert refusal(read) == expected


def test_absent_fields_give_the_default_and_null_counts_as_absent_only_when_asked():
    strict, lenient = Reader(DOCUMENT, Texts()), Reader(DOCUMENT, Texts(), null_is_absent=True)
    assert strict.text("nothing", "fallback") == "fallback"
    assert strict.number("nothing", None) is None
    assert strict.array("nothing", required=False) == []
    assert strict.strings("nothing", required=False) == ()
    assert lenient.text("gone", None) is None
    assert lenient.has("gone") is False and strict.has("gone") is True
    with pytest.raises(Refusal):
        lenient.text("gone")


def test_numbers_must_be_finite_and_whole_numbers_may_be_written_as_floats():
    reader = Reader({"nan": float("nan"), "three": 3.0, "flag": True}, Texts())
    with pytest.raises(Refusal) as caught:
        reader.number("nan")
    assert caught.value.args[:3] == ("invalid", "nan", "a finite number")
    assert reader.integer("three") == 3
    assert refusal_of(lambda: reader.number("flag")) == ("invalid", "flag", "a number", True)
    assert refusal_of(lambda: reader.integer("three", minimum=4)) == ("range", "three", "a whole number >= 4", 3.0)


def refusal_of(read) -> tuple:
    with pytest.raises(Refusal) as caught:
        read()
    return caught.value.args


# -- the wire name of each request type, in one place ----------------------------------------------------


def test_each_request_class_names_its_wire_type_and_the_parser_table_follows_it():
    classes = (PingRequest, StatusRequest, ChatRequest, AnalyzeRequest)
    assert tuple(cls.TYPE for cls in classes) == REQUEST_TYPES
    frames = {
        "ping": {},
        "status": {},
        "chat": {"message": "hi"},
        "analyze": {"track_data": {}},
    }
    for cls in classes:
        request = parse_request(json.dumps({"type": cls.TYPE, **frames[cls.TYPE]}))
        assert type(request) is cls and request.TYPE == cls.TYPE
