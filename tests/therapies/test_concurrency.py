"""Real concurrency on PostgreSQL: two editors saving the same plan version at once, and a
phone resending a session while the first request is still in flight.

SQLite serialises writers, so these only mean something on PostgreSQL and skip elsewhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction

from config.errors import ConflictError
from patients.audit import Actor
from tests.conftest import client_for
from tests.therapies.params import component, plan_body, session_body
from therapies.models import PlanComponent, RehabPlan, TherapySession
from therapies.services import plan_version_create

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrent transactions"),
]


def _in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs at the same moment, each on its own connection; return their results."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - reported to the test as a result
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_therapists_saving_version_2_at_once(therapist, patient):
    first = client_for(therapist)
    assert (
        first.post(f"/api/v1/patients/{patient.pk}/plan/", plan_body(component("tdcs")), format="json").status_code
        == 201
    )
    for version in range(1, 6):
        bodies = [
            plan_body(component("rtms"), version=version, reason=f"A{version}"),
            plan_body(component("exercise"), version=version, reason=f"B{version}"),
        ]

        def post(body: dict[str, Any]) -> Any:
            return client_for(therapist).post(f"/api/v1/patients/{patient.pk}/plan/", body, format="json")

        responses = _in_threads(lambda b=bodies[0]: post(b), lambda b=bodies[1]: post(b))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 409], [(r.status_code, r.content[:200]) for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert "version" in loser.json()
        winner = next(r for r in responses if r.status_code == 201).json()
        stored = RehabPlan.objects.get(patient=patient, version=version + 1)
        assert stored.reason == winner["reason"]
        assert list(PlanComponent.objects.filter(plan=stored).values_list("modality", flat=True)) == [
            winner["components"][0]["modality"]
        ]
    assert RehabPlan.objects.filter(patient=patient).count() == 6


def test_the_unique_constraint_catches_an_editor_who_read_before_the_other_committed(therapist, patient):
    """Deterministic: B reads version 1 while A's version 2 is written but not committed."""
    actor = Actor(user=therapist)
    plan_version_create(
        actor=actor, patient=patient, expected_version=None, reason="v1", components=[component("tdcs")]
    )
    a_inserted = threading.Event()
    b_waiting = threading.Event()

    def editor_a() -> Any:
        with transaction.atomic():
            plan = plan_version_create(
                actor=actor, patient=patient, expected_version=1, reason="A", components=[component("rtms")]
            )
            a_inserted.set()
            b_waiting.wait(timeout=10)
            time.sleep(0.3)  # B is now blocked on the unique index, behind A's uncommitted row
        return plan

    def editor_b() -> Any:
        a_inserted.wait(timeout=10)
        b_waiting.set()
        return plan_version_create(
            actor=actor, patient=patient, expected_version=1, reason="B", components=[component("exercise")]
        )

    a, b = _in_threads(editor_a, editor_b)
    assert isinstance(a, RehabPlan), a
    assert isinstance(b, ConflictError), b
    assert "version" in b.errors
    assert list(RehabPlan.objects.filter(patient=patient).order_by("version").values_list("reason", flat=True)) == [
        "v1",
        "A",
    ]


def test_concurrent_resends_of_one_session_store_it_once(therapist, patient):
    body = session_body()

    def post() -> Any:
        return client_for(therapist).post(f"/api/v1/patients/{patient.pk}/sessions/", body, format="json")

    responses = _in_threads(post, post, post)
    assert sorted(r.status_code for r in responses) == [200, 200, 201], [r.content[:200] for r in responses]
    assert TherapySession.objects.filter(client_uuid=body["client_uuid"]).count() == 1
    assert len({r.json()["id"] for r in responses}) == 1
