"""The install with no configuration at all is safe: DEBUG off, a private generated secret,
the demo seed limited to the embedded SQLite database whatever DEBUG says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); print(json.dumps({"
    "'DEBUG': settings.DEBUG, 'EMBEDDED': settings.EMBEDDED, 'SECRET_KEY': settings.SECRET_KEY, "
    "'DEMO_SEED_ALLOWED': settings.DEMO_SEED_ALLOWED, 'SECURE_SSL_REDIRECT': settings.SECURE_SSL_REDIRECT, "
    "'SESSION_COOKIE_SECURE': settings.SESSION_COOKIE_SECURE, 'EMAIL_BACKEND': settings.EMAIL_BACKEND, "
    "'ALLOWED_HOSTS': settings.ALLOWED_HOSTS, 'STATICFILES': settings.STORAGES['staticfiles']['BACKEND']}))"
)


def _settings(var_dir: Path, **env: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(var_dir), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_configuration_is_the_embedded_demo_with_debug_off(tmp_path: Path) -> None:
    first = _settings(tmp_path, STATIC_ROOT=str(tmp_path / "static"))
    assert first["DEBUG"] is False
    assert first["EMBEDDED"] is True
    assert first["DEMO_SEED_ALLOWED"] is True
    # Plain HTTP on the loopback address: no redirect to https, cookies usable over http.
    assert first["SECURE_SSL_REDIRECT"] is False
    assert first["SESSION_COOKIE_SECURE"] is False
    assert {"127.0.0.1", "localhost"} <= set(first["ALLOWED_HOSTS"])
    assert first["EMAIL_BACKEND"].endswith("filebased.EmailBackend")
    assert first["STATICFILES"].startswith("whitenoise.")
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(first["SECRET_KEY"]) >= 50
    assert first["SECRET_KEY"] == key_file.read_text().strip()
    # Generated once: the next start signs with the same key (sessions survive a restart).
    assert _settings(tmp_path, STATIC_ROOT=str(tmp_path / "static"))["SECRET_KEY"] == first["SECRET_KEY"]


def test_debug_is_an_opt_in(tmp_path: Path) -> None:
    assert _settings(tmp_path, DJANGO_DEBUG="1", STATIC_ROOT=str(tmp_path / "static"))["DEBUG"] is True


def test_a_clinic_database_is_not_embedded_and_refuses_the_demo_seed_even_with_debug(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgres://rehab@db.example.org:5432/rehab", "STATIC_ROOT": str(tmp_path / "static")}
    production = _settings(tmp_path, **env, SECRET_KEY="s" * 60)
    assert production["EMBEDDED"] is False
    assert production["DEMO_SEED_ALLOWED"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    assert production["SECRET_KEY"] == "s" * 60
    assert _settings(tmp_path, **env, DJANGO_DEBUG="true")["DEMO_SEED_ALLOWED"] is False
    # Opting in is explicit, for a throw-away database.
    assert _settings(tmp_path, **env, DEMO_SEED_ALLOWED="true")["DEMO_SEED_ALLOWED"] is True


def test_a_sqlite_file_outside_var_dir_is_not_embedded(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.sqlite3'}", "STATIC_ROOT": str(tmp_path / "static")}
    assert _settings(tmp_path / "var", **env)["DEMO_SEED_ALLOWED"] is False


def test_published_placeholder_secrets_are_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(tmp_path),
            "SECRET_KEY": "change-me",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "placeholder" in result.stderr


def test_processes_starting_together_share_one_generated_key(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    keys = set()
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        keys.add(json.loads(out.strip().splitlines()[-1])["SECRET_KEY"])
    assert len(keys) == 1
    assert len(keys.pop()) >= 50
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".secret_key")] == []
