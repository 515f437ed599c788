"""Request bodies that cannot break a record.

The API's only parser (``DEFAULT_PARSER_CLASSES``) refuses JSON nested deeper than
:data:`MAX_JSON_DEPTH` and any string, value or object key, holding NUL or a lone UTF-16
surrogate: PostgreSQL refuses both in text and jsonb columns (a 500 at insert), and SQLite
stores them, after which every read of the row that renders it fails. The ``400`` names
where the string is, in DRF's error shape. Plain serializer ``CharField``s refuse the same
characters in query strings (DRF's own validators).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json as drf_json

# Deeper than any body the API defines (a sync entry's thermal ROI sits at depth 5).
MAX_JSON_DEPTH = 16
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_BAD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
NUL_MESSAGE = "must not contain the NUL character (U+0000)"
SURROGATE_MESSAGE = "must not contain a lone UTF-16 surrogate (U+D800 to U+DFFF); send valid Unicode text"
KEY_SUFFIX = " (in an object key)"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored, or ``None``. A lone surrogate cannot be encoded as
    UTF-8 (PostgreSQL refuses it, SQLite stores it and every later read fails) and NUL is
    refused by PostgreSQL text and jsonb columns, so both are refused at the edge."""
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def repaired_text(value: str) -> str:
    """``value`` with every NUL and lone surrogate replaced by U+FFFD."""
    return _BAD_TEXT.sub("\ufffd", value)


class InvalidText(str):
    """A request string that held NUL or a lone surrogate, already repaired (so it can be
    echoed safely). Only views that check text per item receive these (``text_checked_by_view``);
    :func:`text_errors` finds them."""

    problem: str

    def __new__(cls, raw: str, problem: str) -> InvalidText:
        text = super().__new__(cls, repaired_text(raw))
        text.problem = problem
        return text


Path = tuple[str | int, ...]


def json_depth(value: Any) -> int:
    """Nesting depth of decoded JSON (a scalar is 0), level by level, without recursion."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        deeper: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            deeper += [child for child in children if isinstance(child, dict | list)]
        level = deeper
    return depth


def _mark_text(value: Any, path: Path, problems: list[tuple[Path, str]]) -> Any:
    """Replace every bad string (values and keys) by an :class:`InvalidText`; collect where."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is None:
            return value
        problems.append((path, problem))
        return InvalidText(value, problem)
    if isinstance(value, list):
        return [_mark_text(item, (*path, index), problems) for index, item in enumerate(value)]
    if isinstance(value, dict):
        marked: dict[str, Any] = {}
        for key, item in value.items():
            problem = text_problem(key)
            if problem is not None:
                key = InvalidText(key, problem)
                problems.append(((*path, key), problem + KEY_SUFFIX))
            marked[key] = _mark_text(item, (*path, key), problems)
        return marked
    return value


def _path_text(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def error_tree(problems: list[tuple[Path, str]]) -> dict[str, Any]:
    """DRF's error shape for text problems: the top-level field, then the rest of the path
    in the instruments' notation (``{"answers": {"rois[0].region": [...]}}``)."""
    tree: dict[str, Any] = {}
    for path, message in problems:
        if not path:
            tree.setdefault(api_settings.NON_FIELD_ERRORS_KEY, []).append(message)
            continue
        top, rest = str(path[0]) if not isinstance(path[0], int) else f"[{path[0]}]", path[1:]
        if not rest:
            tree.setdefault(top, [])
            if isinstance(tree[top], list):
                tree[top].append(message)
            continue
        nested = tree.setdefault(top, {})
        if isinstance(nested, dict):
            nested.setdefault(_path_text(rest).lstrip("."), []).append(message)
    return tree


def text_errors(value: Any) -> dict[str, Any]:
    """Errors for every :class:`InvalidText` (value or key) left in parsed request data."""
    problems: list[tuple[Path, str]] = []
    stack: list[tuple[Any, Path]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, InvalidText):
            problems.append((path, item.problem))
        elif isinstance(item, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(item))
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, InvalidText):
                    problems.append(((*path, key), key.problem + KEY_SUFFIX))
                stack.append((child, (*path, key)))
    problems.sort(key=lambda problem: _path_text(problem[0]))
    return error_tree(problems)


class SafeJSONParser(JSONParser):
    """JSON bodies that cannot break a record: nesting deeper than :data:`MAX_JSON_DEPTH`
    and any string (value or key) holding NUL or a lone surrogate get a ``400`` naming where.

    A view whose body holds independent items (the offline sync batch) sets
    ``text_checked_by_view = True``: it then receives such strings as :class:`InvalidText`
    and rejects only the items holding one (:func:`text_errors`)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
            # DRF's loads refuses NaN and Infinity (STRICT_JSON, on by default).
            data = drf_json.loads(text) if self.strict else json.loads(text)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        # Strict JSON has no raw control characters in strings, and UTF-8 cannot carry a
        # surrogate: both can only come from a \u escape, so most bodies skip the walk.
        if not _BAD_ESCAPE.search(text):
            return data
        problems: list[tuple[Path, str]] = []
        data = _mark_text(data, (), problems)
        view = (parser_context or {}).get("view")
        if problems and not getattr(view, "text_checked_by_view", False):
            problems.sort(key=lambda problem: _path_text(problem[0]))
            raise ParseError(error_tree(problems))
        return data
