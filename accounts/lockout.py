"""What a locked-out sign-in gets back (django-axes ``AXES_LOCKOUT_CALLABLE``).

Every response under ``/api/`` is JSON: 429 with the reason and ``Retry-After``. Pages get
the sign-in form again with the same reason in the user's language. Axes starts the cool-off
again on every attempt made during the lock, so the full cool-off is the honest wait.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def lockout_message() -> str:
    minutes = settings.AUTH_LOCKOUT_COOLOFF_MINUTES
    return ngettext(
        "Too many failed sign-in attempts. Signing in is locked for %(minutes)d minute; "
        "try again later or ask your clinic to unlock your account.",
        "Too many failed sign-in attempts. Signing in is locked for %(minutes)d minutes; "
        "try again later or ask your clinic to unlock your account.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    retry_after = settings.AUTH_LOCKOUT_COOLOFF_MINUTES * 60
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": lockout_message(), "code": "locked_out", "retry_after": retry_after}, status=429
        )
    else:
        context = {
            "form": AuthenticationForm(request),
            "locked_out": lockout_message(),
            "next": request.POST.get("next", "") if request.method == "POST" else "",
        }
        response = render(request, "frontend/registration/login.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response
