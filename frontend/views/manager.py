"""Clinic manager pages under /clinic/outcomes/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from patients.access import Actor, primary_role, visible_patients
from patients.models import Diagnosis
from patients.services import audit_list_record


@login_required
def outcomes(request: HttpRequest) -> HttpResponse:
    if primary_role(request.user) not in ("manager", "admin", "therapist"):
        raise Http404
    rows = list(visible_patients(request.user).values_list("id", "diagnoses"))
    audit_list_record(actor=Actor.from_request(request), object_type="cohort", patient_ids=[pk for pk, _d in rows])
    counts = {code: 0 for code in Diagnosis.values}
    for _pk, diagnoses in rows:
        for code in diagnoses:
            counts[code] = counts.get(code, 0) + 1
    by_diagnosis = [(Diagnosis(code).label, n) for code, n in counts.items() if n]
    return render(request, "frontend/manager/outcomes.html", {"n_patients": len(rows), "by_diagnosis": by_diagnosis})
