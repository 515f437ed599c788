"""The API's JSON parser: NUL, lone surrogates (as escapes, any case) and nesting depth."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError

from config.parsers import (
    MAX_JSON_DEPTH,
    InvalidText,
    SafeJSONParser,
    json_depth,
    repaired_text,
    text_errors,
    text_problem,
)


class PerItemView:
    text_checked_by_view = True


def parse(text: str, view: Any = None) -> Any:
    return SafeJSONParser().parse(io.BytesIO(text.encode()), parser_context={"view": view} if view else {})


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a": "x\\ud800"}', "a"),
        ('{"a": "x\\uDFFF"}', "a"),
        ('{"a": "\\u0000"}', "a"),
        ('{"a": {"b": [1, "\\ud83d"]}}', "a"),
        ('{"a\\u0000": 1}', "a\ufffd"),
    ],
)
def test_bad_text_is_a_parse_error_naming_where(text: str, where: str) -> None:
    with pytest.raises(ParseError) as excinfo:
        parse(text)
    detail = excinfo.value.detail
    assert isinstance(detail, dict)
    assert where in detail


def test_nested_path_and_key_messages() -> None:
    with pytest.raises(ParseError) as excinfo:
        parse('{"answers": {"rois": [{"region": "\\ud800"}], "k\\udc00": 1}}')
    detail = excinfo.value.detail
    assert isinstance(detail, dict)
    assert set(detail["answers"]) == {"k\ufffd", "rois[0].region"}
    assert "object key" in str(detail["answers"]["k\ufffd"][0])


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "\\ud83d\\ude00"}',  # a surrogate pair is one valid character
        '{"a": "\\\\ud800"}',  # an escaped backslash followed by text, not an escape
        '{"a": "\\u00e9\\u4e2d"}',
    ],
)
def test_valid_text_passes(text: str) -> None:
    assert parse(text) == json.loads(text)


def test_per_item_views_get_marked_repaired_text() -> None:
    data = parse('{"entries": [{"x": "a\\ud800"}, {"x": "fine"}]}', view=PerItemView())
    first = data["entries"][0]["x"]
    assert isinstance(first, InvalidText)
    assert first == "a\ufffd"
    assert text_errors(data["entries"][0]) == {"x": [first.problem]}
    assert text_errors(data["entries"][1]) == {}


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 50_000])
def test_depth_limit(depth: int) -> None:
    with pytest.raises(ParseError, match="nested deeper"):
        parse("[" * depth + "]" * depth)
    assert json_depth(parse("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)) == MAX_JSON_DEPTH


def test_nan_and_bad_json_stay_parse_errors() -> None:
    for text in ('{"a": NaN}', '{"a": 1', "\xff"):
        with pytest.raises(ParseError):
            parse(text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text())
def test_text_problem_and_repair_agree(value: str) -> None:
    """A string is refused exactly when it holds NUL or a surrogate; repair always yields
    storable text of the same length."""
    bad = any(ch == "\x00" or 0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    assert (text_problem(value) is not None) == bad
    fixed = repaired_text(value)
    assert text_problem(fixed) is None
    assert len(fixed) == len(value)
    fixed.encode("utf-8")


def _has_bad_text(value: Any) -> bool:
    if isinstance(value, str):
        return text_problem(value) is not None
    if isinstance(value, list):
        return any(_has_bad_text(item) for item in value)
    if isinstance(value, dict):
        return any(_has_bad_text(key) or _has_bad_text(item) for key, item in value.items())
    return False


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(json_values)
def test_any_json_value_is_accepted_unchanged_or_refused_for_a_reason(value: Any) -> None:
    text = json.dumps({"v": value})  # ASCII escapes, as clients send lone surrogates
    try:
        parsed = parse(text)
    except ParseError:
        assert _has_bad_text(value) or json_depth(value) + 1 > MAX_JSON_DEPTH
        return
    assert not _has_bad_text(value)
    assert parsed == {"v": value}
