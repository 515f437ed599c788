"""Load the starter exercise library (therapies/exercise_library.py) into a clinic.

Adds only the exercises the clinic does not have yet, so it is safe to run again and a
clinic's own edits to its copy are kept.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from patients.audit import Actor
from patients.models import Clinic
from therapies.exercises import exercise_library_install


class Command(BaseCommand):
    help = "Load the starter exercise library (en, zh-hans) into the clinic with the given slug."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("clinic", help="The clinic's slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = Clinic.objects.filter(slug=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"No clinic with slug {options['clinic']!r}.")
        created = exercise_library_install(actor=Actor.system("load_exercise_library"), clinic=clinic)
        self.stdout.write(self.style.SUCCESS(f"{created} exercises added to {clinic.name}."))
