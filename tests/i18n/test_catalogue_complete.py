"""The Simplified Chinese catalogues are complete: every message of the current sources is translated.

Two checks: the committed catalogues have no empty or fuzzy entries and their compiled
.mo files hold the same translations; and a fresh extraction (`makemessages` run on a
copy of the sources, so the working tree is never touched) finds no message the
committed catalogues lack.
"""

from __future__ import annotations

import ast
import gettext
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
CATALOGUES = [p for p in CATALOGUES if ".venv" not in p.parts and "node_modules" not in p.parts]
SKIP_DIRS = {".git", ".venv", "node_modules", "staticfiles", "var", "tests", "__pycache__", ".mypy_cache"}


@dataclass(frozen=True)
class Entry:
    msgctxt: str | None
    msgid: str
    msgid_plural: str | None
    msgstrs: tuple[str, ...]
    fuzzy: bool
    line: int

    @property
    def untranslated(self) -> bool:
        return not self.msgstrs or any(not text for text in self.msgstrs)


def po_entries(path: Path) -> Iterator[Entry]:
    """The entries of a .po file (header and obsolete `#~` entries left out)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fields: dict[str, list[str]] = {}
    flags: set[str] = set()
    current: list[str] | None = None
    start = 0

    def flush() -> Entry | None:
        if "msgid" not in fields:
            return None
        msgstrs = tuple("".join(v) for k, v in sorted(fields.items()) if k.startswith("msgstr"))
        return Entry(
            msgctxt="".join(fields["msgctxt"]) if "msgctxt" in fields else None,
            msgid="".join(fields["msgid"]),
            msgid_plural="".join(fields["msgid_plural"]) if "msgid_plural" in fields else None,
            msgstrs=msgstrs,
            fuzzy="fuzzy" in flags,
            line=start,
        )

    for number, raw in enumerate([*lines, ""], start=1):
        line = raw.strip()
        if not line:
            entry = flush()
            if entry is not None and entry.msgid:
                yield entry
            fields, flags, current = {}, set(), None
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        if not fields:
            start = number
        if line.startswith('"'):
            assert current is not None, f"{path}:{number}: continuation without a keyword"
            current.append(ast.literal_eval(line))
            continue
        keyword, _space, literal = line.partition(" ")
        current = fields.setdefault(keyword, [])
        current.append(ast.literal_eval(literal))


def describe(path: Path, entry: Entry) -> str:
    return f"{path.relative_to(ROOT)}:{entry.line}: {entry.msgid[:70]!r}"


def test_the_chinese_catalogues_exist() -> None:
    assert ROOT / "locale/zh_Hans/LC_MESSAGES/django.po" in CATALOGUES


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_catalogue_has_no_untranslated_or_fuzzy_entry(path: Path) -> None:
    entries = list(po_entries(path))
    assert len(entries) > 5
    untranslated = [describe(path, e) for e in entries if e.untranslated]
    fuzzy = [describe(path, e) for e in entries if e.fuzzy]
    assert not untranslated, "untranslated:\n" + "\n".join(untranslated)
    assert not fuzzy, "fuzzy (check and remove the flag):\n" + "\n".join(fuzzy)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalogue_matches_the_po_file(path: Path) -> None:
    """A .po edit without `compilemessages` would leave the screens in English."""
    with path.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries(path):
        if entry.msgid_plural is not None:
            continue
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt is not None else entry.msgid
        if compiled._catalog.get(key) != entry.msgstrs[0]:  # type: ignore[attr-defined]
            stale.append(describe(path, entry))
    assert not stale, "run compilemessages; the .mo file differs for:\n" + "\n".join(stale)


def _copy_sources(target: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.startswith(".")}

    for child in ROOT.iterdir():
        if child.name in SKIP_DIRS or child.name.startswith("."):
            continue
        if child.is_dir():
            shutil.copytree(child, target / child.name, ignore=ignore, symlinks=False)
        else:
            shutil.copy2(child, target / child.name)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_fresh_extraction_finds_nothing_untranslated(tmp_path: Path, settings: Any, monkeypatch: Any) -> None:
    """Messages marked in the current sources but missing from the committed catalogues fail here."""
    copy = tmp_path / "src"
    copy.mkdir()
    _copy_sources(copy)
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
    problems = []
    for path in sorted(copy.glob("**/locale/zh_Hans/LC_MESSAGES/django.po")):
        for entry in po_entries(path):
            if entry.untranslated or entry.fuzzy:
                rel = path.relative_to(copy)
                problems.append(
                    f"{rel}:{entry.line}: {'fuzzy' if entry.fuzzy else 'untranslated'} {entry.msgid[:70]!r}"
                )
    assert os.fspath(copy) != os.fspath(ROOT)
    assert not problems, "translate these (then makemessages + compilemessages):\n" + "\n".join(problems)
