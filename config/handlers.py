"""Project-wide error views (handler400/403/404/500).

Under ``/api/`` they answer JSON like the API's own errors; elsewhere Django's pages. A
request that fails because the database cannot be reached answers 503 with Retry-After
instead of 500, and a body over the upload limit 413 instead of 400.
"""

from __future__ import annotations

import sys
from http import HTTPStatus

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views import defaults

from config.middleware import DATABASE_ERRORS, body_too_large, database_unavailable, is_api_request, json_error


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return body_too_large(request)
    if is_api_request(request):
        return json_error(HTTPStatus.BAD_REQUEST, "Bad request.")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error(HTTPStatus.FORBIDDEN, "You do not have permission to perform this action.")
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error(HTTPStatus.NOT_FOUND, "Not found.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this from inside its ``except`` block, so the failure is still current.
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return database_unavailable(request)
    if is_api_request(request):
        return json_error(HTTPStatus.INTERNAL_SERVER_ERROR, "Server error.")
    return defaults.server_error(request)
