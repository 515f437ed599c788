"""WSGI entry point (gunicorn ``config.wsgi:application``)."""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Import every view now, then move everything loaded so far (Django, the apps, their
# modules: alive for the whole process) out of the garbage collector's sight. Full
# collections then scan only what requests allocate, not ~10^5 startup objects each time
# (a cohort summary over thousands of patients triggers them). See gc.freeze().
get_resolver().url_patterns  # noqa: B018 - the attribute access loads the URLconf
gc.freeze()
