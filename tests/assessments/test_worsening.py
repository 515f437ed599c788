"""Worsening pain: episodes and their alert (capture hook and periodic run), delivery on the
non-urgent channel, and one baseline for the worklist, the patient page's chart and the
cohort, in the patient's time zone."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from assessments.alerts.fan_out import alert_fan_out, alerts_escalate
from assessments.capture.services import assessment_record
from assessments.models import Alert, AlertKind, Assessment, Notification, Reminder, Severity, WorseningEpisode
from assessments.outcomes.selectors import CohortFilters
from assessments.outcomes.services import cohort_outcomes
from assessments.outcomes.worsening import patients_to_evaluate, worsening_evaluate
from assessments.tasks import worsening_evaluate_batch
from assessments.worklist import WorklistFilters, worklist_rows
from patients.audit import Actor
from tests.factories import make_patient
from therapies.models import RehabPlan

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def bulk_nrs(patient: Any, rows: list[tuple[dt.datetime, float]]) -> None:
    """Stored entries without the capture service (an import, or data from before)."""
    Assessment.objects.bulk_create(
        Assessment(
            patient=patient,
            instrument="nrs",
            answers={"score": value},
            total=value,
            recorded_at=at,
            client_uuid=uuid.uuid4(),
        )
        for at, value in rows
    )


def log(patient: Any, score: float, at: dt.datetime) -> Assessment:
    return assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="nrs",
        answers={"score": score},
        recorded_at=at,
        client_uuid=uuid.uuid4(),
        source="patient",
    ).assessment


def alerts_of(patient: Any) -> list[Alert]:
    return list(Alert.objects.filter(patient=patient, kind=AlertKind.WORSENING_PAIN).order_by("id"))


@pytest.fixture
def on_plan(clinic: Any, therapist: Any) -> Any:
    """A patient 30 days into a plan whose first week averaged 3."""
    patient = make_patient(clinic, therapists=(therapist,), display_name="On Plan")
    start = timezone.now().astimezone(SHANGHAI).date() - dt.timedelta(days=30)
    RehabPlan.objects.create(patient=patient, version=1, reason="start", start_date=start)
    day0 = dt.datetime.combine(start, dt.time(9), tzinfo=SHANGHAI)
    bulk_nrs(patient, [(day0 + dt.timedelta(days=d), 3.0) for d in range(7)])
    return patient


@pytest.mark.django_db
def test_raised_once_per_episode_and_again_after_it_ended(on_plan: Any, django_capture_on_commit_callbacks: Any):
    now = timezone.now()
    ago = lambda **kw: now - dt.timedelta(**kw)  # noqa: E731
    with django_capture_on_commit_callbacks() as callbacks:
        log(on_plan, 6, ago(days=3))
        log(on_plan, 6, ago(days=2))
        assert alerts_of(on_plan) == []  # two entries are not a 7-day mean
        log(on_plan, 6, ago(days=1))  # mean 6 >= 3 + 2
    (alert,) = alerts_of(on_plan)
    assert alert.severity == Severity.WARNING
    assert "6.0" in alert.message
    assert "3.0" in alert.message
    assert len(callbacks) == 1  # its delivery is queued on commit
    episode = WorseningEpisode.objects.get(patient=on_plan)
    assert episode.ended_at is None
    assert episode.alert_id == alert.pk
    assert (episode.baseline, episode.mean_at_start) == (3.0, 6.0)

    log(on_plan, 7, ago(hours=3))  # still worse: the same episode, no second alert
    assert len(alerts_of(on_plan)) == 1
    episode.refresh_from_db()
    assert episode.last_mean == pytest.approx(25 / 4)

    for minutes in (50, 40, 30):  # mean (25 + 0) / 7 = 3.6 < 5: the episode ends
        log(on_plan, 0, ago(minutes=minutes))
    episode.refresh_from_db()
    assert episode.ended_at is not None
    assert len(alerts_of(on_plan)) == 1
    # Acknowledged or not, the alert stays as it was; ending an episode is not an answer to it.
    alert.refresh_from_db()
    assert alert.acknowledged_at is None

    for minutes in (20, 15, 10, 5, 1):  # (25 + 50) / 12 = 6.25: a new episode
        log(on_plan, 10, ago(minutes=minutes))
    first, second = alerts_of(on_plan)
    assert first.pk == alert.pk
    assert WorseningEpisode.objects.filter(patient=on_plan).count() == 2
    assert WorseningEpisode.objects.get(patient=on_plan, ended_at__isnull=True).alert_id == second.pk


@pytest.mark.django_db
def test_periodic_run_sees_a_patient_who_stopped_logging(on_plan: Any, other_patient: Any):
    now = timezone.now()
    bulk_nrs(on_plan, [(now - dt.timedelta(days=6, hours=12), 2.0)] * 3)
    for days in (3, 2, 1):
        log(on_plan, 7, now - dt.timedelta(days=days))
    assert alerts_of(on_plan) == []  # (6 + 21) / 6 = 4.5 < 5
    # A day later the low entries have left the window; nobody logged anything.
    later = now + dt.timedelta(days=1)
    assert on_plan.pk in patients_to_evaluate(later)
    assert other_patient.pk not in patients_to_evaluate(later)  # never logged, nothing to evaluate
    worsening_evaluate_batch([on_plan.pk], later.isoformat())
    worsening_evaluate_batch([on_plan.pk], later.isoformat())  # a second run changes nothing
    assert len(alerts_of(on_plan)) == 1
    # Still not logging a week later: too few entries to say the pain is better, so the
    # episode stays open and nothing new is raised.
    much_later = now + dt.timedelta(days=9)
    assert on_plan.pk in patients_to_evaluate(much_later)  # the open episode keeps it in
    result = worsening_evaluate([on_plan.pk], now=much_later)
    assert (result.evaluated, result.started, result.ended) == (1, 0, 0)
    episode = WorseningEpisode.objects.get(patient=on_plan)
    assert episode.ended_at is None
    assert episode.last_mean is None


@pytest.mark.django_db
def test_delivered_in_app_to_the_care_team_and_never_escalated(on_plan: Any, therapist: Any, settings: Any):
    settings.SAFETY_ALERT_ESCALATE_MINUTES = 30
    now = timezone.now()
    bulk_nrs(on_plan, [(now - dt.timedelta(days=d), 8.0) for d in (3, 2, 1)])
    assert worsening_evaluate([on_plan.pk], now=now).started == 1
    (alert,) = alerts_of(on_plan)
    assert alert_fan_out(alert.pk, now=now, enqueue=lambda claims: None) == 1
    (note,) = Notification.objects.filter(user=therapist, patient=on_plan)
    assert note.body == alert.message
    assert not Reminder.objects.filter(alert=alert).exists()  # no e-mail, no push
    assert alerts_escalate(now=now + dt.timedelta(hours=2), enqueue=lambda claims: None).escalated == 0
    alert.refresh_from_db()
    assert alert.escalated_at is None


@pytest.mark.django_db
def test_concurrent_evaluations_open_one_episode(on_plan: Any):
    now = timezone.now()
    bulk_nrs(on_plan, [(now - dt.timedelta(days=d), 8.0) for d in (3, 2, 1)])
    # A second evaluation that read "no open episode" before the first one committed.
    WorseningEpisode.objects.create(
        patient=on_plan, started_at=now, day0=now, baseline=3, mean_at_start=8, last_evaluated_at=now
    )
    from assessments.outcomes.worsening import _episode_start, pain_statuses

    assert _episode_start(on_plan.pk, pain_statuses([on_plan.pk], now=now)[on_plan.pk], now) == 0
    assert alerts_of(on_plan) == []


# --- one baseline everywhere, in the patient's time zone --------------------------------------


def chart(response: Any) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="fig-nrs">(.*?)</script>', response.content.decode(), re.S)
    assert match
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_worklist_chart_and_cohort_share_the_baseline_around_local_midnight(
    clinic: Any, therapist: Any, manager: Any, settings: Any
):
    settings.TIME_ZONE = "UTC"  # the server's zone is not the patient's
    patient = make_patient(clinic, therapists=(therapist,), display_name="Shanghai", time_zone="Asia/Shanghai")
    start = timezone.now().astimezone(SHANGHAI).date() - dt.timedelta(days=20)
    RehabPlan.objects.create(patient=patient, version=1, reason="start", start_date=start)

    def local(days: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(start + dt.timedelta(days=days), dt.time(hour, minute), tzinfo=SHANGHAI)

    rows = [
        (local(-1, 23, 30), 10.0),  # the plan's eve: before day 0
        (local(0, 0, 30), 1.0),  # 16:30 UTC the day before: in the baseline week
        *[(local(d, 9), 4.0) for d in range(7)],
        (local(6, 23, 50), 2.0),  # the week's last minutes
        (local(7, 0, 30), 9.0),  # week 1, though within 168 h of the first entry
        *[(timezone.now() - dt.timedelta(days=d, hours=2), 3.0) for d in range(3)],
    ]
    bulk_nrs(patient, rows)
    expected = (1 + 4 * 7 + 2) / 9

    (row,) = worklist_rows(therapist, WorklistFilters())
    assert row.pain_baseline == pytest.approx(expected)

    outcomes = cohort_outcomes(actor=Actor(user=manager), filters=CohortFilters())
    position = outcomes.arrays.patient_ids.tolist().index(patient.pk)
    assert outcomes.pain.baseline[position] == pytest.approx(expected)

    client = Client()
    client.force_login(therapist)
    page = client.get(f"/clinic/patients/{patient.pk}/")
    baseline_line = chart(page)["layout"]["shapes"][0]
    assert baseline_line["y0"] == round(expected, 2)
    assert f"<dd>{expected:.1f}</dd>" in page.content.decode()


@pytest.mark.django_db
def test_worklist_and_patient_page_show_the_worsening_alert(on_plan: Any, therapist: Any):
    now = timezone.now()
    for days in (3, 2, 1):
        log(on_plan, 8, now - dt.timedelta(days=days))
    client = Client()
    client.force_login(therapist)
    worklist = client.get("/clinic/").content.decode()
    assert f'<tr class="row-worsening" data-patient="{on_plan.pk}">' in worklist
    assert "Worsening pain" in worklist
    page = client.get(f"/clinic/patients/{on_plan.pk}/").content.decode()
    (alert,) = alerts_of(on_plan)
    assert f'id="alert-{alert.pk}"' in page
    assert alert.message in page
    assert "need-worsening" in page


@pytest.mark.django_db
def test_hourly_run_fans_out_chunks_of_ids(on_plan: Any, clinic: Any, monkeypatch: Any):
    from assessments import tasks

    now = timezone.now()
    quiet = make_patient(clinic, display_name="Quiet")  # last logged long ago: nothing can change
    bulk_nrs(quiet, [(now - dt.timedelta(days=40), 5.0)])
    bulk_nrs(on_plan, [(now - dt.timedelta(hours=2), 5.0)])
    logging = make_patient(clinic, display_name="Logging")
    bulk_nrs(logging, [(now - dt.timedelta(days=7, hours=12), 5.0)])  # still within 8 days
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.worsening_evaluate_batch, "delay", lambda *args: sent.append(args))
    monkeypatch.setattr(tasks, "PLAN_CHUNK", 1)
    tasks.worsening_evaluate_all(now.isoformat())
    assert sent == [([on_plan.pk], now.isoformat()), ([logging.pk], now.isoformat())]
    json.dumps(sent)  # JSON arguments only


@pytest.mark.django_db
def test_a_failing_evaluation_never_loses_the_entry(on_plan: Any, monkeypatch: Any, caplog: Any):
    from assessments.outcomes import worsening

    def broken(*args: Any, **kwargs: Any) -> Any:
        WorseningEpisode.objects.create(patient=on_plan)  # a database error inside the savepoint
        raise AssertionError("not reached")

    monkeypatch.setattr(worsening, "worsening_evaluate", broken)
    entry = log(on_plan, 9, timezone.now() - dt.timedelta(minutes=1))
    assert Assessment.objects.filter(pk=entry.pk).exists()
    assert "evaluation failed" in caplog.text
