"""Recount the weekly NRS sums the cohort summary reads (``assessments.outcomes.nrs_weeks``).

Captures keep the sums themselves, and a patient whose day 0 moved is read from the stored
entries until their next capture; run this after loading NRS entries by any other way
(SQL, COPY, a restore of the assessment table alone), for the patients loaded or all.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assessments.outcomes.nrs_weeks import nrs_weeks_rebuild
from patients.models import Patient


class Command(BaseCommand):
    help = "Recount the weekly NRS sums of the given patients (default: every patient)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("patient_ids", nargs="*", type=int, help="Patient ids (default: all).")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] = options["patient_ids"] or list(Patient.objects.order_by("pk").values_list("pk", flat=True))
        started = time.perf_counter()
        nrs_weeks_rebuild(ids)
        self.stdout.write(f"Recounted the NRS weeks of {len(ids)} patients in {time.perf_counter() - started:.1f} s.")
