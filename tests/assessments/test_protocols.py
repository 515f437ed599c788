"""Protocols applied to patients, due-item planning, quiet hours and DST (services, no worker)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from assessments.capture.services import assessment_record
from assessments.models import (
    DueItem,
    DueStatus,
    PatientProtocol,
    Reminder,
    ReminderStatus,
)
from assessments.reminders.protocols import (
    due_items_plan,
    patients_to_plan,
    protocol_apply,
    protocol_preview,
)
from config.errors import InvalidInput
from patients.audit import Actor
from patients.models import AuditEvent
from patients.services import consent_record
from tests.factories import make_patient, make_user

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def diary(local_time: str = "09:00", window_hours: int = 24) -> list[dict[str, Any]]:
    return [{"instrument": "nrs", "every_days": 1, "local_time": local_time, "window_hours": window_hours}]


def apply(actor_user: Any, patient: Any, *, now: dt.datetime, start: dt.date, **kwargs: Any) -> PatientProtocol:
    return protocol_apply(actor=Actor(user=actor_user), patient=patient, start_date=start, now=now, **kwargs)


def reminder_times(patient: Any, channel: str = "in_app") -> dict[dt.date, dt.datetime]:
    rows = Reminder.objects.filter(patient=patient, channel=channel).select_related("due_item")
    return {r.due_item.local_date: r.send_at for r in rows}


# --- applying --------------------------------------------------------------------------------------


def test_apply_uses_the_diagnosis_template_and_plans_48h(therapist: Any, patient: Any) -> None:
    now = utc(2026, 5, 4, 0, 0)  # 08:00 in Shanghai
    protocol = apply(therapist, patient, now=now, start=dt.date(2026, 5, 4))
    assert protocol.protocol_code == "clbp"
    assert [i["instrument"] for i in protocol.items] == ["nrs", "odi", "phq9", "gad7"]
    assert protocol.channels == ["in_app"]
    items = list(DueItem.objects.filter(patient=patient).order_by("due_at", "instrument"))
    # Baseline questionnaires and two daily diaries (4th and 5th May 09:00 Shanghai = 01:00 UTC).
    assert {(i.instrument, i.due_at) for i in items} == {
        ("nrs", utc(2026, 5, 4, 1)),
        ("nrs", utc(2026, 5, 5, 1)),
        ("odi", utc(2026, 5, 4, 1)),
        ("phq9", utc(2026, 5, 4, 1)),
        ("gad7", utc(2026, 5, 4, 1)),
    }
    reminders = Reminder.objects.filter(patient=patient)
    assert reminders.count() == 5
    for reminder in reminders:
        assert reminder.send_at == reminder.due_item.due_at
        assert reminder.expires_at == reminder.due_item.closes_at
        assert reminder.recipient_id == patient.user_id
        assert reminder.dedupe_key == f"due:{reminder.due_item_id}:in_app"
    assert AuditEvent.objects.filter(action="protocol.apply", patient_id=patient.pk).count() == 1


def test_plan_is_idempotent(therapist: Any, patient: Any) -> None:
    now = utc(2026, 5, 4)
    apply(therapist, patient, now=now, start=dt.date(2026, 5, 4))
    before = (DueItem.objects.count(), Reminder.objects.count())
    for _ in range(3):
        result = due_items_plan(patient.pk, now)
        assert result.items_created == 0
        assert result.reminders_created == 0
    assert (DueItem.objects.count(), Reminder.objects.count()) == before
    later = due_items_plan(patient.pk, now + dt.timedelta(hours=24))
    assert later.items_created == 1  # the next diary came into the horizon
    assert patients_to_plan(now) == [patient.pk]


@pytest.mark.parametrize(
    ("field", "value", "error_key"),
    [
        ("items", [{"instrument": "thermal", "every_days": 1}], "items"),
        ("items", [{"instrument": "nrs", "every_days": 1, "local_time": "9am"}], "items"),
        ("items", [{"instrument": "nrs", "every_days": 0}], "items"),
        ("items", [{"instrument": "nrs", "every_days": 1}, {"instrument": "nrs", "every_days": 2}], "items"),
        ("items", [], "items"),
        ("channels", ["fax"], "channels"),
        ("channels", ["email"], "channels"),  # login has no e-mail address
        ("channels", ["sms"], "sms_number"),
        ("sms_number", "13800138000", "sms_number"),
        ("protocol_code", "nope", "protocol_code"),
        ("quiet_start", dt.time(22), "quiet_end"),
    ],
)
def test_apply_rejects_bad_input_naming_the_field(
    therapist: Any, patient: Any, field: str, value: Any, error_key: str
) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        apply(therapist, patient, now=utc(2026, 5, 4), start=dt.date(2026, 5, 4), **{field: value})
    assert error_key in excinfo.value.errors
    assert not PatientProtocol.objects.exists()


def test_item_errors_name_index_and_field(therapist: Any, patient: Any) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        apply(
            therapist,
            patient,
            now=utc(2026, 5, 4),
            start=dt.date(2026, 5, 4),
            items=[{"instrument": "nrs", "every_days": 1, "local_time": "25:00", "colour": "red"}],
        )
    assert set(excinfo.value.errors["items"]["0"]) == {"local_time", "colour"}


def test_edit_replans_future_items_and_keeps_open_ones(therapist: Any, patient: Any) -> None:
    start = dt.date(2026, 5, 4)
    apply(therapist, patient, now=utc(2026, 5, 4), start=start, items=diary("09:00"))
    # 4 May 09:00 Shanghai (01:00Z) is open at 02:00Z; 5 May is in the future.
    now = utc(2026, 5, 4, 2)
    apply(therapist, patient, now=now, start=start, items=diary("20:00"))
    rows = {(i.due_at, i.status) for i in DueItem.objects.filter(patient=patient)}
    assert (utc(2026, 5, 4, 1), DueStatus.CANCELLED) in rows  # today's 20:00 replaces it
    assert (utc(2026, 5, 5, 1), DueStatus.CANCELLED) in rows
    assert (utc(2026, 5, 4, 12), DueStatus.PENDING) in rows
    assert (utc(2026, 5, 5, 12), DueStatus.PENDING) in rows
    assert not Reminder.objects.filter(due_item__status=DueStatus.CANCELLED).exists()
    # Back to 09:00: the cancelled future slot comes back with a fresh reminder.
    apply(therapist, patient, now=now, start=start, items=diary("09:00"))
    revived = DueItem.objects.get(patient=patient, due_at=utc(2026, 5, 5, 1))
    assert revived.status == DueStatus.PENDING
    assert revived.reminders.get().status == ReminderStatus.PENDING


def test_time_zone_change_is_healed_by_the_next_plan(therapist: Any, patient: Any) -> None:
    now = utc(2026, 5, 4)
    apply(therapist, patient, now=now, start=dt.date(2026, 5, 4), items=diary("09:00"))
    patient.time_zone = "Europe/Berlin"
    patient.save(update_fields=["time_zone"])
    due_items_plan(patient.pk, now)
    pending = sorted(DueItem.objects.filter(patient=patient, status=DueStatus.PENDING).values_list("due_at", flat=True))
    assert pending == [utc(2026, 5, 4, 7), utc(2026, 5, 5, 7)]  # 09:00 CEST


def test_deactivating_cancels_future_items(therapist: Any, patient: Any) -> None:
    now = utc(2026, 5, 4)
    apply(therapist, patient, now=now, start=dt.date(2026, 5, 4), items=diary())
    apply(therapist, patient, now=now, start=dt.date(2026, 5, 4), items=diary(), is_active=False)
    assert not DueItem.objects.filter(patient=patient, status=DueStatus.PENDING).exists()
    assert not Reminder.objects.filter(patient=patient).exists()


# --- channels and consent ------------------------------------------------------------------------------


def test_external_channels_need_the_reminders_consent(therapist: Any, clinic: Any) -> None:
    user = make_user(email="p@example.org")
    patient = make_patient(clinic, user=user, therapists=(therapist,))
    now = utc(2026, 5, 4)
    apply(
        therapist,
        patient,
        now=now,
        start=dt.date(2026, 5, 4),
        items=diary(),
        channels=["in_app", "email", "sms"],
        sms_number="+8613800138000",
    )
    assert set(Reminder.objects.values_list("channel", flat=True)) == {"in_app"}
    consent_record(actor=Actor(user=therapist), patient=patient, kind="reminders", granted=True)
    due_items_plan(patient.pk, now)
    assert sorted(reminder_times(patient, "email")) == sorted(reminder_times(patient, "in_app"))
    assert Reminder.objects.filter(channel="sms").count() == 2
    consent_record(actor=Actor(user=therapist), patient=patient, kind="reminders", granted=False)
    due_items_plan(patient.pk, now)
    assert set(Reminder.objects.values_list("channel", flat=True)) == {"in_app"}


def test_sms_reaches_a_patient_without_login(therapist: Any, clinic: Any) -> None:
    patient = make_patient(clinic, therapists=(therapist,))
    consent_record(actor=Actor(user=therapist), patient=patient, kind="reminders", granted=True)
    with pytest.raises(InvalidInput) as excinfo:
        apply(therapist, patient, now=utc(2026, 5, 4), start=dt.date(2026, 5, 4), items=diary(), channels=["in_app"])
    assert "channels" in excinfo.value.errors
    apply(
        therapist,
        patient,
        now=utc(2026, 5, 4),
        start=dt.date(2026, 5, 4),
        items=diary(),
        channels=["sms"],
        sms_number="+8613800138000",
    )
    assert set(Reminder.objects.values_list("channel", "recipient_id")) == {("sms", None)}


# --- quiet hours and DST ---------------------------------------------------------------------------------


def test_quiet_hours_defer_reminders_not_due_times(therapist: Any, patient: Any) -> None:
    now = utc(2026, 5, 3, 12)
    apply(
        therapist,
        patient,
        now=now,
        start=dt.date(2026, 5, 4),
        items=diary("06:30"),
        quiet_start=dt.time(22),
        quiet_end=dt.time(7, 30),
    )
    item = DueItem.objects.filter(patient=patient).earliest("due_at")
    assert item.due_at == utc(2026, 5, 3, 22, 30)  # 06:30 Shanghai
    assert item.reminders.get().send_at == utc(2026, 5, 3, 23, 30)  # 07:30 Shanghai
    # Quiet hours changed: pending reminders of future items follow.
    apply(
        therapist,
        patient,
        now=now,
        start=dt.date(2026, 5, 4),
        items=diary("06:30"),
        quiet_start=dt.time(22),
        quiet_end=dt.time(8),
    )
    assert item.reminders.get().send_at == utc(2026, 5, 4, 0, 0)


def test_no_reminder_when_quiet_hours_outlast_the_window(therapist: Any, patient: Any) -> None:
    apply(
        therapist,
        patient,
        now=utc(2026, 5, 3, 12),
        start=dt.date(2026, 5, 4),
        items=diary("23:00", window_hours=2),
        quiet_start=dt.time(22),
        quiet_end=dt.time(7),
    )
    assert DueItem.objects.filter(patient=patient).exists()
    assert not Reminder.objects.filter(patient=patient).exists()


def test_protocol_applied_late_reminds_now_not_in_quiet_hours(therapist: Any, patient: Any) -> None:
    # Applied at 23:00 Shanghai: today's 09:00 diary is still open until tomorrow 09:00.
    now = utc(2026, 5, 4, 15)
    apply(
        therapist,
        patient,
        now=now,
        start=dt.date(2026, 5, 4),
        items=diary("09:00"),
        quiet_start=dt.time(22),
        quiet_end=dt.time(7),
    )
    today = DueItem.objects.get(patient=patient, local_date=dt.date(2026, 5, 4))
    assert today.reminders.get().send_at == utc(2026, 5, 4, 23)  # 07:00 next morning


DST_CASES = [
    # zone, plan start (UTC), {local date: expected reminder instant (UTC)}
    (
        "America/New_York",
        utc(2026, 3, 7, 6),
        "09:00",
        {dt.date(2026, 3, 7): utc(2026, 3, 7, 14), dt.date(2026, 3, 8): utc(2026, 3, 8, 13)},
    ),
    (
        "America/New_York",
        utc(2026, 10, 31, 5),
        "09:00",
        {dt.date(2026, 10, 31): utc(2026, 10, 31, 13), dt.date(2026, 11, 1): utc(2026, 11, 1, 14)},
    ),
    (
        "Europe/Berlin",
        utc(2026, 3, 28, 0),
        "09:00",
        {dt.date(2026, 3, 28): utc(2026, 3, 28, 8), dt.date(2026, 3, 29): utc(2026, 3, 29, 7)},
    ),
    (
        "Europe/Berlin",
        utc(2026, 10, 24, 0),
        "09:00",
        {dt.date(2026, 10, 24): utc(2026, 10, 24, 7), dt.date(2026, 10, 25): utc(2026, 10, 25, 8)},
    ),
    # Wall times inside the spring-forward gap are pushed forward by the gap (02:30 → 03:30) ...
    ("America/New_York", utc(2026, 3, 7, 12), "02:30", {dt.date(2026, 3, 8): utc(2026, 3, 8, 7, 30)}),
    ("Europe/Berlin", utc(2026, 3, 28, 12), "02:30", {dt.date(2026, 3, 29): utc(2026, 3, 29, 1, 30)}),
    # ... and ambiguous ones in the fall-back overlap take the first occurrence.
    ("America/New_York", utc(2026, 10, 31, 12), "01:30", {dt.date(2026, 11, 1): utc(2026, 11, 1, 5, 30)}),
    ("Europe/Berlin", utc(2026, 10, 24, 12), "02:30", {dt.date(2026, 10, 25): utc(2026, 10, 25, 0, 30)}),
]


@pytest.mark.parametrize(("tz", "now", "local_time", "expected"), DST_CASES)
def test_reminders_on_dst_days_at_the_right_utc_instant(
    therapist: Any, clinic: Any, tz: str, now: dt.datetime, local_time: str, expected: dict[dt.date, dt.datetime]
) -> None:
    patient = make_patient(clinic, user=make_user(), therapists=(therapist,), time_zone=tz)
    apply(therapist, patient, now=now, start=now.date() - dt.timedelta(days=3), items=diary(local_time))
    got = reminder_times(patient)
    for day, instant in expected.items():
        assert got[day] == instant, (tz, day)


@pytest.mark.parametrize(
    ("tz", "now", "expected"),
    [
        # quiet 22:00-07:30, diary due 06:00 → reminder at 07:30 local, on either side of the change
        (
            "America/New_York",
            utc(2026, 3, 7, 6),
            {dt.date(2026, 3, 7): utc(2026, 3, 7, 12, 30), dt.date(2026, 3, 8): utc(2026, 3, 8, 11, 30)},
        ),
        (
            "America/New_York",
            utc(2026, 10, 31, 5),
            {dt.date(2026, 10, 31): utc(2026, 10, 31, 11, 30), dt.date(2026, 11, 1): utc(2026, 11, 1, 12, 30)},
        ),
        (
            "Europe/Berlin",
            utc(2026, 3, 28, 0),
            {dt.date(2026, 3, 28): utc(2026, 3, 28, 6, 30), dt.date(2026, 3, 29): utc(2026, 3, 29, 5, 30)},
        ),
        (
            "Europe/Berlin",
            utc(2026, 10, 24, 0),
            {dt.date(2026, 10, 24): utc(2026, 10, 24, 5, 30), dt.date(2026, 10, 25): utc(2026, 10, 25, 6, 30)},
        ),
    ],
)
def test_quiet_hours_across_dst(
    therapist: Any, clinic: Any, tz: str, now: dt.datetime, expected: dict[dt.date, dt.datetime]
) -> None:
    patient = make_patient(clinic, user=make_user(), therapists=(therapist,), time_zone=tz)
    apply(
        therapist,
        patient,
        now=now,
        start=now.date(),
        items=diary("06:00"),
        quiet_start=dt.time(22),
        quiet_end=dt.time(7, 30),
    )
    got = reminder_times(patient)
    for day, instant in expected.items():
        assert got[day] == instant, (tz, day)


# --- early completion ------------------------------------------------------------------------------------


def test_entry_made_before_the_protocol_completes_todays_item(therapist: Any, patient: Any) -> None:
    recorded = utc(2026, 5, 3, 23, 30)  # 07:30 on 4 May in Shanghai, before the 09:00 diary
    assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="nrs",
        answers={"score": 4},
        recorded_at=recorded,
        client_uuid=uuid.uuid4(),
        source="patient",
        now=recorded,
    )
    apply(therapist, patient, now=utc(2026, 5, 4), start=dt.date(2026, 5, 4), items=diary())
    today = DueItem.objects.get(patient=patient, local_date=dt.date(2026, 5, 4))
    assert today.status == DueStatus.COMPLETED
    assert not today.reminders.exists()
    tomorrow = DueItem.objects.get(patient=patient, local_date=dt.date(2026, 5, 5))
    assert tomorrow.status == DueStatus.PENDING
    assert tomorrow.reminders.count() == 1


def test_preview_lists_next_due_items(therapist: Any, patient: Any) -> None:
    now = utc(2026, 5, 4)
    template = protocol_preview(patient, now, 3)  # not applied: the template from today
    assert [s.instrument for s in template] == ["gad7", "nrs", "odi"]
    apply(therapist, patient, now=now, start=dt.date(2026, 5, 10), items=diary())
    slots = protocol_preview(patient, now, 2)
    assert [s.due_at for s in slots] == [utc(2026, 5, 10, 1), utc(2026, 5, 11, 1)]


# --- API ----------------------------------------------------------------------------------------------------


def test_protocol_api_get_template_then_put(therapist_client: Any, patient_client: Any, patient: Any) -> None:
    url = f"/api/v1/patients/{patient.pk}/protocol/"
    response = patient_client.get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["applied"] is False
    assert body["protocol_code"] == "clbp"
    assert len(body["preview"]) == 5

    response = therapist_client.put(
        url,
        {"start_date": "2026-05-04", "items": diary("08:15"), "quiet_start": "22:00", "quiet_end": "07:00"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] is True
    assert body["items"][0]["local_time"] == "08:15"
    assert body["quiet_start"] == "22:00"
    assert body["channels"] == ["in_app"]
    assert "+08:00" in body["preview"][0]["due_local"]

    # PUT without quiet hours keeps them; the patient may read, not edit the schedule.
    response = therapist_client.put(url, {"start_date": "2026-05-04"}, format="json")
    assert response.json()["quiet_end"] == "07:00"
    assert response.json()["items"][0]["local_time"] == "08:15"
    refused = patient_client.put(url, {"start_date": "2026-05-04"}, format="json")
    assert refused.status_code == 400
    assert "start_date" in refused.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start_date": "soon"}, "start_date"),
        ({"channels": ["pigeon"]}, "channels"),
        ({"items": [{"instrument": "nrs", "every_days": 1, "window_hours": 0}]}, "items"),
        ({"quiet_start": "22:00"}, "quiet_end"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_protocol_api_bad_input_is_400_naming_the_field(
    therapist_client: Any, patient: Any, body: dict[str, Any], field: str
) -> None:
    response = therapist_client.put(f"/api/v1/patients/{patient.pk}/protocol/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_protocol_api_refuses_manager_and_other_team(
    manager_client: Any, api_client_for: Any, other_patient: Any, patient: Any, therapist: Any
) -> None:
    assert manager_client.get(f"/api/v1/patients/{patient.pk}/protocol/").status_code == 200
    assert (
        manager_client.put(
            f"/api/v1/patients/{patient.pk}/protocol/", {"start_date": "2026-05-04"}, format="json"
        ).status_code
        == 404
    )
    assert (
        api_client_for(therapist)
        .put(f"/api/v1/patients/{other_patient.pk}/protocol/", {"start_date": "2026-05-04"}, format="json")
        .status_code
        == 404
    )


def test_due_api_lists_today_for_the_patient_app(
    therapist: Any, patient_client: Any, patient: Any, django_assert_num_queries: Any
) -> None:
    from django.utils import timezone

    now = timezone.now()
    today = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    apply(
        therapist,
        patient,
        now=now,
        start=today,
        items=[*diary("00:00"), {"instrument": "phq9", "every_days": 14, "window_hours": 72}],
    )
    # Token (joined with the patient's own record), the audit event, the items.
    with django_assert_num_queries(3):
        response = patient_client.get(f"/api/v1/patients/{patient.pk}/due/")
    assert response.status_code == 200
    body = response.json()
    assert body["date"] == today.isoformat()
    assert body["time_zone"] == "Asia/Shanghai"
    instruments = {item["instrument"]: item for item in body["items"]}
    assert set(instruments) == {"nrs", "phq9"}
    assert instruments["nrs"]["is_open"] is True
    assert instruments["nrs"]["name"]["zh-hans"]


def test_patient_sets_own_reminder_preferences_but_not_the_schedule(
    therapist_client: Any, patient_client: Any, patient: Any
) -> None:
    url = f"/api/v1/patients/{patient.pk}/protocol/"
    assert therapist_client.put(url, {"protocol_code": "clbp"}, format="json").status_code == 200
    consent_record(actor=Actor.system("test"), patient=patient, kind="reminders", granted=True)
    patient.user.email = "patient@example.org"
    patient.user.save(update_fields=["email"])
    mine = patient_client.put(
        url,
        {"channels": ["in_app", "email"], "quiet_start": "22:00", "quiet_end": "07:00", "is_active": True},
        format="json",
    )
    assert mine.status_code == 200, mine.content
    assert sorted(mine.json()["channels"]) == ["email", "in_app"]
    before = AuditEvent.objects.filter(patient_id=patient.pk, action="protocol.apply").count()
    refused = patient_client.put(url, {"protocol_code": "neuropathic", "items": [], "is_active": False}, format="json")
    assert refused.status_code == 400
    assert {"protocol_code", "items", "is_active"} <= set(refused.json())
    assert AuditEvent.objects.filter(patient_id=patient.pk, action="protocol.apply").count() == before
    assert patient_client.get(url).json()["protocol_code"] == "clbp"
