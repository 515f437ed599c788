"""Carry tokens issued by DRF's authtoken app (stored in clear text) over as hashed knox tokens.

A client keeps working with the key it holds until the new lifetime runs out; the clear-text
rows are then deleted. A fresh install has no ``authtoken_token`` table and nothing to do.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def import_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    DeviceToken = apps.get_model("accounts", "DeviceToken")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Membership = apps.get_model("patients", "Membership")
    Patient = apps.get_model("patients", "Patient")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
    now = timezone.now()
    staff_ids = set(Membership.objects.values_list("user_id", flat=True))
    patient_ids = set(Patient.objects.filter(is_active=True, user__isnull=False).values_list("user_id", flat=True))
    users = {u.pk: u for u in User.objects.filter(pk__in=[user_id for _key, user_id in rows])}
    carried = []
    for key, user_id in rows:
        user = users.get(user_id)
        if user is None or not user.is_active:
            continue
        staff = user.is_staff or user.is_superuser or user_id in staff_ids or user_id not in patient_ids
        lifetime = (
            timedelta(hours=settings.AUTH_TOKEN_STAFF_HOURS) if staff else timedelta(days=settings.AUTH_TOKEN_PATIENT_DAYS)
        )
        carried.append(
            DeviceToken(
                digest=hash_token(key),
                token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
                user_id=user_id,
                expiry=now + lifetime,
                device="Signed in before tokens were hashed",
                password_fingerprint=hashlib.sha256(str(user.password).encode()).hexdigest(),
            )
        )
    DeviceToken.objects.bulk_create(carried)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_device_tokens"),
        ("patients", "0003_consent_recorded_by_blank"),
    ]

    operations = [migrations.RunPython(import_drf_tokens, migrations.RunPython.noop)]
