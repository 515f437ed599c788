"""Refuse query strings and form bodies holding the NUL character, before any view.

JSON bodies are checked by the API's parser (``config.parsers``); query strings and
form-encoded bodies reach views as ``request.GET`` / ``request.POST``, where a NUL would make
PostgreSQL refuse the query or the insert (a 500) and SQLite store it. Lone surrogates cannot
arrive this way: percent-decoding turns bytes that are not UTF-8 into U+FFFD.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from config.parsers import NUL_MESSAGE, repaired_text


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
