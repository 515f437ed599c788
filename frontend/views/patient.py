"""The patient PWA under /app/: one app-shell page and the JSON its progress chart reads.

The page is the app shell the service worker caches (frontend/static/frontend/sw.js), so it
must work offline with whatever it was rendered with: every string the JavaScript shows is
rendered into the page here, in the user's language, and the crisis resources for PHQ-9
item 9 are bundled static text (no network needed to show them). Instrument wording comes
from GET /api/v1/instruments/ (bilingual, cached by the service worker); entries go to an
IndexedDB queue first and reach the server through POST /api/v1/sync/.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from assessments.capture.content_packs import text_available
from assessments.capture.selectors import assessment_series
from assessments.instruments import INSTRUMENTS
from assessments.outcomes.windows import pain_change_pct
from assessments.outcomes.worsening import pain_statuses
from frontend.charts import Band, patient_progress_figure, patient_score_figure
from frontend.forms import bilingual
from frontend.views.exercise_strings import exercise_js_strings
from patients.access import PatientNotFound, own_patient_id, patient_get_for
from patients.audit import Actor
from patients.models import Patient

# Pain entries plotted on "My progress" (the last ~3 months of a daily diary).
PROGRESS_POINTS = 120

# Questionnaires the patient sees over time on "My progress", with the names the app uses.
SCORE_CHARTS = {
    "phq9": (gettext_lazy("Mood (PHQ-9)"), "PHQ-9"),
    "gad7": (gettext_lazy("Worry and anxiety (GAD-7)"), "GAD-7"),
    "odi": (gettext_lazy("Back pain and daily life (ODI)"), "ODI"),
}


def _own_patient(request: HttpRequest, audit: str) -> Patient:
    """The signed-in user's own patient record; staff and strangers get a 404."""
    patient_id = own_patient_id(request.user)
    if patient_id is None:
        raise Http404("No patient record for this account.")
    try:
        return patient_get_for(Actor.from_request(request), patient_id, audit=audit)
    except PatientNotFound as exc:
        raise Http404 from exc


def _lang() -> str:
    return "zh-hans" if (get_language() or "en").lower().startswith("zh") else "en"


def _local(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _progress(patient: Patient) -> dict[str, Any]:
    try:
        tz = zoneinfo.ZoneInfo(patient.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    series: dict[str, list[tuple[str, float]]] = {}
    for code in ("nrs", "vas"):
        rows = list(
            assessment_series(patient, instrument=code)
            .order_by("-recorded_at", "-id")
            .values_list("recorded_at", "total")[:PROGRESS_POINTS]
        )
        series[code] = [(_local(at, tz), total) for at, total in reversed(rows) if total is not None]
    status = pain_statuses([patient.pk])[patient.pk]
    figure = patient_progress_figure(
        nrs=series["nrs"],
        vas=series["vas"],
        baseline=status.baseline_mean,
        labels={
            "nrs": _("Pain 0-10 (NRS)"),
            "vas": _("Pain line, mm (VAS)"),
            "goal": _("Goal: pain 30 percent lower than at the start"),
            "nrs_axis": _("Pain (0–10)"),
            "vas_axis": _("Pain line (mm)"),
        },
    )
    # Extra keys beside data/layout: the app draws the figure from data and layout only.
    figure["summary"] = pain_sentence(pain_change_pct(status))
    figure["scores"] = _scores(patient, tz)
    return figure


def pain_sentence(change_pct: float | None) -> str:
    """One plain sentence comparing the last 7 days with the first week of the plan."""
    if change_pct is None:
        return _(
            "After a week of pain entries at the start and three in the last 7 days, "
            "this page compares your pain with when you started."
        )
    shown = round(abs(change_pct))
    if shown < 1:
        return _("Your pain is about the same as when you started.")
    if change_pct < 0:
        return _("Your pain is %(pct)s %% lower than when you started.") % {"pct": shown}
    return _("Your pain is %(pct)s %% higher than when you started.") % {"pct": shown}


def _scores(patient: Patient, tz: zoneinfo.ZoneInfo) -> list[dict[str, Any]]:
    """PHQ-9, GAD-7 and ODI totals over time on their severity bands, those the patient has answered."""
    points: dict[str, list[tuple[dt.date, float]]] = {code: [] for code in SCORE_CHARTS}
    rows = (
        assessment_series(patient)
        .filter(instrument__in=list(SCORE_CHARTS), total__isnull=False)
        .values_list("instrument", "recorded_at", "total")
    )
    for code, at, total in rows:
        if total is not None:
            points[code].append((at.astimezone(tz).date(), total))
    scores = []
    for code, (title, short) in SCORE_CHARTS.items():
        if not points[code]:
            continue
        instrument = INSTRUMENTS[code]
        latest = points[code][-1][1]
        band = next((b for b in instrument.bands if b.low <= latest <= b.high), None)
        scores.append(
            {
                "code": code,
                "title": str(title),
                "latest": _("Latest: %(total)s (%(band)s)") % {"total": f"{latest:g}", "band": bilingual(band.label)}
                if band is not None
                else _("Latest: %(total)s") % {"total": f"{latest:g}"},
                "figure": patient_score_figure(
                    points[code],
                    bands=[Band(b.low, b.high, bilingual(b.label)) for b in instrument.bands],
                    name=short,
                    no_data=_("No entries yet"),
                ),
            }
        )
    return scores


def _plan_page_url(patient: Patient) -> str:
    """The rendered two-lane plan page (frontend/views/plan.py), where it is installed."""
    try:
        return reverse("frontend:plan", kwargs={"patient_id": patient.pk})
    except NoReverseMatch:
        return ""


# Everything app.js shows, translated when the page is rendered so the cached page works
# offline: key -> text (placeholders in %(name)s form, filled in by app.js).
JS_STRINGS: dict[str, Any] = {
    "offline": gettext_lazy("You are offline. Entries are kept on this phone and sent when you are back online."),
    "online": gettext_lazy("Back online."),
    "saved_queued": gettext_lazy("Saved on this phone. It will be sent when you are online."),
    "saved_sent": gettext_lazy("Saved and sent to your clinic."),
    "state_queued": gettext_lazy("Waiting to send"),
    "state_sending": gettext_lazy("Sending…"),
    "state_synced": gettext_lazy("Sent"),
    "state_rejected": gettext_lazy("Needs correction"),
    "saved_rejected": gettext_lazy(
        "Your clinic could not accept this entry. It is kept under “My entries”: correct it there."
    ),
    "sync_rejected_one": gettext_lazy("An entry needs correction. See “My entries”."),
    "sync_rejected": gettext_lazy("%(count)s entries need correction. See “My entries”."),
    "dismiss": gettext_lazy("Remove"),
    "fix": gettext_lazy("Correct it"),
    "discard": gettext_lazy("Discard"),
    "discard_confirm": gettext_lazy("Discard this entry? It will not reach your clinic."),
    "discard_yes": gettext_lazy("Yes, discard"),
    "keep": gettext_lazy("Keep it"),
    "fixing": gettext_lazy("You are correcting an entry your clinic could not accept: %(reason)s"),
    "reason_recorded_at": gettext_lazy(
        "The date or time of this entry was not accepted. Correct it to record it as of now."
    ),
    "reason_answer": gettext_lazy("The answer to “%(item)s” was not accepted."),
    "reason_incomplete": gettext_lazy("Some answers are missing or too many questions were skipped."),
    "reason_instrument": gettext_lazy("This questionnaire cannot be sent from the app."),
    "reason_patient": gettext_lazy("This entry belongs to a different account."),
    "reason_detail": gettext_lazy("Details from the clinic"),
    "safety_alert_raised": gettext_lazy("Your care team has been told about your answer to question 9."),
    "retry": gettext_lazy("Send now"),
    "no_entries": gettext_lazy("Nothing logged yet."),
    "draft_title": gettext_lazy("You have unfinished answers"),
    "draft_started": gettext_lazy("You started this on %(time)s: %(count)s of %(total)s answered."),
    "draft_resume": gettext_lazy("Continue where I left off"),
    "draft_discard": gettext_lazy("Start again"),
    "draft_discard_confirm": gettext_lazy("Discard your unfinished answers? They have not been sent to your clinic."),
    "draft_discard_safety": gettext_lazy(
        "Your answer to question 9 has already been sent, so your care team is still told."
    ),
    "draft_meta": gettext_lazy("Started: %(count)s of %(total)s answered. Tap to continue."),
    "missing_required": gettext_lazy("Question %(n)s is not answered yet."),
    "too_many_skipped": gettext_lazy(
        "%(count)s questions are skipped; at most %(max)s may be skipped. Please answer at least %(need)s more."
    ),
    "incomplete_ask": gettext_lazy(
        "%(count)s questions are not answered yet. Please answer them, so that your clinic can score the questionnaire."
    ),
    "answer_them": gettext_lazy("Answer them"),
    "save_anyway": gettext_lazy("Save as it is"),
    "entry_item9": gettext_lazy("Mood (PHQ-9): question 9, sent at once"),
    "entry_total": gettext_lazy("%(name)s: %(total)s"),
    "sign_in_again": gettext_lazy("Please sign in again to send your entries."),
    "due_today": gettext_lazy("Due today"),
    "due_until": gettext_lazy("Open until %(time)s"),
    "due_from": gettext_lazy("From %(time)s"),
    "done_today": gettext_lazy("Done today"),
    "always_available": gettext_lazy("Any time"),
    "nothing_due": gettext_lazy("No questionnaires are due today."),
    "progress_of": gettext_lazy("%(current)s / %(total)s"),
    "back": gettext_lazy("Back"),
    "next": gettext_lazy("Next"),
    "skip": gettext_lazy("Skip"),
    "skip_na": gettext_lazy("Does not apply to me"),
    "save": gettext_lazy("Save"),
    "review_title": gettext_lazy("All questions answered"),
    "review_ready": gettext_lazy("Ready to save"),
    "review_blocked": gettext_lazy("Not ready to save yet"),
    "review_unanswered": gettext_lazy("Some questions are not answered"),
    "review_text": gettext_lazy("Tap Save to keep your answers. You can go back to change them."),
    "answered_count": gettext_lazy("%(count)s of %(total)s answered"),
    "instruments_missing": gettext_lazy(
        "The questions could not be loaded. Connect to the internet once, then try again."
    ),
    "text_not_loaded": gettext_lazy(
        "This questionnaire is not available in the app yet. Your care team will go through it with you."
    ),
    "pack_placeholder": gettext_lazy(
        "Sample wording only: the clinic has not loaded the licensed text of this questionnaire yet."
    ),
    "pack_test": gettext_lazy("Test content: not the licensed text of this questionnaire."),
    "signed_out_title": gettext_lazy("You are signed out"),
    "signed_out_offline": gettext_lazy(
        "Your information has been removed from this phone. Sign in again when you are back online."
    ),
    "signed_out_offline_queue": gettext_lazy(
        "Your information has been removed from this phone. %(count)s entries not yet sent are kept on this "
        "phone and will be sent the next time you sign in."
    ),
    "vas_hint": gettext_lazy("Touch the line where your pain is. There is no right or wrong answer."),
    "vas_marked": gettext_lazy("Your mark is set. Drag or touch again to move it."),
    "vas_value": gettext_lazy("%(mm)s mm"),
    "nrs_pick": gettext_lazy("Choose a number first."),
    "yes": gettext_lazy("Yes"),
    "no": gettext_lazy("No"),
    "exercise_none": gettext_lazy("Your plan has no home exercise yet."),
    "exercise_mark": gettext_lazy("Mark as done today"),
    "exercise_done": gettext_lazy("Done today ✓"),
    "per_week": gettext_lazy("%(n)s times a week"),
    "per_week_one": gettext_lazy("once a week"),
    "weeks": gettext_lazy("for %(n)s weeks"),
    "weeks_one": gettext_lazy("for 1 week"),
    "plan_none": gettext_lazy("Your therapist has not made a plan for you yet."),
    "plan_unavailable": gettext_lazy("Your plan could not be loaded. It will show when you are online."),
    "plan_version": gettext_lazy("Version %(version)s, from %(date)s"),
    "plan_ended": gettext_lazy("No active plan: your plan ended on %(date)s."),
    "plan_scheduled": gettext_lazy("No active plan today: your next plan starts on %(date)s."),
    "lane_central": gettext_lazy("Central (brain and spinal cord)"),
    "lane_peripheral": gettext_lazy("Peripheral (body and nerves)"),
    "lane_empty": gettext_lazy("Nothing in this part of the plan."),
    "chart_empty": gettext_lazy("Your chart appears after your first pain entries have been sent."),
    "chart_offline": gettext_lazy("The chart shows the entries your clinic has received."),
    "push_unsupported": gettext_lazy(
        "This browser cannot show reminder notifications. Use e-mail reminders, or ask your clinic about SMS. "
        "In mainland China browser notifications often do not arrive; SMS reminders are more reliable there."
    ),
    "push_denied": gettext_lazy(
        "Notifications are blocked for this site. You can allow them in your browser settings."
    ),
    "push_not_configured": gettext_lazy(
        "Your clinic has not set up app notifications yet. E-mail or SMS reminders still work."
    ),
    "push_on": gettext_lazy("Notifications are on for this phone."),
    "push_failed": gettext_lazy("Notifications could not be turned on. Please try again when you are online."),
    "email_on": gettext_lazy("E-mail reminders are on."),
    "email_off": gettext_lazy("E-mail reminders are off."),
    "email_failed": gettext_lazy("Your e-mail choice could not be saved. Please try again when you are online."),
    "email_unavailable": gettext_lazy("E-mail reminders cannot be changed in the app yet. Ask your clinic."),
    "entry_nrs": gettext_lazy("Pain 0-10: %(value)s"),
    "entry_vas": gettext_lazy("Pain line: %(value)s mm"),
    "entry_exercise": gettext_lazy("Home exercise: %(name)s"),
    "reason_unknown": gettext_lazy("The clinic could not accept this entry."),
}


def _js_strings() -> dict[str, str]:
    """:data:`JS_STRINGS` in the active language."""
    return {key: str(text) for key, text in JS_STRINGS.items()}


@login_required
def patient_home(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request, audit="view.app")
    config = {
        "patient": patient.pk,
        "lang": _lang(),
        "urls": {
            "instruments": reverse("instrument-list"),
            "sync": reverse("sync"),
            "assessments": reverse("assessment-list", kwargs={"patient_id": patient.pk}),
            "due": f"/api/v1/patients/{patient.pk}/due/",
            "plan": f"/api/v1/patients/{patient.pk}/plan/",
            "home_exercise": f"/api/v1/patients/{patient.pk}/home-exercise/",
            "exercise_programme": f"/api/v1/patients/{patient.pk}/exercise-programme/",
            "exercise_logs": f"/api/v1/patients/{patient.pk}/exercise-logs/",
            "vapid_key": "/api/v1/push/vapid-key/",
            "push_subscriptions": "/api/v1/push-subscriptions/",
            "protocol": f"/api/v1/patients/{patient.pk}/protocol/",
            "progress": reverse("frontend:patient-progress"),
            "sw": reverse("frontend:service-worker"),
        },
        "strings": {**_js_strings(), **exercise_js_strings()},
    }
    context = {
        "patient": patient,
        "config": config,
        "progress_figure": _progress(patient),
        "plan_page_url": _plan_page_url(patient),
        "nrs_values": range(11),
        "odi_available": text_available("odi"),
    }
    response = render(request, "frontend/patient/home.html", context)
    # Personal data: never in a shared cache. The service worker keeps its own copy.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def patient_progress(request: HttpRequest) -> HttpResponse:
    """The progress chart's figure as JSON, re-read by the app after a sync."""
    patient = _own_patient(request, audit="view.progress")
    response = JsonResponse(_progress(patient))
    response["Cache-Control"] = "private, no-store"
    return response
