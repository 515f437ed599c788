"""Therapist console pages under /clinic/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from patients.access import Actor, PatientNotFound, patient_get_for, primary_role, visible_patients
from patients.services import audit_list_record


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    if primary_role(request.user) not in ("therapist", "manager", "admin"):
        raise Http404
    q = request.GET.get("q", "").strip()[:120]
    patients = visible_patients(request.user).select_related("clinic").order_by("display_name", "id")
    if q:
        patients = patients.filter(display_name__icontains=q)
    rows = list(patients[:200])
    audit_list_record(actor=Actor.from_request(request), object_type="worklist", patient_ids=[p.pk for p in rows])
    template = "frontend/therapist/worklist.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#rows"
    response = render(request, template, {"patients": rows, "q": q})
    response["Vary"] = "HX-Request"
    return response


@login_required
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    try:
        patient = patient_get_for(Actor.from_request(request), patient_id, audit="view.page")
    except PatientNotFound as exc:
        raise Http404 from exc
    return render(request, "frontend/therapist/patient.html", {"patient": patient})
