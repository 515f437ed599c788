"""On PostgreSQL, refuse UPDATE and DELETE of audit events in the database itself."""

from __future__ import annotations

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION patients_auditevent_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER patients_auditevent_no_update_delete
  BEFORE UPDATE OR DELETE ON patients_auditevent
  FOR EACH ROW EXECUTE FUNCTION patients_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS patients_auditevent_no_update_delete ON patients_auditevent;
DROP FUNCTION IF EXISTS patients_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
