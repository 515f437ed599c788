"""The API keeps its published contract: schemathesis generates requests from /api/schema/
for every operation and checks each answer, as a therapist, a patient and a manager.

Checks: no 5xx, the status code is documented, the content type is documented, and the body
matches the documented schema. Path ids are drawn from the role's own records half of the
time (so the 200 bodies are exercised, not only 404s) and from arbitrary integers otherwise.

Bounded and repeatable: a fixed number of cases per operation and role, hypothesis
derandomised (the same cases on every run), no shrinking. SCHEMATHESIS_CASES raises the
count for a deeper local run.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings

from accounts.models import DeviceToken, password_fingerprint
from accounts.services import token_lifetime
from assessments.capture.services import assessment_record
from assessments.models import Alert, Notification
from patients.audit import Actor
from patients.models import CareTeamMember
from tests.factories import make_patient, make_staff, make_user

CASES = int(os.environ.get("SCHEMATHESIS_CASES", "25"))
# Login is fuzzed by the authentication tests (lockout, throttling), not here: a run of
# wrong passwords would lock the test users out.
SKIPPED_PATHS = ("/api/v1/auth/",)


def _schema() -> Any:
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=SchemathesisConfig())


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_in_test_transaction() -> Any:
    """The WSGI app closes "old" database connections around each request; in the test
    that would close the connection holding the test's transaction (Django's own test
    client disconnects the same handlers)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(clinic: Any, therapist: Any, manager: Any, patient: Any, settings: Any, tmp_path: Any) -> dict[str, Any]:
    """A small clinic with data behind every path id the three roles can see."""
    from assessments.thermograms.services import thermogram_upload
    from tests.thermo_images import body, csv_bytes

    settings.MEDIA_ROOT = tmp_path / "media"
    now = timezone.now()
    actor = Actor(user=therapist)
    for days_ago, score in ((9, 7), (5, 6), (1, 4)):
        assessment_record(
            actor=actor,
            patient=patient,
            instrument="nrs",
            answers={"score": score},
            recorded_at=now - timezone.timedelta(days=days_ago),
            client_uuid=uuid.uuid4(),
            source="patient",
        )
    assessment = assessment_record(
        actor=actor,
        patient=patient,
        instrument="phq9",
        answers={f"item{i}": 1 for i in range(1, 10)},
        recorded_at=now - timezone.timedelta(days=2),
        client_uuid=uuid.uuid4(),
        source="patient",
    ).assessment
    alert = Alert.objects.filter(patient=patient).first() or Alert.objects.create(
        patient=patient, kind="suicidal_ideation", severity="critical", message="test", dedupe_key="schemathesis"
    )
    notes = {
        user.pk: Notification.objects.create(user=user, patient=patient, title="New entry", url="/")
        for user in (therapist, manager, patient.user)
    }
    colleague = make_staff(clinic, "therapist", "colleague")
    CareTeamMember.objects.create(patient=patient, user=colleague)
    make_patient(clinic, user=make_user("second-patient"), therapists=(therapist, colleague), display_name="Second")
    thermogram = thermogram_upload(
        actor=actor,
        patient=patient,
        data=csv_bytes(body()),
        client_uuid=uuid.uuid4(),
        recorded_at=now - timezone.timedelta(days=1),
        ambient_c=22.0,
        acclimatisation_min=15,
        view="posterior",
        image_left_is=None,
    ).thermogram
    exercise, media = _exercise_programme(actor, clinic, patient)
    return {
        "patient_id": patient.pk,
        "exercise_id": exercise.pk,
        "media_id": media.pk,
        "assessment_id": assessment.pk,
        "thermogram_id": thermogram.pk,
        "alert_id": alert.pk,
        # A care-team member the fuzzer may remove without locking the therapist out.
        "user_id": colleague.pk,
        "notifications": {user_id: note.pk for user_id, note in notes.items()},
    }


def _exercise_programme(actor: Any, clinic: Any, patient: Any) -> tuple[Any, Any]:
    """The clinic's library, a picture of one exercise and a programme with it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.therapies.test_exercises import item, png_bytes
    from therapies.exercises import exercise_library_install, exercise_media_add, programme_set
    from therapies.models import Exercise

    exercise_library_install(actor=actor, clinic=clinic)
    exercise = Exercise.objects.get(clinic=clinic, slug="bridge")
    media = exercise_media_add(actor=actor, exercise=exercise, upload=SimpleUploadedFile("b.png", png_bytes()))
    programme_set(actor=actor, patient=patient, expected_version=0, reason="Home programme", items=[item(exercise)])
    return exercise, media


def _role_user(role: str, therapist: Any, manager: Any, patient: Any) -> Any:
    return {"therapist": therapist, "manager": manager, "patient": patient.user}[role]


def _exercise(operation: Any, own_ids: dict[str, Any], headers: dict[str, str], checks: list[Any]) -> Any:
    """The bounded, repeatable hypothesis run of one operation."""
    calls = [0]

    @settings(
        max_examples=CASES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def exercise(case: Any) -> None:
        # Every other case (the first included) aims at the role's own records.
        own = calls[0] % 2 == 0
        calls[0] += 1
        if own:
            for name in list(case.path_parameters or {}):
                if name in own_ids:
                    case.path_parameters[name] = own_ids[name]
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks, headers=headers)

    return exercise


@pytest.mark.parametrize("role", ["therapist", "patient", "manager"])
@pytest.mark.usefixtures("wsgi_in_test_transaction")
def test_api_answers_as_documented(role: str, world: dict[str, Any], therapist: Any, manager: Any, patient: Any):
    schema = _schema()
    checks = _checks()
    user = _role_user(role, therapist, manager, patient)
    _token, key = DeviceToken.objects.issue(
        user=user, lifetime=token_lifetime(user), password_fingerprint=password_fingerprint(user)
    )
    headers = {"Authorization": f"Token {key}"}
    own_ids = {**world, "notification_id": world["notifications"][user.pk]}
    failures: list[str] = []
    operations = 0
    started = time.monotonic()

    # Reads first, deletes last: what the writes change (a care team, a plan) is then read too.
    order = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    all_operations = sorted(
        (result.ok() for result in schema.get_all_operations()), key=lambda op: order.get(op.method.upper(), 1)
    )
    for operation in all_operations:
        if operation.path.startswith(SKIPPED_PATHS):
            continue
        operations += 1
        exercise = _exercise(operation, own_ids, headers, checks)
        try:
            exercise()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")

    assert operations >= 25, "the schema lost operations"
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} of {operations} operations broke the contract as {role}:\n\n" + "\n\n".join(
        failures
    )
    print(f"schemathesis as {role}: {operations} operations x {CASES} cases in {elapsed:.1f}s")  # noqa: T201
