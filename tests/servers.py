"""Real servers for the tests: a throwaway PostgreSQL cluster, the app under a
real HTTP server (in a thread or under gunicorn).

Plain classes and functions, no pytest fixtures: the fixtures in conftest.py
decide the scope (usually one server per session) and call ``start()``/``stop()``.
Every class is also a context manager.

An SMTP sink (aiosmtpd's ``Controller``) belongs here once aiosmtpd is a
dependency; it is not one yet.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["free_port", "http_get", "PostgresServer", "LiveServer", "GunicornServer", "ProcfileWeb", "DovecotServer",
           "procfile_line"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now on ``host``.

    For servers that cannot bind port 0 and report back (postgres, gunicorn,
    aiosmtpd). Another process could take it before the server binds it; the
    window is small.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# Ignores *_proxy variables: a CI proxy must never see requests to 127.0.0.1.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET ``url`` without any proxy; returns (status, body), also for 4xx/5xx."""
    try:
        with _opener.open(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class _Server:
    """Shared context-manager behaviour."""

    def start(self):
        raise NotImplementedError

    def stop(self):
        raise NotImplementedError

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------- PostgreSQL


class PostgresServer(_Server):
    """A throwaway PostgreSQL cluster in a temporary directory.

    ``initdb --auth=trust -U relance`` then ``pg_ctl start`` on a free loopback
    port with durability turned off (fsync, synchronous_commit,
    full_page_writes): fine for data thrown away at the end. PostgreSQL
    refuses to run as root, so as root the binaries run as the ``postgres``
    system user (``nobody`` if there is none), which then owns the directory.

    >>> pg = PostgresServer(); pg.start()
    >>> pg.url                        # postgresql://relance@127.0.0.1:PORT/relance
    >>> pg.create_database("t1")      # postgresql://relance@127.0.0.1:PORT/t1
    >>> pg.stop()
    """

    user = "relance"

    def __init__(self):
        self.bindir = self.find_bindir()
        self.port: int | None = None
        self.tmpdir: Path | None = None
        self.started_in: float | None = None  # seconds taken by start()

    # -- binaries

    @staticmethod
    def find_bindir() -> Path | None:
        """Directory holding initdb and pg_ctl: Debian's newest
        /usr/lib/postgresql/N/bin, else wherever ``initdb`` is on PATH."""

        def version(path: str) -> tuple[int, ...]:
            return tuple(int(n) for n in re.findall(r"\d+", path.split("/")[-3]))

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
        if found:
            return Path(found[-1]).parent
        initdb = shutil.which("initdb")
        return Path(initdb).parent if initdb else None

    @classmethod
    def available(cls) -> bool:
        """True if initdb and pg_ctl can be found."""
        bindir = cls.find_bindir()
        return bool(bindir and (bindir / "pg_ctl").exists())

    # -- privileges

    @staticmethod
    def _run_as() -> str | None:
        """The unprivileged user to run the server as when we are root."""
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
                return name
            except KeyError:
                pass
        raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")

    def _cmd(self, *args: str) -> list[str]:
        user = self._run_as()
        if user is None:
            return list(args)
        if shutil.which("setpriv"):
            return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *args]
        return ["runuser", "-u", user, "--", *args]

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            self._cmd(*args),
            cwd=self.tmpdir,  # readable by the server user (root's cwd may not be)
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{self._log()}")
        return proc

    def _log(self) -> str:
        log = self.tmpdir / "postgres.log" if self.tmpdir else None
        return log.read_text(errors="replace")[-4000:] if log and log.exists() else ""

    # -- life cycle

    def start(self) -> PostgresServer:
        """initdb a new cluster and start it; raises RuntimeError with the log on failure."""
        if self.bindir is None:
            raise RuntimeError("PostgreSQL binaries not found (Debian: apt-get install postgresql)")
        t0 = time.monotonic()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="relance-pg-"))
        user = self._run_as()
        if user:
            pw = pwd.getpwnam(user)
            os.chown(self.tmpdir, pw.pw_uid, pw.pw_gid)
        atexit.register(self.stop)  # in case the test session dies without teardown
        try:
            self._init_and_start()
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - t0
        return self

    def _init_and_start(self) -> None:
        data = self.tmpdir / "data"
        self._run(
            str(self.bindir / "initdb"), "-D", str(data), "-U", self.user, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )
        for attempt in range(3):  # the free port may be taken before postgres binds it
            self.port = free_port()
            opts = (
                f"-p {self.port} -k {shlex.quote(str(self.tmpdir))} -c listen_addresses=127.0.0.1"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                self._run(
                    str(self.bindir / "pg_ctl"), "start", "-w", "-t", "30", "-D", str(data),
                    "-l", str(self.tmpdir / "postgres.log"), "-o", opts,
                )
                break
            except RuntimeError:
                if attempt == 2 or "already in use" not in self._log():
                    raise
        # initdb makes only "postgres" and the templates: add the app's database.
        self.create_database(self.user, via="postgres")

    def stop(self) -> None:
        """Stop at once (no checkpoint: the data is thrown away) and delete the directory."""
        atexit.unregister(self.stop)
        if self.tmpdir is None:
            return
        data = self.tmpdir / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                self._cmd(str(self.bindir / "pg_ctl"), "stop", "-w", "-m", "immediate", "-D", str(data)),
                cwd=self.tmpdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.tmpdir = None

    # -- use

    @property
    def url(self) -> str:
        """URL of the ``relance`` database, as superuser ``relance``."""
        return self.url_for(self.user)

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str, via: str = "relance") -> str:
        """CREATE DATABASE ``name`` (e.g. one per test worker); returns its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url_for(via), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)


# --------------------------------------------------------------------------- HTTP


class LiveServer(_Server):
    """A WSGI app (e.g. the Flask app from the factory) served by werkzeug's
    threaded server in a daemon thread of the test process.

    Fast to start and the app shares the test's memory (monkeypatching works);
    for multi-process behaviour use :class:`GunicornServer`.
    ``port=0`` lets the OS pick; the chosen port is in ``.port`` / ``.url``.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.app, self.host, self.port = app, host, port
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        from werkzeug.serving import make_server

        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self.port = self._server.server_port
        # A short poll interval: shutdown() waits up to one interval (default 0.5 s).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None


def log_tail(log) -> str:
    """The last 8,000 characters a server process wrote to its log file (a TemporaryFile), or ""."""
    if log is None:
        return ""
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")[-8000:]


def _gunicorn_has(option: str) -> bool:
    """Does the installed gunicorn know this command-line option?"""
    try:
        from gunicorn import config
    except ImportError:
        return False
    return any(option in (s.cli or []) for s in config.KNOWN_SETTINGS)


class GunicornServer(_Server):
    """The app under gunicorn in a subprocess (its own process group), as in production.

    ``app_spec`` is gunicorn's ``module:app`` or ``module:create_app()``; ``env``
    is added to the current environment (database URL, RELANCE_ENV, ...).
    ``start()`` returns once ``GET /healthz`` answers 2xx. ``stop()`` is a
    graceful SIGTERM; ``kill()`` is SIGKILL to master and workers, for crash tests.
    """

    def __init__(self, app_spec: str, env: dict | None = None, workers: int = 2,
                 host: str = "127.0.0.1", timeout: float = 20.0, extra_args: tuple[str, ...] = ()):
        self.app_spec, self.env, self.workers = app_spec, env or {}, workers
        self.host, self.timeout, self.extra_args = host, timeout, tuple(extra_args)
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.cwd: Path | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def output(self) -> str:
        """What gunicorn wrote so far (stdout and stderr)."""
        return log_tail(self._log)

    def command(self) -> list[str]:
        """The command line started by ``start()`` (``self.port`` is chosen first)."""
        # A short graceful timeout: on a loaded 2-core machine the default 30 s outlasted stop()'s wait.
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"{self.host}:{self.port}",
               "--workers", str(self.workers), "--graceful-timeout", "5"]
        # gunicorn 27 opens a control socket under ~/.gunicorn; not wanted in tests.
        if _gunicorn_has("--no-control-socket"):
            cmd.append("--no-control-socket")
        return [*cmd, *self.extra_args, self.app_spec]

    def start(self) -> GunicornServer:
        self.port = free_port(self.host)
        cmd = self.command()
        # A file, not a pipe: a full pipe would block the server.
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            cmd, env=self.environment(), cwd=self.cwd, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        atexit.register(self.kill)
        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                out = self.output()
                self.stop()
                raise RuntimeError(f"{cmd[-1]!r} exited with {self.proc.returncode}:\n{out}")
            try:
                status, body = http_get(self.url + "/healthz", timeout=2)
            except OSError:
                status = None
            if status is not None:
                if 200 <= status < 300:
                    return self
                out = self.output()
                self.kill()
                raise RuntimeError(f"GET /healthz answered {status}: {body[:500]!r}\n{out}")
            if time.monotonic() > deadline:
                out = self.output()
                self.kill()
                raise RuntimeError(f"{cmd[-1]!r} not answering on {self.url}/healthz after {self.timeout} s:\n{out}")
            time.sleep(0.05)

    def environment(self) -> dict:
        return {**os.environ, **self.env}

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (graceful), SIGKILL if still running after ``timeout``; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            # The whole group: a Procfile line may be a shell or a supervisor with children of its own.
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self._finish()

    def kill(self) -> int | None:
        """SIGKILL the whole process group (master and workers) at once."""
        if self.proc is None:
            return None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        return self._finish()

    def _finish(self) -> int | None:
        atexit.unregister(self.kill)
        code = self.proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return code


ROOT = Path(__file__).resolve().parent.parent


def procfile_line(name: str = "web", procfile: Path | None = None) -> str:
    """The command of one process type in the Procfile (``web: …``), as a Procfile runner reads it."""
    for line in (procfile or ROOT / "Procfile").read_text().splitlines():
        kind, sep, command = line.partition(":")
        if sep and kind.strip() == name:
            return command.strip()
    raise LookupError(f"no {name!r} line in the Procfile")


class ProcfileWeb(GunicornServer):
    """The Procfile's ``web`` line exactly as shipped, run as honcho runs it (``/bin/sh -c`` in the project
    directory, ``PORT`` set), in its own process group; ``start()`` returns once ``GET /healthz`` answers
    on ``PORT``. ``command`` replaces the line, to measure another set-up the same way."""

    def __init__(self, env: dict | None = None, command: str | None = None, timeout: float = 30.0):
        super().__init__("", env=env, timeout=timeout)
        self.line = command or procfile_line("web")
        self.cwd = ROOT       # honcho runs the lines from the Procfile's directory

    def command(self) -> list[str]:
        return ["/bin/sh", "-c", self.line]

    def environment(self) -> dict:
        # The venv's executables first, as under `uv run honcho start`.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "PATH": path, **self.env, "PORT": str(self.port)}

# --------------------------------------------------------------------------- SMTP


class SmtpServer(_Server):
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives in `.messages`
    (email.message.EmailMessage objects). The port is chosen first: aiosmtpd's readiness check
    fails with port 0 (NOTES.md)."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host, self.port = host, free_port(host)
        self.messages: list = []
        self._controller = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> "SmtpServer":
        from email import message_from_bytes, policy

        from aiosmtpd.controller import Controller

        received = self.messages

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.original_content, policy=policy.default)
                message.envelope_to = list(envelope.rcpt_tos)
                received.append(message)
                return "250 OK"

        self._controller = Controller(Handler(), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


# --------------------------------------------------------------------------- IMAP


class DovecotServer(_Server):
    """A throwaway IMAP server: Debian's dovecot from a config in a temporary directory, on a loopback
    port, plain IMAP (``ssl = no``), Maildir mailboxes (NOTES.md's recipe).

    Every user name logs in with the server's one ``password`` (a static passdb, not NOTES.md's passwd
    file: dovecot re-reads that file at most once a second, so a user added just then could not log in),
    so a test makes a mailbox of its own by using a new name, and a wrong password still fails.

    As root, dovecot runs as the package's ``dovecot`` user (``setpriv``), which then owns the directory.
    Starting takes a fraction of a second, stopping about 3 s: one server per test session.

    >>> imap = DovecotServer(); imap.start()
    >>> imap.add_user("accueil", "mot-de-passe")
    >>> imap.append("accueil", b"From: ...\\r\\n...", folder="INBOX")     # IMAP APPEND, CRLF
    >>> imap.stop()
    """

    binary = "/usr/sbin/dovecot"

    def __init__(self, host: str = "127.0.0.1", password: str = "Mot2passe-Accueil!"):
        self.host, self.password = host, password
        self.port: int | None = None
        self.tmpdir: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.users: dict[str, str] = {}

    @classmethod
    def available(cls) -> bool:
        return Path(cls.binary).exists() or bool(shutil.which("dovecot"))

    @staticmethod
    def _run_as() -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("dovecot")
            return "dovecot"
        except KeyError:
            raise RuntimeError("running as root and no 'dovecot' user (apt-get install dovecot-core)") from None

    def _user(self) -> str:
        return self._run_as() or pwd.getpwuid(os.geteuid()).pw_name

    def _config(self) -> str:
        d, user = self.tmpdir, self._user()
        return f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = {self.host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# a test logs in with a wrong password on purpose: no growing delay for the next tests' logins
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8 ::1
default_internal_user = {user}
default_login_user = {user}
first_valid_uid = 100
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = static
  args = password={self.password}
}}
userdb {{
  driver = static
  args = uid={user} gid={user} home={d}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {user}
  }}
  unix_listener stats-writer {{
    user = {user}
  }}
}}
"""

    def start(self) -> "DovecotServer":
        if not self.available():
            raise RuntimeError("dovecot is not installed (scripts/install-system-deps installs it)")
        self.tmpdir = Path(tempfile.mkdtemp(prefix="relance-imap-"))
        os.chmod(self.tmpdir, 0o755)   # a 0700 temp dir would hide the config from the dovecot user
        for sub in ("run", "state", "mail"):
            (self.tmpdir / sub).mkdir()
        (self.tmpdir / "dovecot.log").write_text("")
        user = self._run_as()
        if user:
            pw = pwd.getpwnam(user)
            for path in (self.tmpdir, *self.tmpdir.iterdir()):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        atexit.register(self.stop)
        try:
            for attempt in range(3):     # the free port may be taken before dovecot binds it
                self.port = free_port(self.host)
                conf = self.tmpdir / "dovecot.conf"
                conf.write_text(self._config())
                cmd = [self.binary, "-F", "-c", str(conf)]
                if user:
                    cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *cmd]
                self.proc = subprocess.Popen(cmd, cwd=self.tmpdir, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                             start_new_session=True)
                if self._wait_ready():
                    return self
                self._terminate()
            raise RuntimeError(f"dovecot did not start:\n{self.log()}")
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def log(self) -> str:
        path = self.tmpdir / "dovecot.log" if self.tmpdir else None
        return path.read_text(errors="replace")[-4000:] if path and path.exists() else ""

    def _terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        atexit.unregister(self.stop)
        self._terminate()
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    # -- use

    def add_user(self, name: str, password: str | None = None) -> None:
        """A mailbox user: any name logs in with the server's password (its mailbox is made then)."""
        if password is not None and password != self.password:
            raise ValueError("every user of this server has the server's password")
        self.users[name] = self.password

    def client(self, user: str):
        """A logged-in imaplib client for this user (the caller logs out)."""
        import imaplib

        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        # SASL PLAIN: UTF-8 names and passwords (LOGIN takes ASCII only)
        client.authenticate("PLAIN", lambda _: f"\0{user}\0{self.password}".encode())
        return client

    @staticmethod
    def quoted(folder: str) -> str:
        """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7."""
        from imap_tools.imap_utf7 import utf7_encode

        name = folder if folder.isascii() else utf7_encode(folder).decode("ascii")
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def append(self, user: str, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        """Deliver one mail with IMAP APPEND, line endings made CRLF."""
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        client = self.client(user)
        try:
            if folder != "INBOX":
                client.create(self.quoted(folder))   # NO if it exists: fine
            typ, data = client.append(self.quoted(folder), flags or None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data}")
        finally:
            client.logout()

    def append_many(self, user: str, messages, folder: str = "INBOX") -> None:
        """Deliver many mails over one connection."""
        client = self.client(user)
        try:
            if folder != "INBOX":
                client.create(self.quoted(folder))
            for raw in messages:
                raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                typ, data = client.append(self.quoted(folder), None, None, raw)
                if typ != "OK":
                    raise RuntimeError(f"APPEND failed: {data}")
        finally:
            client.logout()
