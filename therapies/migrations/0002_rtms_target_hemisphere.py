"""rTMS targets record their hemisphere.

A stored left-DLPFC target is in the left hemisphere by name, so those rows get
``hemisphere: "left"``. An M1 or "other" target stored without a side is left as it is:
which hemisphere was stimulated cannot be known from the row, and the next plan version
or session asks the therapist for it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def _left_dlpfc_rows(model: Any) -> Any:
    return model.objects.filter(modality="rtms", parameters__site="left_DLPFC").exclude(
        parameters__has_key="hemisphere"
    )


def record_left_dlpfc_hemisphere(apps: Any, schema_editor: Any) -> None:
    for name in ("PlanComponent", "TherapySession"):
        model = apps.get_model("therapies", name)
        for row in _left_dlpfc_rows(model).iterator():
            params = {}
            for key, value in row.parameters.items():
                params[key] = value
                if key == "site":
                    params["hemisphere"] = "left"
            row.parameters = params
            row.save(update_fields=["parameters"])


class Migration(migrations.Migration):
    dependencies = [
        ("therapies", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(record_left_dlpfc_hemisphere, migrations.RunPython.noop),
    ]
