"""Every safety limit of the catalogue, through the API, for plans and for sessions.

Parametrised over ``therapies.modalities.MODALITIES``: a limit added to the catalogue is
tested here without touching this file. At the limit → accepted; just above → 400 with
the field and the limit (value, unit, source) named and nothing stored; just above with
an override reason → accepted, and the overridden limit's code recorded.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.therapies.params import (
    BASE,
    DERIVED_CASES,
    component,
    plan_body,
    session_body,
)
from therapies.modalities import MODALITIES, Limit, Modality
from therapies.models import PlanComponent, RehabPlan, TherapySession

ENDPOINTS = ("plan", "session")


def _all() -> list[tuple[Modality, Limit]]:
    return [(m, limit) for m in MODALITIES.values() for limit in m.limits]


def _direct() -> list[tuple[Modality, Limit]]:
    return [
        (m, lim)
        for m, lim in _all()
        if not lim.allowed and not lim.opposite_to and lim.param in {p.key for p in m.params}
    ]


def _derived() -> list[tuple[Modality, Limit]]:
    return [(m, lim) for m, lim in _all() if lim.param not in {p.key for p in m.params}]


def _categorical() -> list[tuple[Modality, Limit]]:
    return [(m, lim) for m, lim in _all() if lim.allowed]


def _ids(pairs: list[tuple[Modality, Limit]]) -> list[str]:
    return [f"{m.code}.{lim.code}" for m, lim in pairs]


# Other parameters moved so that a value at one limit does not break another:
# 4 mA needs >= 40 cm2 (density 0.1 mA/cm2) and <= 30 min (charge 7.2 C).
COMPANIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("tdcs", "current"): {"electrode_cm2": 40, "duration_min": 30},
}


def _params(modality: Modality, limit: Limit, value: Any) -> dict[str, Any]:
    params = {**BASE[modality.code], **COMPANIONS.get((modality.code, limit.code), {})}
    if limit.when is not None:
        params[limit.when[0]] = limit.when[1]
    params[limit.param] = value
    return params


def _post(
    client: Any, patient: Any, endpoint: str, modality: str, params: dict[str, Any], override_reason: str = ""
) -> Any:
    if endpoint == "plan":
        body = plan_body(component(modality, parameters=params, override_reason=override_reason))
        return client.post(f"/api/v1/patients/{patient.pk}/plan/", body, format="json")
    body = session_body(modality, parameters=params, override_reason=override_reason)
    return client.post(f"/api/v1/patients/{patient.pk}/sessions/", body, format="json")


def _param_errors(endpoint: str, response: Any) -> dict[str, list[str]]:
    body = response.json()
    if endpoint == "plan":
        return body["components"]["0"]["parameters"]
    return body["parameters"]


def _stored(endpoint: str, patient: Any) -> int:
    if endpoint == "plan":
        return RehabPlan.objects.filter(patient=patient).count()
    return TherapySession.objects.filter(patient=patient).count()


def _overridden(endpoint: str, response: Any) -> list[str]:
    body = response.json()
    if endpoint == "plan":
        return body["components"][0]["overridden_limits"]
    return body["overridden_limits"]


def _assert_refused_naming_limit(endpoint: str, response: Any, patient: Any, limit: Limit) -> None:
    assert response.status_code == 400, response.content
    errors = _param_errors(endpoint, response)
    assert limit.param in errors, errors
    message = " ".join(errors[limit.param])
    assert limit.source in message
    if not limit.allowed:
        assert f"{limit.maximum:g} {limit.unit}".strip() in message
    body = response.json()
    where = body["components"]["0"] if endpoint == "plan" else body
    assert limit.code in " ".join(where["override_reason"])
    assert _stored(endpoint, patient) == 0


def test_fixture_covers_the_whole_catalogue():
    assert set(BASE) == set(MODALITIES)
    assert {(m.code, lim.code) for m, lim in _derived()} == set(DERIVED_CASES)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("code", sorted(MODALITIES))
def test_base_parameters_accepted(therapist_client, patient, endpoint, code):
    response = _post(therapist_client, patient, endpoint, code, dict(BASE[code]))
    assert response.status_code == 201, response.content
    assert _overridden(endpoint, response) == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("modality", "limit"), _direct(), ids=_ids(_direct()))
def test_at_limit_accepted(therapist_client, patient, endpoint, modality, limit):
    at = int(limit.maximum) if modality.param(limit.param).kind == "integer" else limit.maximum
    response = _post(therapist_client, patient, endpoint, modality.code, _params(modality, limit, at))
    assert response.status_code == 201, response.content
    assert _overridden(endpoint, response) == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("modality", "limit"), _direct(), ids=_ids(_direct()))
def test_just_above_limit_refused_naming_it(therapist_client, patient, endpoint, modality, limit):
    if modality.param(limit.param).kind == "integer":
        steps: list[Any] = [int(limit.maximum) + 1]
    else:
        steps = [math.nextafter(limit.maximum, math.inf), limit.maximum + 0.01]
    for over in steps:
        response = _post(therapist_client, patient, endpoint, modality.code, _params(modality, limit, over))
        _assert_refused_naming_limit(endpoint, response, patient, limit)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("modality", "limit"), _derived(), ids=_ids(_derived()))
def test_derived_limit_at_and_above(therapist_client, patient, endpoint, modality, limit):
    at, over = DERIVED_CASES[(modality.code, limit.code)]
    refused = _post(therapist_client, patient, endpoint, modality.code, {**BASE[modality.code], **over})
    _assert_refused_naming_limit(endpoint, refused, patient, limit)
    accepted = _post(therapist_client, patient, endpoint, modality.code, {**BASE[modality.code], **at})
    assert accepted.status_code == 201, accepted.content


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("modality", "limit"), _categorical(), ids=_ids(_categorical()))
def test_categorical_limit(therapist_client, patient, endpoint, modality, limit):
    for choice in modality.param(limit.param).choices:
        if choice in limit.allowed:
            continue
        refused = _post(therapist_client, patient, endpoint, modality.code, _params(modality, limit, choice))
        _assert_refused_naming_limit(endpoint, refused, patient, limit)
        assert choice in " ".join(_param_errors(endpoint, refused)[limit.param])
    accepted = _post(therapist_client, patient, endpoint, modality.code, _params(modality, limit, limit.allowed[0]))
    assert accepted.status_code == 201, accepted.content


def _over_value(modality: Modality, limit: Limit) -> Any:
    if limit.opposite_to:
        return "left"  # the same side as the pain of the `patient` fixture
    if limit.allowed:
        return next(c for c in modality.param(limit.param).choices if c not in limit.allowed)
    if modality.param(limit.param).kind == "integer":
        return int(limit.maximum) + 1
    return limit.maximum + 0.01


_OVERRIDABLE = [(m, lim) for m, lim in _all() if (m.code, lim.code) not in DERIVED_CASES]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("modality", "limit"), _OVERRIDABLE, ids=_ids(_OVERRIDABLE))
def test_override_with_reason_is_accepted_and_recorded(therapist_client, patient, endpoint, modality, limit):
    reason = "Tolerated higher dose in previous course; consultant agreed"
    params = _params(modality, limit, _over_value(modality, limit))
    response = _post(therapist_client, patient, endpoint, modality.code, params, override_reason=reason)
    assert response.status_code == 201, response.content
    assert limit.code in _overridden(endpoint, response)
    if endpoint == "plan":
        row: Any = PlanComponent.objects.get(plan__patient=patient)
    else:
        row = TherapySession.objects.get(patient=patient)
    assert row.override_reason == reason
    assert limit.code in row.overridden_limits


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_blank_override_reason_does_not_override(therapist_client, patient, endpoint):
    params = {**BASE["tdcs"], "current_ma": 4.5}
    response = _post(therapist_client, patient, endpoint, "tdcs", params, override_reason="   ")
    assert response.status_code == 400
    assert "current_ma" in _param_errors(endpoint, response)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("reason", ["ok", "as discussed", "x" * 19])
def test_override_reason_too_short_to_explain_is_refused(therapist_client, patient, endpoint, reason):
    params = {**BASE["tdcs"], "current_ma": 4.5}
    response = _post(therapist_client, patient, endpoint, "tdcs", params, override_reason=reason)
    assert response.status_code == 400, response.content
    body = response.json()
    where = body["components"]["0"] if endpoint == "plan" else body
    message = (
        " ".join(where["override_reason"]) if isinstance(where["override_reason"], list) else where["override_reason"]
    )
    assert "override_reason" in message
    assert "20 characters" in message
    assert "current" in message
    assert _stored(endpoint, patient) == 0
    accepted = _post(therapist_client, patient, endpoint, "tdcs", params, override_reason="x" * 20)
    assert accepted.status_code == 201, accepted.content


def test_a_short_reason_where_nothing_is_overridden_is_not_refused(therapist_client, patient):
    response = _post(therapist_client, patient, "plan", "tdcs", dict(BASE["tdcs"]), override_reason="ok")
    assert response.status_code == 201, response.content
    assert response.json()["components"][0]["override_reason"] == ""


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_derived_override_records_every_code(therapist_client, patient, endpoint):
    # 4.5 mA for 40 min over 20 cm2: current, charge (10.8 C) and density (0.225) all above.
    params = {**BASE["tdcs"], "current_ma": 4.5, "duration_min": 40, "electrode_cm2": 20}
    refused = _post(therapist_client, patient, endpoint, "tdcs", params)
    assert set(_param_errors(endpoint, refused)) == {"current_ma", "charge_c", "current_density_ma_cm2"}
    accepted = _post(
        therapist_client,
        patient,
        endpoint,
        "tdcs",
        params,
        override_reason="Research protocol, ethics approval 2026-04",
    )
    assert accepted.status_code == 201
    assert sorted(_overridden(endpoint, accepted)) == ["charge", "current", "current_density"]
