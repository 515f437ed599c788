"""Full-stack NRS capture throughput vs raw single-row INSERTs, in one run.

PostgreSQL only. Starts gunicorn against the pytest test database, drives it with 8
concurrent keep-alive clients POSTing NRS entries (each its own client_uuid), then measures
raw single-row autocommit INSERTs of the same shape from 8 connections. Prints one line:
``BENCH nrs_capture ... ratio=X p99_ms=Y``; asserts only correctness (every request 201,
exactly one row per request), never timing.

gunicorn runs production-shaped: DJANGO_DEBUG off (no query log or debug cursor), a
throw-away SECRET_KEY, and SECURE_SSL_REDIRECT off because the bench has no TLS proxy in
front. BENCH_DJANGO_DEBUG=true reproduces the old development-mode numbers;
BENCH_WEB_WORKERS (default: CPU count) and BENCH_WEB_THREADS (default 1: sync workers;
more: gthread) choose the server shape. Timings on a shared machine are noisy: compare
runs made back to back, and prefer the SQL count and CPU profiles for small changes.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Assessment
from tests.conftest import client_for
from tests.factories import make_clinic, make_patient, make_staff, make_user

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

CLIENTS = 8
PER_CLIENT = int(os.environ.get("BENCH_CAPTURE_PER_CLIENT", "300"))
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited early")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not come up")


def _db_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_nrs_capture_throughput_vs_raw_insert() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("benchmark runs against PostgreSQL")
    clinic = make_clinic()
    therapist = make_staff(clinic, "therapist")
    tokens = []
    patients = []
    for i in range(CLIENTS):
        patient = make_patient(clinic, user=make_user(f"bench-{i}"), therapists=(therapist,))
        patients.append(patient)
        tokens.append(client_for(patient.user)._credentials["HTTP_AUTHORIZATION"])

    sql_per_capture = _statements_per_capture(patients[0].pk, tokens[0])

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _db_url(),
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": os.environ.get("BENCH_DJANGO_DEBUG", "false"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "false",
    }
    workers = os.environ.get("BENCH_WEB_WORKERS", str(os.cpu_count() or 2))
    web_threads = os.environ.get("BENCH_WEB_THREADS", "1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            workers,
            "--threads",
            web_threads,
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_up(port, proc)
        latencies: list[float] = []
        statuses: list[int] = []
        lock = threading.Lock()
        start_barrier = threading.Barrier(CLIENTS + 1)

        def client(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Authorization": tokens[i], "Content-Type": "application/json"}
            path = f"/api/v1/patients/{patients[i].pk}/assessments/"
            mine_lat: list[float] = []
            mine_st: list[int] = []
            # Warm-up request per client (connection, worker imports) is not timed.
            warm = json.dumps(
                {
                    "instrument": "nrs",
                    "answers": {"score": 5},
                    "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
                    "client_uuid": str(uuid.uuid4()),
                }
            )
            conn.request("POST", path, warm, headers)
            conn.getresponse().read()
            start_barrier.wait()
            for n in range(PER_CLIENT):
                payload = json.dumps(
                    {
                        "instrument": "nrs",
                        "answers": {"score": n % 11},
                        "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
                        "client_uuid": str(uuid.uuid4()),
                    }
                )
                t0 = time.perf_counter()
                conn.request("POST", path, payload, headers)
                response = conn.getresponse()
                response.read()
                mine_lat.append(time.perf_counter() - t0)
                mine_st.append(response.status)
            with lock:
                latencies.extend(mine_lat)
                statuses.extend(mine_st)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        start_barrier.wait()
        t_start = time.perf_counter()
        cpu_start = _server_cpu_seconds(proc.pid)
        for t in threads:
            t.join()
        api_elapsed = time.perf_counter() - t_start
        cpu_used = _server_cpu_seconds(proc.pid) - cpu_start
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    total = CLIENTS * PER_CLIENT
    assert statuses.count(201) == total, {s: statuses.count(s) for s in set(statuses)}
    assert Assessment.objects.count() == total + CLIENTS + 2  # + the two counted captures
    api_rps = total / api_elapsed
    latencies.sort()
    p50 = latencies[int(0.50 * (total - 1))] * 1000
    p99 = latencies[int(0.99 * (total - 1))] * 1000

    raw_rps = _raw_insert_rps(patients[0].pk, total)
    print(
        f"\nBENCH nrs_capture clients={CLIENTS} requests={total} api_rps={api_rps:.0f} "
        f"raw_insert_rps={raw_rps:.0f} ratio={api_rps / raw_rps:.3f} p50_ms={p50:.1f} p99_ms={p99:.1f} "
        f"sql_per_capture={sql_per_capture} (incl. BEGIN/COMMIT) web_cpu_ms_per_req={cpu_used / total * 1000:.2f} debug={env['DJANGO_DEBUG']} workers={workers} threads={web_threads} "
        f"(targets: ratio>=0.35, p99<40ms)"
    )


def _server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU of gunicorn's master and workers so far (Linux /proc; 0 elsewhere).

    CPU per request moves far less than requests/s when other work shares the machine.
    """
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if master_pid in (pid, ppid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _statements_per_capture(patient_id: int, authorization: str) -> int:
    """SQL statements a capture runs (BEGIN and COMMIT included), counted in-process
    through the same stack as gunicorn serves. The patient's first entry also sets up
    their weekly NRS sums, so the count is taken on the second, as every later one."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)
    counts = []
    for _ in range(2):
        body = {
            "instrument": "nrs",
            "answers": {"score": 4},
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
            "client_uuid": str(uuid.uuid4()),
        }
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/api/v1/patients/{patient_id}/assessments/", body, format="json")
        assert response.status_code == 201, response.content
        counts.append(len(queries))
    return counts[-1]


def _raw_insert_rps(patient_id: int, total: int) -> float:
    """Single-row autocommit INSERTs of an NRS-shaped row from 8 connections."""
    import psycopg

    db = settings.DATABASES["default"]
    dsn = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} dbname={db['NAME']} user={db['USER'] or 'postgres'}"
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_insert (id bigserial primary key, patient_id bigint, instrument varchar(16), "
            "answers jsonb, total double precision, band varchar(32), flags jsonb, recorded_at timestamptz, client_uuid uuid unique)"
        )
        setup.execute("TRUNCATE bench_raw_insert")
    per = total // CLIENTS
    barrier = threading.Barrier(CLIENTS + 1)

    def worker() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            barrier.wait()
            for n in range(per):
                conn.execute(
                    "INSERT INTO bench_raw_insert (patient_id, instrument, answers, total, band, flags, recorded_at, client_uuid) "
                    "VALUES (%s, 'nrs', %s, %s, 'moderate', '[]', now(), %s)",
                    (patient_id, json.dumps({"score": n % 11}), n % 11, uuid.uuid4()),
                )

    threads: list[Any] = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return per * CLIENTS / elapsed
