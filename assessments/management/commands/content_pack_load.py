"""Load licensed instrument text (a content pack, one JSON file per language).

    manage.py content_pack_load odi.en.json odi.zh-hans.json

Each file is checked against its instrument and stored as the next version of that
instrument and language (see ``assessments.capture.content_packs``); a file that does not fit
is refused with every problem named, and nothing from it is stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.capture.content_packs import content_pack_load
from config.errors import InvalidInput
from patients.audit import Actor


class Command(BaseCommand):
    help = "Load instrument content packs (licensed wording, one JSON file per language) as new versions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", help="Content pack JSON files.")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = []
        for name in options["files"]:
            path = Path(name)
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                self.stderr.write(f"{path}: not a readable JSON file ({exc}).")
                failed.append(path)
                continue
            try:
                pack = content_pack_load(actor=Actor.system(f"content_pack_load {path.name}"), data=data)
            except InvalidInput as exc:
                for field, message in exc.errors.items():
                    self.stderr.write(f"{path}: {field}: {message}")
                failed.append(path)
                continue
            self.stdout.write(
                f"{path}: loaded {pack.instrument} ({pack.language}) version {pack.version}, {pack.kind}."
            )
        if failed:
            raise CommandError(f"{len(failed)} file(s) not loaded.")
