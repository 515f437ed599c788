"""Console page for clinic managers and administrators: accounts locked by password guessing.

Lists the clinic's users (staff and patients) whose username is locked right now and lifts
a lock, audited. Other roles get 404, as for every console page they may not see.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import locked_accounts
from accounts.services import lockout_reset
from patients.access import staff_roles
from patients.audit import Actor
from patients.models import Role


def _unlocking_clinics(request: HttpRequest) -> list[int]:
    clinics = [clinic for clinic, role in staff_roles(request.user).items() if role in (Role.MANAGER, Role.ADMIN)]
    if not clinics:
        raise Http404
    return sorted(clinics)


@login_required
@require_GET
def lockouts(request: HttpRequest) -> HttpResponse:
    accounts = locked_accounts(_unlocking_clinics(request))
    return render(request, "accounts/lockouts.html", {"accounts": accounts})


@login_required
@require_POST
def lockout_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    clinics = _unlocking_clinics(request)
    locked = {account.user_id: account for account in locked_accounts(clinics)}
    account = locked.get(user_id)
    if account is None:
        messages.info(request, _("That account is not locked (any more)."))
        return redirect("accounts:lockouts")
    user = get_user_model().objects.get(pk=user_id)
    lockout_reset(actor=Actor.from_request(request), user=user, clinic_id=clinics[0] if len(clinics) == 1 else None)
    messages.success(request, _("%(username)s can sign in again.") % {"username": account.username})
    return redirect("accounts:lockouts")
