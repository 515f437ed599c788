"""The 09:00 reminder wave: an open-loop burst of captures against gunicorn on PostgreSQL.

PostgreSQL + Redis only. gunicorn serves the pytest test database production-shaped
(DEBUG off, persistent connections). Two phases:

1. Unit costs, closed loop: single NRS captures (4 clients) and offline syncs of 20
   entries (2 clients), with the CPU that gunicorn and the PostgreSQL backends serving it
   spent per capture and per synced entry (what docs/capacity.md scales from).
2. The wave, open loop: arrivals are a Poisson process whose rate rises from 20 % of the
   peak to the peak (``BENCH_WAVE_PEAK_RPS``, default 100 single captures a second) in the
   first quarter, holds it to 58 %, then decays; offline phones sync batches of 5-30
   entries at ``BENCH_WAVE_SYNC_SHARE`` (default 5 %) of that rate, for
   ``BENCH_WAVE_SECONDS`` (default 60). Requests are sent at their scheduled instant
   whatever the server's state (no coordinated omission); a latency runs from that
   instant to the full response. Phones misbehave as phones do: 3 % of single captures
   are sent again after their answer, 2 % twice at once, and 10 % of syncs again. A
   server that falls so far behind that more than ``MAX_IN_FLIGHT`` requests wait stops
   the wave there (``saturated_at_s``): the bench stays bounded in time.

Prints ``BENCH capture_unit_cost ...`` and ``BENCH reminder_wave ...`` (p50/p95/p99 of
single captures and of syncs, rates reached, errors, rows per entry). Asserts only
correctness: every response 200/201, every sync entry created or duplicate, and exactly
one stored row per entry sent (none lost, none twice); never a latency. Target:
p99 < 150 ms for single captures, 0 errors. Timings on a shared 2-core machine move with
whatever else runs on it: read them with the load average printed beside them.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import os
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from assessments.models import Assessment
from tests.benchmarks.test_capture_bench import _db_url, _server_cpu_seconds
from tests.conftest import client_for
from tests.factories import make_clinic, make_patient, make_staff, make_user
from tests.integration.support import free_port, gunicorn, http_ok, wait_for

pytestmark = [
    pytest.mark.bench,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (
            os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
            and os.environ.get("CELERY_BROKER_URL", "").startswith("redis://")
        ),
        reason="benchmark needs DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...",
    ),
]

PEAK_RPS = float(os.environ.get("BENCH_WAVE_PEAK_RPS", "100"))
SECONDS = float(os.environ.get("BENCH_WAVE_SECONDS", "60"))
SYNC_SHARE = float(os.environ.get("BENCH_WAVE_SYNC_SHARE", "0.05"))
PATIENTS = int(os.environ.get("BENCH_WAVE_PATIENTS", "500"))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", str(2 * (os.cpu_count() or 2) + 1)))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", "1"))
RESEND_AFTER, RESEND_AT_ONCE, RESYNC = 0.03, 0.02, 0.10
#: Requests waiting for an answer beyond which the wave stops (the server is saturated).
MAX_IN_FLIGHT = 400


def wave_shape(u: float) -> float:
    """Share of the peak rate at fraction ``u`` of the wave: a ramp, a plateau, a decay."""
    if u < 0.25:
        return 0.2 + 0.8 * u / 0.25
    if u < 0.58:
        return 1.0
    return 0.25 + 0.75 * math.exp(-(u - 0.58) * 6)


def arrivals(rng: random.Random, peak: float, seconds: float) -> list[float]:
    """Instants of a Poisson process with rate ``peak * wave_shape`` (thinning)."""
    out: list[float] = []
    t = 0.0
    while True:
        t += rng.expovariate(peak)
        if t >= seconds:
            return out
        if rng.random() < wave_shape(t / seconds):
            out.append(t)


@dataclass
class Phone:
    patient_id: int
    authorization: str


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    single_ms: list[float] = field(default_factory=list)
    sync_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    sync_outcomes: dict[str, int] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    entries_synced: int = 0

    def record(self, kind: str, ms: float, status: int) -> None:
        with self.lock:
            (self.single_ms if kind == "single" else self.sync_ms).append(ms)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status not in (200, 201):
                self.errors.append(f"{kind}: HTTP {status}")


def post(port: int, path: str, body: Any, authorization: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST", path, json.dumps(body), {"Authorization": authorization, "Content-Type": "application/json"}
        )
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def nrs_entry(rng: random.Random, *, days_ago: float = 0.0) -> dict[str, Any]:
    return {
        "instrument": "nrs",
        "answers": {"score": rng.randint(0, 10)},
        "recorded_at": (dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).isoformat(),
        "client_uuid": str(uuid.uuid4()),
    }


def _phones(count: int) -> list[Phone]:
    clinic = make_clinic()
    therapist = make_staff(clinic, "therapist")
    phones = []
    for i in range(count):
        patient = make_patient(clinic, user=make_user(f"wave-{i}"), therapists=(therapist,))
        phones.append(Phone(patient.pk, client_for(patient.user)._credentials["HTTP_AUTHORIZATION"]))
    return phones


def _backend_pids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the test database (but ours)."""
    out = {}
    for pid in _backend_pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def _postgres_cpu_since(before: dict[int, float]) -> float:
    """What the backends spent since ``before``; a backend born since counts whole."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in _postgres_cpu().items())


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Wave:
    """Sends single captures and syncs for the phones, recording what was sent and seen."""

    def __init__(self, port: int, phones: list[Phone], rng: random.Random) -> None:
        self.port, self.phones, self.rng = port, phones, rng
        self.results = Results()
        self.pool = ThreadPoolExecutor(max_workers=128)
        self.stopped_at: float | None = None
        self.in_flight = 0

    def _done(self, _future: Any) -> None:
        with self.results.lock:
            self.in_flight -= 1

    def single(self, due: float, phone: Phone, body: dict[str, Any], resend: str) -> None:
        path = f"/api/v1/patients/{phone.patient_id}/assessments/"
        with self.results.lock:
            self.results.sent.add(body["client_uuid"])
        if resend == "at_once":
            self.pool.submit(self._send_single, due, phone, path, body, None)
        self._send_single(due, phone, path, body, resend)

    def _send_single(self, due: float, phone: Phone, path: str, body: dict[str, Any], resend: str | None) -> None:
        try:
            status, answer = post(self.port, path, body, phone.authorization)
        except Exception as exc:  # noqa: BLE001 - any failure to get an answer is an error to report
            with self.results.lock:
                self.results.errors.append(f"single: {exc!r}")
            return
        self.results.record("single", (time.perf_counter() - due) * 1000, status)
        if resend == "after" and status in (200, 201):
            again = time.perf_counter()
            status2, answer2 = post(self.port, path, body, phone.authorization)
            self.results.record("single", (time.perf_counter() - again) * 1000, status2)
            if status2 != 200 or answer2["id"] != answer["id"]:
                with self.results.lock:
                    self.results.errors.append(f"resend answered {status2} {answer2}")

    def sync(self, due: float, phone: Phone, entries: list[dict[str, Any]], again: bool) -> None:
        body = {"entries": [{**entry, "patient": phone.patient_id} for entry in entries]}
        with self.results.lock:
            self.results.sent.update(entry["client_uuid"] for entry in entries)
            self.results.entries_synced += len(entries)
        for attempt in range(2 if again else 1):
            started = due if attempt == 0 else time.perf_counter()
            try:
                status, answer = post(self.port, "/api/v1/sync/", body, phone.authorization)
            except Exception as exc:  # noqa: BLE001
                with self.results.lock:
                    self.results.errors.append(f"sync: {exc!r}")
                return
            self.results.record("sync", (time.perf_counter() - started) * 1000, status)
            if status != 200:
                return
            with self.results.lock:
                for result in answer["results"]:
                    outcome = result["status"]
                    self.results.sync_outcomes[outcome] = self.results.sync_outcomes.get(outcome, 0) + 1
                    if outcome == "rejected" or (attempt == 1 and outcome != "duplicate"):
                        self.results.errors.append(f"sync entry {outcome}: {result.get('reason', '')}")

    def schedule(self, peak: float, seconds: float) -> list[tuple[float, Callable[[float], None]]]:
        rng = self.rng
        events: list[tuple[float, Callable[[float], None]]] = []
        for t in arrivals(rng, peak, seconds):
            phone, roll = rng.choice(self.phones), rng.random()
            resend = "after" if roll < RESEND_AFTER else "at_once" if roll < RESEND_AFTER + RESEND_AT_ONCE else ""
            body = nrs_entry(rng)
            events.append((t, lambda due, p=phone, b=body, r=resend: self.single(due, p, b, r)))
        for t in arrivals(rng, peak * SYNC_SHARE, seconds):
            phone = rng.choice(self.phones)
            entries = [nrs_entry(rng, days_ago=rng.uniform(0.1, 3)) for _ in range(rng.randint(5, 30))]
            again = rng.random() < RESYNC
            events.append((t, lambda due, p=phone, e=entries, a=again: self.sync(due, p, e, a)))
        return sorted(events, key=lambda event: event[0])

    def run(self, events: list[tuple[float, Callable[[float], None]]]) -> float:
        """Send every event at its instant; stop early (``self.stopped_at``) once more
        than ``MAX_IN_FLIGHT`` requests wait for an answer: the server is saturated and
        the rest of the wave would only queue up behind them."""
        start = time.perf_counter()
        futures = []
        for offset, send in events:
            due = start + offset
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if self.in_flight > MAX_IN_FLIGHT:
                self.stopped_at = offset
                break
            with self.results.lock:
                self.in_flight += 1
            future = self.pool.submit(send, due)
            future.add_done_callback(self._done)
            futures.append(future)
        for future in futures:
            future.result()
        self.pool.shutdown(wait=True)
        return time.perf_counter() - start


def _unit_costs(port: int, phones: list[Phone], master_pid: int) -> tuple[float, float, float, float]:
    """CPU ms (gunicorn, PostgreSQL) per single capture and per synced entry, closed loop."""
    rng = random.Random(7)

    def measure(clients: int, per_client: int, job: Callable[[int], None]) -> tuple[float, float]:
        web0, db0 = _server_cpu_seconds(master_pid), _postgres_cpu()
        threads = [threading.Thread(target=lambda c=c: [job(c) for _ in range(per_client)]) for c in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return _server_cpu_seconds(master_pid) - web0, _postgres_cpu_since(db0)

    def one_single(c: int) -> None:
        phone = phones[c]
        status, _ = post(port, f"/api/v1/patients/{phone.patient_id}/assessments/", nrs_entry(rng), phone.authorization)
        assert status == 201

    def one_sync(c: int) -> None:
        phone = phones[10 + c]
        entries = [{**nrs_entry(rng, days_ago=1), "patient": phone.patient_id} for _ in range(20)]
        status, _ = post(port, "/api/v1/sync/", {"entries": entries}, phone.authorization)
        assert status == 200

    for c in range(4):  # warm up: imports, connections
        one_single(c)
    web_single, db_single = measure(4, 150, one_single)
    web_sync, db_sync = measure(2, 20, one_sync)
    return web_single / 600 * 1000, db_single / 600 * 1000, web_sync / 800 * 1000, db_sync / 800 * 1000


def test_reminder_wave() -> None:
    phones = _phones(PATIENTS)
    env = {
        **os.environ,
        "DATABASE_URL": _db_url(),
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "false",
    }
    port = free_port()
    log = Path(os.environ.get("VAR_DIR", "/tmp")) / "wave-gunicorn.log"  # noqa: S108
    log.parent.mkdir(parents=True, exist_ok=True)
    web = gunicorn(env, log, port=port, workers=WEB_WORKERS, threads=WEB_THREADS)
    try:
        wait_for(lambda: web.running() and http_ok(port), timeout=60, what="gunicorn")
        costs = _unit_costs(port, phones, web.proc.pid)
        before = Assessment.objects.count()
        wave = Wave(port, phones, random.Random(2026))
        events = wave.schedule(PEAK_RPS, SECONDS)
        load_before = os.getloadavg()[0]
        web0 = _server_cpu_seconds(web.proc.pid)
        elapsed = wave.run(events)
        web_cpu = _server_cpu_seconds(web.proc.pid) - web0
    finally:
        web.stop()

    r = wave.results
    stored = list(
        Assessment.objects.filter(client_uuid__in=[uuid.UUID(u) for u in r.sent]).values_list("client_uuid", flat=True)
    )
    rows_per_entry = {str(u) for u in stored}
    twice = len(stored) - len(rows_per_entry)
    lost = len(r.sent - rows_per_entry)
    singles = len(r.single_ms)
    print(
        f"\nBENCH capture_unit_cost web_cpu_ms_per_capture={costs[0]:.2f} db_cpu_ms_per_capture={costs[1]:.2f} "
        f"web_cpu_ms_per_synced_entry={costs[2]:.2f} db_cpu_ms_per_synced_entry={costs[3]:.2f} "
        f"gunicorn_workers={WEB_WORKERS} threads={WEB_THREADS}"
    )
    print(
        f"BENCH reminder_wave seconds={elapsed:.1f} peak_rps={PEAK_RPS:.0f} single_requests={singles} "
        f"sync_requests={len(r.sync_ms)} entries_synced={r.entries_synced} mean_rps={(singles + len(r.sync_ms)) / elapsed:.1f} "
        f"single_p50_ms={_percentile(r.single_ms, 0.5):.0f} single_p95_ms={_percentile(r.single_ms, 0.95):.0f} "
        f"single_p99_ms={_percentile(r.single_ms, 0.99):.0f} single_max_ms={max(r.single_ms, default=0):.0f} "
        f"sync_p50_ms={_percentile(r.sync_ms, 0.5):.0f} sync_p99_ms={_percentile(r.sync_ms, 0.99):.0f} "
        f"statuses={dict(sorted(r.statuses.items()))} sync_outcomes={r.sync_outcomes} errors={len(r.errors)} "
        f"entries={len(r.sent)} stored_new={Assessment.objects.count() - before} lost={lost} twice={twice} "
        f"web_cpu_s={web_cpu:.1f} load1_before={load_before:.1f} load1_after={os.getloadavg()[0]:.1f} "
        f"cpus={os.cpu_count()} saturated_at_s={'-' if wave.stopped_at is None else f'{wave.stopped_at:.1f}'} "
        f"(targets: single_p99_ms<150, errors=0, lost=twice=0)"
    )
    assert not r.errors, r.errors[:10]
    assert lost == 0
    assert twice == 0
    assert Assessment.objects.count() - before == len(r.sent)
