"""Sign-in landing: send each role to its own part of the product."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from patients.access import primary_role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = primary_role(request.user)
    if role == "patient":
        return redirect("frontend:patient-home")
    if role == "therapist":
        return redirect("frontend:worklist")
    if role in ("manager", "admin"):
        return redirect("frontend:outcomes")
    return render(request, "frontend/no_role.html", status=403)
