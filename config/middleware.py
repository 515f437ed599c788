"""Project middleware: the API's error envelope, size limit and response headers.

- :class:`ApiJsonMiddleware` keeps every response under ``/api/`` JSON, whatever produced
  it: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused with 413 before it is read, a
  database that cannot be reached answers 503 with ``Retry-After``, and error pages made by
  Django or by a non-JSON renderer are turned into ``{"detail": ...}``.
- :class:`ResponseHeadersMiddleware` adds ``Permissions-Policy`` to every response and
  ``Cache-Control: no-store`` to every response that can carry patient data (the API, and
  every page served to a signed-in user), so no browser or proxy keeps a copy on disk.
- :class:`RejectNulMiddleware` refuses query strings and form bodies holding the NUL
  character before any view. JSON bodies are checked by the API's parser
  (``config.parsers``); query strings and form-encoded bodies reach views as
  ``request.GET`` / ``request.POST``, where a NUL would make PostgreSQL refuse the query or
  the insert (a 500) and SQLite store it. Lone surrogates cannot arrive this way:
  percent-decoding turns bytes that are not UTF-8 into U+FFFD.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase, JsonResponse

from config.parsers import NUL_MESSAGE, repaired_text

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = "30"
DATABASE_ERRORS = (OperationalError, InterfaceError)

# Features the app never uses, switched off for the page and every frame it could embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(status: int, detail: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON for the API, a short plain page elsewhere."""
    detail = "The service is temporarily unavailable; try again shortly."
    if is_api_request(request):
        return json_error(HTTPStatus.SERVICE_UNAVAILABLE, detail, Retry_After=RETRY_AFTER_SECONDS)
    response = HttpResponse(detail, status=HTTPStatus.SERVICE_UNAVAILABLE, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


# Uploads of radiometric images: the file may exceed the JSON body limit (THERMOGRAM_MAX_BYTES).
_UPLOAD_PATH = re.compile(r"^/api/v1/patients/[^/]+/thermograms/$")
_UPLOAD_FORM_ALLOWANCE = 64 * 1024


def body_limit(request: HttpRequest) -> int | None:
    if _UPLOAD_PATH.match(request.path):
        return int(settings.THERMOGRAM_MAX_BYTES) + _UPLOAD_FORM_ALLOWANCE
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def body_too_large(request: HttpRequest) -> HttpResponse:
    limit = body_limit(request)
    detail = f"The request body is larger than the {limit} bytes this server accepts."
    if is_api_request(request):
        return json_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, detail)
    return HttpResponse(detail, status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE, content_type="text/plain; charset=utf-8")


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _is_json(response: HttpResponseBase) -> bool:
    content_type = response.get("Content-Type", "")
    return "json" in content_type.split(";")[0]


class ApiJsonMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_api_request(request):
            return self.get_response(request)
        limit = body_limit(request)
        # DRF streams the body straight into its parser, so Django's own check on
        # request.body never runs for API calls: refuse by the declared length instead.
        if limit is not None and _declared_length(request) > limit:
            return body_too_large(request)
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response) and not response.streaming:
            return self._as_json(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            return database_unavailable(request)
        return None

    @staticmethod
    def _as_json(response: HttpResponseBase) -> HttpResponseBase:
        try:
            detail = HTTPStatus(response.status_code).phrase
        except ValueError:
            detail = response.reason_phrase
        converted = HttpResponse(
            json.dumps({"detail": detail}), status=response.status_code, content_type="application/json"
        )
        for header in ("Allow", "Retry-After", "WWW-Authenticate", "Vary"):
            if header in response:
                converted[header] = response[header]
        return converted


def _carries_patient_data(request: HttpRequest, response: HttpResponseBase) -> bool:
    if is_api_request(request):
        return True
    user: Any = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class ResponseHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if _carries_patient_data(request, response) and "no-store" not in response.get("Cache-Control", ""):
            response.headers["Cache-Control"] = "private, no-store"
        return response


def _nul_field(request: HttpRequest) -> str | None:
    for params in (request.GET, request.POST if request.method == "POST" else None):
        if params is None:
            continue
        for key, values in params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return repaired_text(key)
    return None


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = _nul_field(request)
        if field is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({field: [NUL_MESSAGE]}, status=400)
        return HttpResponseBadRequest(f"The field “{field}” {NUL_MESSAGE}.", content_type="text/plain")
