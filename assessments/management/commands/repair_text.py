"""Report (and with ``--fix`` repair) stored text holding NUL or lone UTF-16 surrogates.

Exits with status 1 when rows need repair and ``--fix`` was not given, so a scheduled check
can alert on it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.capture.text_repair import stored_text_scan


class Command(BaseCommand):
    help = (
        "Find rows whose text or JSON columns hold NUL or lone UTF-16 surrogates (they break every read "
        "of the row); with --fix, replace those characters with U+FFFD and audit each repaired row."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fix", action="store_true", help="Repair the rows found (default: report only).")

    def handle(self, *args: Any, **options: Any) -> None:
        fix: bool = options["fix"]
        report = stored_text_scan(fix=fix)
        for finding in report.findings:
            self.stdout.write(finding.describe())
        for problem in report.unreadable:
            self.stderr.write(f"Could not read {problem}")
        fixed = sum(finding.fixed for finding in report.findings)
        self.stdout.write(
            f"Scanned {report.rows_scanned} rows: {len(report.findings)} with invalid text"
            + (f", {fixed} repaired." if fix else ".")
        )
        if report.findings and not fix:
            raise CommandError("Rows need repair: run `manage.py repair_text --fix`.")
