"""The one settings module, configured entirely by environment variables.

Shaped like healthchecks' hc/settings.py: typed env helpers, ``*_FILE`` variants for
secrets, and ImproperlyConfigured on values that cannot be right. The embedded default
(no variables at all) is the embedded demo: SQLite file and a filesystem Celery broker under
./var, a secret key generated once into ./var, plain HTTP on the loopback address, DEBUG off.
DEBUG is an opt-in for development (DJANGO_DEBUG=1). Production sets DATABASE_URL, SECRET_KEY
and the hosts; the HTTPS settings default to on outside the embedded setup.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Lets admin.ModelAdmin[Model] and QuerySet[Model] be subscripted at run time (django-stubs).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


# Off unless asked for: DEBUG error pages show SQL, settings and patient data.
DEBUG = env_bool("DJANGO_DEBUG", False)

VAR_DIR.mkdir(parents=True, exist_ok=True)


def _generated_secret(path: Path) -> str:
    """A key made once and kept under VAR_DIR (readable by the owner only), so an install
    without SECRET_KEY still signs sessions with a secret nobody else knows, and keeps it
    across restarts. Published with a hard link, so processes starting together (web
    workers, the Celery worker) all read the one complete key."""
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process published its key first: use that one
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


_OLD_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production"  # noqa: S105 - refused below
SECRET_KEY = env_str("SECRET_KEY", "") or _generated_secret(VAR_DIR / "secret_key")
if SECRET_KEY in (_OLD_DEV_SECRET, "change-me"):
    raise ImproperlyConfigured("SECRET_KEY is a published placeholder; set a long random one")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "template_partials",
    "patients",
    "assessments",
    "therapies",
    "frontend",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.ResponseHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.ApiJsonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.middleware.RejectNulMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rehab.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True)
}


def _is_embedded_database(database: Any) -> bool:
    """A SQLite file inside VAR_DIR: the single-machine demo install, never a clinic's data."""
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return False
    return Path(str(database["NAME"])).resolve().is_relative_to(VAR_DIR.resolve())


# The embedded install (``make run``): plain HTTP on the loopback address, mail written to
# files, and the demo seed allowed. Derived from the database, not from DEBUG; EMBEDDED=true
# forces it (a throw-away PostgreSQL), EMBEDDED=false refuses it.
EMBEDDED = env_bool("EMBEDDED", _is_embedded_database(DATABASES["default"]))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web process and the embedded worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "frontend:login"
LOGIN_REDIRECT_URL = "frontend:home"
LOGOUT_REDIRECT_URL = "frontend:login"
AUTHENTICATION_BACKENDS = [
    # Refuses sign-ins of locked-out usernames and addresses before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# How many reverse proxies in front of Django append to X-Forwarded-For. 0: the header is
# ignored and REMOTE_ADDR is the client (config/client_ip.py; sign-in throttling, API
# throttles and the audit log all read the address from there).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")

# Password guessing (django-axes): lock a username, and separately an address, after this many
# failed sign-ins on any login path (API token, /login/, admin), for the cool-off period. Every
# attempt during the lock starts the cool-off again.
AUTH_LOCKOUT_FAILURES = env_int("AUTH_LOCKOUT_FAILURES", 10)
AUTH_LOCKOUT_COOLOFF_MINUTES = env_int("AUTH_LOCKOUT_COOLOFF_MINUTES", 15)
if not 1 <= AUTH_LOCKOUT_FAILURES <= 10:
    raise ImproperlyConfigured("AUTH_LOCKOUT_FAILURES must be between 1 and 10")
if AUTH_LOCKOUT_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("AUTH_LOCKOUT_COOLOFF_MINUTES must be at least 1")
AXES_FAILURE_LIMIT = AUTH_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=AUTH_LOCKOUT_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# A success must not wipe the address's failures: one valid account would otherwise reset the
# counter an attacker runs up against others from the same address.
AXES_RESET_ON_SUCCESS = False

# API tokens: django-rest-knox's token format and hashing (64 hex characters, only the SHA-512
# digest stored) in accounts.DeviceToken. Fixed lifetimes, no sliding renewal.
AUTH_TOKEN_PATIENT_DAYS = env_int("AUTH_TOKEN_PATIENT_DAYS", 30)
AUTH_TOKEN_STAFF_HOURS = env_int("AUTH_TOKEN_STAFF_HOURS", 12)
AUTH_TOKEN_MAX_PER_USER = env_int("AUTH_TOKEN_MAX_PER_USER", 10)
if AUTH_TOKEN_PATIENT_DAYS < 1 or AUTH_TOKEN_STAFF_HOURS < 1 or AUTH_TOKEN_MAX_PER_USER < 1:
    raise ImproperlyConfigured(
        "AUTH_TOKEN_PATIENT_DAYS, AUTH_TOKEN_STAFF_HOURS and AUTH_TOKEN_MAX_PER_USER must be >= 1"
    )

# --- i18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Uploaded files (thermograms) -------------------------------------------------------
# Kept through Django's storage API: files under VAR_DIR/media by default; for several web
# replicas point STORAGES["default"] at shared or S3-compatible storage (django-storages).
# Never served as static media: only the access-checked API reads them.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
THERMOGRAM_MAX_BYTES = env_int("THERMOGRAM_MAX_BYTES", 32 * 1024 * 1024)
# Exercise pictures and short videos (the clinic's library): a phone keeps a patient's
# programme media offline within the service worker's budget (sw.js MEDIA_BUDGET_BYTES, 20 MB).
EXERCISE_IMAGE_MAX_BYTES = env_int("EXERCISE_IMAGE_MAX_BYTES", 2 * 1024 * 1024)
EXERCISE_VIDEO_MAX_BYTES = env_int("EXERCISE_VIDEO_MAX_BYTES", 8 * 1024 * 1024)

# --- Static -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security (HTTPS defaults on except in development and the embedded install) ------
_HTTPS = not DEBUG and not EMBEDDED
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HTTPS)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("USE_X_FORWARDED_PROTO", _HTTPS) else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _HTTPS)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _HTTPS)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
# Only the app's own scripts (vendored htmx and plotly, our static files, Swagger UI's
# self-hosted bundle); inline <script> runs only with the per-response nonce. Styles allow
# inline because plotly and Swagger UI set style attributes and inject <style> elements.
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SILENCED_SYSTEM_CHECKS: list[str] = []

# --- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "config.api.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": env_str("AUTH_THROTTLE_RATE", "30/min")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rehab outcome tracker API",
    "DESCRIPTION": (
        "Pain, questionnaire and thermal-symmetry outcomes for chronic low back pain and "
        "neuropathic pain; central–peripheral rehab plans; cohort outcomes."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # "left"/"right" of a body side (a thermogram's image_left_is, a reading's affected side).
    "ENUM_NAME_OVERRIDES": {
        "BodySideEnum": "assessments.models.ImageSide",
        "AffectedSideEnum": "patients.models.Side",
    },
    # Self-hosted Swagger UI: no CDN, in line with the offline-first front end.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Cache (throttling; shared across processes when REDIS_CACHE_URL is given) --------
_cache_url = env_str("REDIS_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
_broker_dir = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = (
    {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    else {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Messaging ----------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    (
        "django.core.mail.backends.filebased.EmailBackend"
        if DEBUG or EMBEDDED
        else "django.core.mail.backends.smtp.EmailBackend"
    ),
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "rehab@localhost")
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY", "")
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "mailto:rehab@localhost")
SMS_BACKEND = env_str("SMS_BACKEND", "assessments.alerts.channels.LogSmsBackend")

# --- Clinical policy ------------------------------------------------------------------
SAFETY_ALERT_ESCALATE_MINUTES = env_int("SAFETY_ALERT_ESCALATE_MINUTES", 30)
# The demo seed creates logins with a published password: only on the embedded install
# (or with an explicit DEMO_SEED_ALLOWED=true on a throw-away database), whatever DEBUG says.
DEMO_SEED_ALLOWED = env_bool("DEMO_SEED_ALLOWED", EMBEDDED)

# --- FHIR ----------------------------------------------------------------------------------
# Stable public base of the app's canonical FHIR URLs (Questionnaire canonicals, Bundle fullUrls),
# e.g. https://rehab.example.org/api/v1/fhir; empty: this server's /api/v1/fhir as requested.
FHIR_CANONICAL_BASE = env_str("FHIR_CANONICAL_BASE", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
