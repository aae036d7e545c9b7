"""A real intake stack for the intake benchmark and the live tests: a temp SQLite database with the
schema and a web-form source, the app under gunicorn, a real Huey consumer process, and a small
HTTP client (http.client, no proxy) for posts.

Plain functions and classes, no pytest: tests/test_intake_live.py and tests/test_intake_kill.py use
them through fixtures, bench/intake.py directly.
"""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
HUEY_CONSUMER = str(Path(sys.executable).parent / "huey_consumer")


class IntakeStack:
    """A temp directory holding the app database (schema, defaults, two staff for the round robin)
    and the queue database, with the environment the web and worker processes read."""

    def __init__(self, lease_seconds: int | None = None, keep: bool = False, directory: str | None = None):
        self.dir = Path(directory or tempfile.mkdtemp(prefix="relance-intake-"))
        self.keep = keep
        self.db_path = self.dir / "relance.db"
        self.database_url = f"sqlite:///{self.db_path}"
        self.huey_url = f"sqlite:///{self.dir / 'huey.db'}"
        self.env = {"RELANCE_DATABASE_URL": self.database_url, "RELANCE_HUEY_URL": self.huey_url,
                    "RELANCE_SECRET_KEY": "intake-test-secret", "PYTHONPATH": str(ROOT),
                    "RELANCE_RATELIMIT_STORAGE_URL": "memory://"}
        if lease_seconds is not None:
            self.env["RELANCE_INTAKE_LEASE_SECONDS"] = str(lease_seconds)
        self.app = None

    def prepare(self) -> "IntakeStack":
        """Create the schema, the defaults, two staff accounts and the queue's tables (once, before any
        web or worker process opens them: NOTES.md)."""
        from tasks import make_huey
        from webapp import create_app
        from webapp.db import migrate
        from webapp.models import database
        from webapp.services.defaults import ensure_defaults
        from webapp.services.users import create_user

        self.app = create_app({"TESTING": True, "SECRET_KEY": "intake-test-secret",
                               "DATABASE_URL": self.database_url, "HUEY_URL": self.huey_url,
                               "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                               "INTAKE_LEASE_SECONDS": int(self.env.get("RELANCE_INTAKE_LEASE_SECONDS", 120))})
        with self.app.app_context(), database.connection_context():
            migrate()
            ensure_defaults()
            create_user("secretaire@intake.test", "Codou Secrétaire", "secretary", "intake-pass-42")
            create_user("lead@intake.test", "Fatou Lead", "lead", "intake-pass-42")
        make_huey(self.huey_url)  # creates the queue's tables
        return self

    def add_source(self, slug: str, mode: str = "triage", secret: str | None = None, **config):
        from webapp.models import database
        from webapp.services.sources import create_source

        with self.app.app_context(), database.connection_context():
            return create_source(slug, "webform", slug.title(), {"mode": mode, "rate_limit": "", **config},
                                 secret)

    def run(self, function, *args, **kwargs):
        """Call `function` inside an app context with an open connection (reads, replays, set-up)."""
        from webapp.models import database

        with self.app.test_request_context(), database.connection_context():
            return function(*args, **kwargs)

    def sql(self, query: str, params=()) -> list[tuple]:
        """A read with plain sqlite3 (WAL: never blocks the writers)."""
        with sqlite3.connect(self.db_path, timeout=10) as conn:
            return conn.execute(query, params).fetchall()

    def gunicorn(self, workers: int = 2, app_spec: str = "webapp:create_app()", env: dict | None = None,
                 extra_args: tuple[str, ...] = ()):
        """The app (or another WSGI app) under gunicorn with this stack's environment; not started."""
        from tests.servers import GunicornServer

        return GunicornServer(app_spec, env={**self.env, **(env or {})}, workers=workers, timeout=30,
                              extra_args=extra_args)

    def consumer(self, workers: int = 2, periodic: bool = True, kind: str = "thread") -> "Consumer":
        return Consumer(self.env, workers=workers, periodic=periodic, kind=kind)

    def cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class Consumer:
    """`huey_consumer tasks.huey` as the Procfile's worker runs it (thread workers; `kind="process"` to
    use more than one core), in its own process group."""

    def __init__(self, env: dict, workers: int = 2, periodic: bool = True, kind: str = "thread"):
        self.env, self.workers, self.periodic, self.kind = env, workers, periodic, kind
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> "Consumer":
        cmd = [HUEY_CONSUMER, "tasks.huey", "--workers", str(self.workers), "--worker-type", self.kind,
               "--flush-locks"]
        if not self.periodic:
            cmd.append("--no-periodic")
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **self.env}, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def output(self) -> str:
        from tests.servers import log_tail

        return log_tail(self._log)

    def kill(self) -> None:
        """SIGKILL, as an OOM kill or a power cut would: the running tasks are lost."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 10) -> None:
        """SIGINT, the graceful stop (NOTES.md); SIGKILL if it outlasts `timeout`."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def post(url: str, body: bytes, content_type: str, headers: dict | None = None,
         timeout: float = 10) -> tuple[int, dict, bytes]:
    """POST without following redirects; returns (status, headers with lower-case names, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                     headers={"Content-Type": content_type, **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def wait_for(check, timeout: float = 30.0, interval: float = 0.05):
    """Call `check` until it returns something true or `timeout` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(interval)


def senegal_mobile(n: int) -> tuple[str, str]:
    """A distinct valid Senegal mobile for each n < 10,000,000: (as typed, E.164)."""
    digits = f"{n:07d}"
    return f"77 {digits[:3]} {digits[3:5]} {digits[5:]}", f"+22177{digits}"
