"""Content packs written by the tests: marked as test content, never the licensed wording."""

from __future__ import annotations

from typing import Any

from assessments.instruments.odi import SECTION_KEYS


def odi_pack(language: str = "en", **changes: Any) -> dict[str, Any]:
    """A complete ODI pack whose statements say which score they stand for."""
    zh = language == "zh-hans"
    pack: dict[str, Any] = {
        "instrument": "odi",
        "language": language,
        "kind": "test",
        "title": "测试内容，不是 ODI 原文" if zh else "TEST CONTENT - not the ODI wording",
        "sections": {
            key: {
                "title": f"测试部分 {n}" if zh else f"Test section {n}",
                "statements": [
                    (f"测试描述 {n}.{value}（{value} 分）" if zh else f"Test statement {n}.{value} (scores {value})")
                    for value in range(6)
                ],
            }
            for n, key in enumerate(SECTION_KEYS, start=1)
        },
    }
    pack.update(changes)
    return pack
