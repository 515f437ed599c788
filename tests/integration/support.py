"""Helpers for the integration tests: real Celery worker, gunicorn and beat subprocesses, polling."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: Short visibility timeout so a message whose worker died is redelivered in seconds.
VISIBILITY_TIMEOUT = 5


def backends_ready() -> bool:
    """The integration tests need PostgreSQL and a Redis broker (CI has both)."""
    database = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    return database.startswith(("postgres://", "postgresql://")) and broker.startswith(("redis://", "rediss://"))


SKIP_REASON = "integration: needs DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://..."


def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class Worker:
    """``celery -A config worker`` in its own process group, against the test database."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path, concurrency: int = 2) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                f"--hostname={name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.name} exited early:\n{self.log()[-4000:]}")
            return " ready." in self.log()

        wait_for(ready, timeout=timeout, what=f"worker {self.name} to be ready")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children): no clean-up at all."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        if not self._log.closed:
            self._log.close()

    def stop(self) -> int:
        """Warm shutdown (SIGTERM: finish running tasks); the exit code."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """A server subprocess (gunicorn, celery beat) in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def running(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited early ({self.proc.returncode}):\n{self.log()[-4000:]}")
        return True

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (a clean shutdown) and the exit code; SIGKILL if it does not stop in time."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


def gunicorn(env: dict[str, str], log_path: Path, *, port: int, workers: int = 2, threads: int = 1) -> Service:
    """``gunicorn config.wsgi`` on 127.0.0.1:port, as docker/entrypoint.sh starts the web role."""
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--graceful-timeout",
        "10",
    ]
    return Service("gunicorn", argv, env, log_path)


def http_ok(port: int, path: str = "/healthz") -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
