"""PostgreSQL: a covering partial index for the cohort engine's NRS window and weekly reads.

The cohort selector reads (patient, recorded_at, total) of NRS rows per patient; with
``total`` included the reads are index-only scans. SQLite has no INCLUDE, and its cohorts
are small, so the index exists on PostgreSQL only.
"""

from __future__ import annotations

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS assessment_nrs_series_cover
    ON assessments_assessment (patient_id, recorded_at) INCLUDE (total)
    WHERE instrument = 'nrs' AND total IS NOT NULL
"""
DROP = "DROP INDEX IF EXISTS assessment_nrs_series_cover"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("assessments", "0002_reminder_delivery")]
    operations = [migrations.RunPython(forwards, backwards)]
