"""Health check and the PWA files that must be served from the site root."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.db import connection
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 once the database answers and migrations have created our tables."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM patients_clinic LIMIT 1")
    except Exception as exc:  # noqa: BLE001 - any DB failure means "not ready"
        return JsonResponse({"status": "unavailable", "error": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok"})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse | FileResponse:
    """Serve sw.js at /sw.js so its scope covers the whole site (PWA requirement)."""
    path = finders.find("frontend/sw.js")
    if not path:
        return HttpResponse("// no service worker", content_type="application/javascript", status=404)
    response = FileResponse(open(path, "rb"), content_type="application/javascript")  # noqa: SIM115
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request: HttpRequest) -> HttpResponse | FileResponse:
    path = finders.find("frontend/manifest.webmanifest")
    if not path:
        return HttpResponse("{}", content_type="application/manifest+json", status=404)
    response = FileResponse(open(path, "rb"), content_type="application/manifest+json")  # noqa: SIM115
    response["Cache-Control"] = "no-cache"
    return response
