"""JSON comparison: equality within a tolerance, subsets, and the paths in differences."""

from __future__ import annotations

from azmlinfsrv.cases import Tolerance, compare


def messages(expected, actual, **kw) -> list[str]:
    return [str(d) for d in compare(expected, actual, **kw)]


def test_equal_documents_have_no_difference() -> None:
    doc = {"a": [1, 2.5, {"b": None, "c": "x"}], "d": True}
    assert compare(doc, doc) == []


def test_numbers_within_the_default_relative_tolerance_are_equal() -> None:
    assert compare([1.0, 203.49034130608567], [1.0000005, 203.4903413]) == []
    assert compare(1, 1.0) == []


def test_numbers_beyond_the_tolerance_say_by_how_much() -> None:
    assert messages({"p": [1.0, 2.0]}, {"p": [1.0, 2.001]}) == [
        "$.p[1]: expected 2.0, got 2.001 (relative difference 5.0e-04 > tolerance 1e-06)"
    ]
    assert compare(2.0, 2.001, tolerance=Tolerance(relative=1e-2)) == []


def test_absolute_tolerance_covers_values_near_zero() -> None:
    assert compare(0.0, 1e-12) != []
    assert compare(0.0, 1e-12, tolerance=Tolerance(absolute=1e-9)) == []


def test_booleans_are_not_numbers_and_types_are_named() -> None:
    assert messages(True, 1) == ["$: expected boolean true, got number 1"]
    assert messages({"a": "3"}, {"a": 3}) == ['$.a: expected string "3", got number 3']
    assert messages(None, {}) == ["$: expected null null, got object {}"]


def test_missing_and_unexpected_members_have_their_paths() -> None:
    assert messages({"a": 1, "odd key": 2}, {"a": 1, "z": [3]}) == [
        '$["odd key"]: missing (expected 2)',
        "$.z: unexpected member [3]",
    ]


def test_arrays_of_different_lengths_list_the_items() -> None:
    assert messages([1, 2, 3], [1, 2]) == ["$: expected 3 items, got 2", "$[2]: missing item (expected 3)"]
    assert messages([[1]], [[1, "x"]]) == ["$[0]: expected 1 items, got 2", '$[0][1]: unexpected item "x"']


def test_strings_differ_exactly_and_long_values_are_shortened() -> None:
    assert messages("Hello, world!", "Hi, world!") == ['$: expected "Hello, world!", got "Hi, world!"']
    (line,) = messages("a" * 200, "b")
    assert line.endswith('got "b"') and "..." in line and len(line) < 200


def test_subset_allows_extra_members_but_not_other_values() -> None:
    actual = {"service": "x", "accepts": ["image/png", "image/jpeg"], "extra": 1}
    assert compare({"accepts": ["image/png", "image/jpeg"]}, actual, subset=True) == []
    assert messages({"service": "y"}, actual, subset=True) == ['$.service: expected "y", got "x"']
    # Arrays keep their length; their items are matched as subsets.
    assert messages({"accepts": ["image/png"]}, actual, subset=True)[0] == "$.accepts: expected 1 items, got 2"
    assert compare([{"a": 1}], [{"a": 1, "b": 2}], subset=True) == []
