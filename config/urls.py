from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("patients.urls")),
    path("", include("assessments.urls")),
    path("", include("therapies.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    # JSON like the rest of /api/ unless YAML is asked for (?format=yaml or Accept).
    path(
        "api/schema/",
        SpectacularAPIView.as_view(
            renderer_classes=[OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2]
        ),
        name="schema",
    ),
    # The split view serves Swagger UI's start-up script as a file of its own, so the page
    # runs under the Content-Security-Policy without inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("clinic/lockouts/", include("accounts.console_urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("frontend.urls")),
]

handler400 = "config.handlers.bad_request"
handler403 = "config.handlers.permission_denied"
handler404 = "config.handlers.page_not_found"
handler500 = "config.handlers.server_error"
