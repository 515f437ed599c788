"""Patient-facing pages (the PWA lives under /app/)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from patients.access import Actor, PatientNotFound, own_patient_id, patient_get_for


@login_required
def patient_home(request: HttpRequest) -> HttpResponse:
    patient_id = own_patient_id(request.user)
    if patient_id is None:
        raise Http404("No patient record for this account.")
    try:
        patient = patient_get_for(Actor.from_request(request), patient_id, audit="view.app")
    except PatientNotFound as exc:
        raise Http404 from exc
    return render(request, "frontend/patient/home.html", {"patient": patient})
