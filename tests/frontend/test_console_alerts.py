"""Therapist console: acknowledging an alert with what was done (htmx and plain POST), the
patient's alert history, the header status that refreshes itself, and the session form's
confirm step for an ended plan."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from django.test import Client

from assessments.alerts.services import alert_acknowledge, alert_raise
from assessments.models import Alert, AlertAction, AlertKind, Severity
from patients.audit import Actor
from patients.models import AuditEvent
from tests.factories import make_patient, make_staff
from tests.factories import page_client as client_for
from tests.therapies.params import BASE
from therapies.services import patient_today

STATUS_QUERIES = 8  # session, user, own patient, memberships, access fetch, audit insert, header facts, pain windows
HISTORY_QUERIES = 7  # session, user, own patient, memberships, access fetch, audit insert, alert history


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: Any) -> None:
    from assessments import tasks

    monkeypatch.setattr(tasks.alert_notify, "delay", lambda *_a, **_k: None)


def raise_alert(patient: Any, kind: str = AlertKind.SUICIDAL_IDEATION, key: str = "") -> Alert:
    alert, _created = alert_raise(
        patient=patient,
        kind=kind,
        severity=Severity.CRITICAL,
        message="PHQ-9 item 9 answered 2",
        dedupe_key=key or f"t:{kind}:{patient.pk}",
    )
    return alert


def ack_url(alert: Alert) -> str:
    return f"/clinic/alerts/{alert.pk}/acknowledge/"


def ack_data(alert: Alert, **fields: str) -> dict[str, str]:
    return {f"ack{alert.pk}-{name}": value for name, value in fields.items()}


def htmx_post(client: Client, url: str, data: dict[str, str]) -> Any:
    return client.post(url, data, HTTP_HX_REQUEST="true")


# -----------------------------------------------------------------------------
# The acknowledgement form
# -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_patient_page_offers_the_actions_for_a_safety_alert(therapist, patient):
    alert = raise_alert(patient)
    page = client_for(therapist).get(f"/clinic/patients/{patient.pk}/").content.decode()
    item = page[page.index(f'id="alert-{alert.pk}"') :]
    item = item[: item.index("</li>")]
    for action in AlertAction.values:
        assert f'name="ack{alert.pk}-action" value="{action}"' in item
    assert "required" in re.search(rf'<input[^>]*name="ack{alert.pk}-action"[^>]*>', item).group(0)
    assert f'name="ack{alert.pk}-reason"' in item
    assert f'name="ack{alert.pk}-note"' in item


@pytest.mark.django_db
def test_htmx_acknowledgement_without_an_action_answers_the_form_with_the_error(therapist, patient):
    alert = raise_alert(patient)
    client = client_for(therapist)
    response = htmx_post(client, ack_url(alert), ack_data(alert, note="seen"))
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li class="alert alert-critical" id="alert-{alert.pk}">')
    assert '<details class="ack" open>' in html
    assert re.search(rf'id="fb-ack{alert.pk}-action"[^>]*><span class="error">Choose what was done', html)
    assert "seen</textarea>" in html  # the note typed is kept
    response = htmx_post(client, ack_url(alert), ack_data(alert, action="no_action_needed"))
    assert re.search(
        rf'id="fb-ack{alert.pk}-reason"[^>]*><span class="error">Give the reason', response.content.decode()
    )
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert not AuditEvent.objects.filter(action="alert.acknowledge").exists()


@pytest.mark.django_db
def test_htmx_acknowledgement_records_the_action_and_tells_the_page(therapist, patient):
    alert = raise_alert(patient)
    response = htmx_post(
        client_for(therapist),
        ack_url(alert),
        ack_data(alert, action="no_action_needed", reason="Answered by mistake, confirmed by phone", note="call 14:05"),
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "alertAcknowledged"
    html = response.content.decode()
    assert "Acknowledged by therapist" in html
    assert "No action needed" in html
    assert "Reason: Answered by mistake, confirmed by phone" in html
    assert "Note: call 14:05" in html
    alert.refresh_from_db()
    assert (alert.acknowledgement_action, alert.acknowledgement_note) == ("no_action_needed", "call 14:05")
    event = AuditEvent.objects.get(action="alert.acknowledge")
    assert event.detail["reason"] == "Answered by mistake, confirmed by phone"


@pytest.mark.django_db
def test_plain_post_refused_shows_the_page_with_the_error_and_accepted_redirects(therapist, patient):
    alert = raise_alert(patient)
    client = client_for(therapist)
    refused = client.post(ack_url(alert), ack_data(alert))
    assert refused.status_code == 400
    assert "Choose what was done" in refused.content.decode()
    done = client.post(ack_url(alert), {**ack_data(alert, action="safety_plan_reviewed"), "next": "worklist"})
    assert done.status_code == 302
    assert done["Location"] == "/clinic/"
    alert.refresh_from_db()
    assert alert.acknowledgement_action == "safety_plan_reviewed"


@pytest.mark.django_db
def test_worklist_safety_panel_has_the_action_form(therapist, patient):
    alert = raise_alert(patient)
    page = client_for(therapist).get("/clinic/").content.decode()
    assert f'name="ack{alert.pk}-action" value="emergency_referral"' in page


@pytest.mark.django_db
def test_non_safety_alert_may_be_closed_without_an_action(therapist, patient):
    alert = raise_alert(patient, AlertKind.MISSED_LOGS)
    response = htmx_post(client_for(therapist), ack_url(alert), ack_data(alert, action=""))
    assert response["HX-Trigger"] == "alertAcknowledged"
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert alert.acknowledgement_action == ""


# -----------------------------------------------------------------------------
# Alert history
# -----------------------------------------------------------------------------


def history_rows(html: str) -> dict[int, str]:
    section = html[html.index('id="alert-history"') :]
    section = section[: section.index("</section>")]
    return {int(pk): row for pk, row in re.findall(r'<tr id="history-(\d+)"[^>]*>(.*?)</tr>', section, re.S)}


@pytest.mark.django_db
def test_patient_page_shows_open_and_acknowledged_alerts_with_who_what_and_note(therapist, patient):
    closed = raise_alert(patient, key="old")
    alert_acknowledge(
        actor=Actor(user=therapist), alert_id=closed.pk, action=AlertAction.EMERGENCY_REFERRAL, note="ED referral"
    )
    still_open = raise_alert(patient, AlertKind.SEVERE_ADVERSE_EVENT, key="new")
    html = client_for(therapist).get(f"/clinic/patients/{patient.pk}/").content.decode()
    rows = history_rows(html)
    assert set(rows) == {closed.pk, still_open.pk}
    assert "therapist ·" in rows[closed.pk]
    assert "Emergency referral" in rows[closed.pk]
    assert "Note: ED referral" in rows[closed.pk]
    assert "Severe adverse event after a session" in rows[still_open.pk]
    assert ">Open<" in rows[still_open.pk]
    assert 'hx-trigger="alertAcknowledged from:body"' in html


@pytest.mark.django_db
def test_history_endpoint_answers_the_card_for_htmx(therapist, patient, manager, django_assert_num_queries):
    alert = raise_alert(patient)
    client = client_for(therapist)
    url = f"/clinic/patients/{patient.pk}/alerts/"
    with django_assert_num_queries(HISTORY_QUERIES):
        response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    assert response.content.decode().lstrip().startswith('<section class="card alert-history" id="alert-history"')
    assert alert.pk in history_rows(response.content.decode())
    plain = client.get(url)  # the same fragment, and caches told it may differ for htmx
    assert plain.status_code == 200
    assert "HX-Request" in plain["Vary"]
    assert client_for(manager).get(url, HTTP_HX_REQUEST="true").status_code == 200
    assert client_for(make_staff(patient.clinic, "therapist")).get(url, HTTP_HX_REQUEST="true").status_code == 404


@pytest.mark.django_db
def test_history_query_count_does_not_grow_with_acknowledgers(therapist, clinic, django_assert_num_queries):
    patient = make_patient(clinic, therapists=(therapist,))
    for index in range(6):
        alert = raise_alert(patient, key=f"h{index}")
        alert_acknowledge(
            actor=Actor(user=make_staff(clinic, "therapist")), alert_id=alert.pk, action=AlertAction.CONTACTED_PATIENT
        )
    client = client_for(therapist)
    with django_assert_num_queries(HISTORY_QUERIES):
        response = client.get(f"/clinic/patients/{patient.pk}/alerts/", HTTP_HX_REQUEST="true")
    assert len(history_rows(response.content.decode())) == 6


# -----------------------------------------------------------------------------
# The header status badge
# -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_header_status_polls_and_listens_for_acknowledgements(therapist, patient):
    raise_alert(patient)
    html = client_for(therapist).get(f"/clinic/patients/{patient.pk}/").content.decode()
    header = re.search(r'<dl class="need-facts" id="need-facts"[^>]*>', html).group(0)
    assert f'hx-get="/clinic/patients/{patient.pk}/status/"' in header
    assert 'hx-trigger="every 30s, alertAcknowledged from:body"' in header
    assert 'hx-swap="outerHTML"' in header


@pytest.mark.django_db
def test_header_status_endpoint_follows_the_alerts(therapist, patient, django_assert_num_queries):
    client = client_for(therapist)
    url = f"/clinic/patients/{patient.pk}/status/"

    def badge() -> str:
        with django_assert_num_queries(STATUS_QUERIES):
            response = client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
        html = response.content.decode()
        assert html.lstrip().startswith('<dl class="need-facts" id="need-facts"')
        return re.search(r'<span class="badge need-badge need-(\w+)"[^>]*>([^<]*)</span>', html).groups()

    assert badge()[0] != "safety"
    alert = raise_alert(patient)
    assert badge() == ("safety", "Open safety alert")  # a new alert shows without a reload
    htmx_post(client, ack_url(alert), ack_data(alert, action="contacted_patient"))
    assert badge()[0] != "safety"
    assert AuditEvent.objects.filter(action="view.status", patient_id=patient.pk).count() == 3
    plain = client.get(url)  # the same fragment, and caches told it may differ for htmx
    assert plain.status_code == 200
    assert "HX-Request" in plain["Vary"]


@pytest.mark.django_db
def test_header_status_is_for_the_patients_staff_only(therapist, patient, manager, other_clinic):
    url = f"/clinic/patients/{patient.pk}/status/"
    assert client_for(manager).get(url, HTTP_HX_REQUEST="true").status_code == 200
    assert client_for(make_staff(other_clinic, "therapist")).get(url, HTTP_HX_REQUEST="true").status_code == 404
    assert client_for(patient.user).get(url, HTTP_HX_REQUEST="true").status_code == 404


# -----------------------------------------------------------------------------
# Sessions of an ended plan: a confirm step
# -----------------------------------------------------------------------------

TDCS = BASE["tdcs"]


def ended_tdcs_plan(patient: Any, last_day: dt.date) -> Any:
    from therapies.models import PlanComponent, RehabPlan

    plan = RehabPlan.objects.create(
        patient=patient, version=1, reason="tDCS block", start_date=last_day - dt.timedelta(days=13)
    )
    return PlanComponent.objects.create(
        plan=plan,
        modality="tdcs",
        layer="central",
        parameters=TDCS,
        frequency_per_week=5,
        duration_weeks=2,
        sessions_prescribed=10,
    )


def session_data(component: Any, **extra: str) -> dict[str, str]:
    data = {
        "client_uuid": str(uuid.uuid4()),
        "component": str(component.pk),
        "modality": "",
        "delivered_at": "",
        "adverse_event": "none",
        "adverse_event_note": "",
        "tolerance": "well",
        "override_reason": "",
        **{f"p_{k}": str(v) for k, v in TDCS.items()},
        **extra,
    }
    return {f"ses-{k}": v for k, v in data.items()}


@pytest.mark.django_db
def test_session_of_an_ended_plan_needs_a_confirm(therapist, patient):
    from therapies.models import TherapySession

    last_day = patient_today(patient) - dt.timedelta(days=1)
    component = ended_tdcs_plan(patient, last_day)
    client = client_for(therapist)
    url = f"/clinic/patients/{patient.pk}/sessions/new/"
    chosen = client.get(url, {"ses-component": component.pk}, HTTP_HX_REQUEST="true").content.decode()
    assert f"Version 1 of the plan ended on {last_day.isoformat()}" in chosen
    assert 'name="ses-confirm_ended_plan"' in chosen
    first = htmx_post(client, url, session_data(component)).content.decode()
    assert re.search(r'id="fb-ses-confirm_ended_plan"[^>]*><span class="error">This plan ended on', first)
    assert not TherapySession.objects.exists()
    confirmed = htmx_post(client, url, session_data(component, confirm_ended_plan="on")).content.decode()
    assert "Session recorded." in confirmed
    assert TherapySession.objects.get().component_id == component.pk


@pytest.mark.django_db
def test_session_delivered_while_the_plan_ran_needs_no_confirm(therapist, patient):
    from therapies.models import TherapySession

    last_day = patient_today(patient) - dt.timedelta(days=1)
    component = ended_tdcs_plan(patient, last_day)
    url = f"/clinic/patients/{patient.pk}/sessions/new/"
    backdated = htmx_post(
        client_for(therapist), url, session_data(component, delivered_at=f"{last_day.isoformat()}T10:00")
    )
    assert "Session recorded." in backdated.content.decode()
    assert TherapySession.objects.count() == 1


@pytest.mark.django_db
def test_running_plan_has_no_confirm_step(therapist, patient):
    component = ended_tdcs_plan(patient, patient_today(patient) + dt.timedelta(days=3))
    form = client_for(therapist).get(
        f"/clinic/patients/{patient.pk}/sessions/new/", {"ses-component": component.pk}, HTTP_HX_REQUEST="true"
    )
    assert "confirm_ended_plan" not in form.content.decode()
    assert "ended on" not in form.content.decode()


@pytest.mark.django_db
def test_plan_card_marks_an_ended_plan(therapist, patient):
    last_day = patient_today(patient) - dt.timedelta(days=1)
    ended_tdcs_plan(patient, last_day)
    html = client_for(therapist).get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert f"Ended on {last_day.isoformat()}" in html


# -----------------------------------------------------------------------------
# Chinese
# -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_acknowledgement_form_and_history_speak_chinese(therapist, patient):
    alert = raise_alert(patient)
    client = client_for(therapist)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(f"/clinic/patients/{patient.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for text in ("已联系患者", "紧急转诊", "已复核安全计划", "无需处理", "警报记录"):
        assert text in html, text
    refused = htmx_post(client, ack_url(alert), ack_data(alert)).content.decode()
    assert "请选择" in refused


@pytest.mark.django_db
def test_alert_texts_built_by_services_show_in_chinese(therapist, patient):
    """Safety, worsening, missed-entry and adverse-event alerts keep an English record but read in Chinese."""
    from assessments.alerts import text as alert_text

    raised = [
        (alert_text.SAFETY_PRORATED, {"item9": 2, "total": "14"}, "PHQ-9 第 9 题回答 2（总分 14，按比例折算）。"),
        (alert_text.MISSED_LOGS, {"misses": 3, "instrument": "NRS", "since": "2026-11-01"}, "连续 3 次未填写 NRS"),
        (
            alert_text.SEVERE_ADVERSE_EVENT_NOTE,
            {"modality": "tDCS", "when": "2026-11-02 09:30", "note": "头痛"},
            "2026-11-02 09:30 UTC 进行 tDCS 后出现严重不良事件：头痛",
        ),
    ]
    for number, (code, args, _zh) in enumerate(raised):
        alert, _created = alert_raise(
            patient=patient,
            kind=AlertKind.SUICIDAL_IDEATION,
            severity=Severity.CRITICAL,
            message_code=code,
            message_args=args,
            dedupe_key=f"t:zh:{number}",
        )
        assert alert.message == alert_text.TEMPLATES[code] % args  # the record stays English
    client = client_for(therapist)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(f"/clinic/patients/{patient.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for _code, _args, zh in raised:
        assert zh in html, zh
    assert "PHQ-9 item 9 answered" not in html
    assert "diary entries missed" not in html
    english = client_for(therapist).get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert "PHQ-9 item 9 answered 2 (total 14, prorated)." in english


def test_alert_text_falls_back_to_the_stored_message() -> None:
    from assessments.alerts.text import SAFETY_SCORED, alert_message_display

    assert alert_message_display("", {}, "Free text") == "Free text"
    assert alert_message_display("retired_code", {"x": 1}, "Stored") == "Stored"
    assert alert_message_display(SAFETY_SCORED, {"item9": 1}, "Stored") == "Stored"  # argument missing
