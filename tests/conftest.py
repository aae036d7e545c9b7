"""Fixtures: a fresh app and database per test (flaskr's trio), staff factories, real servers."""
import atexit
import functools
import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from tests.servers import DovecotServer, PostgresServer

# A queue file of this run's own: two runs at once (two checkouts, CI beside a developer) never share one.
if "RELANCE_HUEY_URL" not in os.environ:
    _queue_dir = tempfile.mkdtemp(prefix="relance-test-")
    atexit.register(shutil.rmtree, _queue_dir, ignore_errors=True)
    os.environ["RELANCE_HUEY_URL"] = f"sqlite:///{_queue_dir}/huey.db"

from webapp import create_app  # noqa: E402
from webapp.db import migrate  # noqa: E402
from webapp.models import database  # noqa: E402
from webapp.services.defaults import ensure_defaults  # noqa: E402
from webapp.services import users as _users  # noqa: E402
from tests import factories  # noqa: E402

# Password hashing at its cheapest: tests hash hundreds of passwords, and argon2's production cost
# (tens of milliseconds each, on purpose) tests nothing here. Production keeps the library's defaults.
_users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_TEMPLATES = tempfile.mkdtemp(prefix="relance-test-schema-")
atexit.register(shutil.rmtree, _TEMPLATES, ignore_errors=True)

PASSWORD = factories.PASSWORD
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server for the session; each test gets a database of its own."""
    if not PostgresServer.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries are missing: scripts/install-system-deps installs them")
        pytest.skip("PostgreSQL is not installed (scripts/install-system-deps installs it)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot():
    """One real IMAP server (dovecot) for the session; each test adds a mailbox user of its own."""
    if not DovecotServer.available():
        if os.environ.get("CI"):
            pytest.fail("dovecot is missing: scripts/install-system-deps installs it")
        pytest.skip("dovecot is not installed (scripts/install-system-deps installs it)")
    server = DovecotServer().start()
    yield server
    server.stop()


@functools.cache
def _schema_template() -> Path:
    """A SQLite file migrated once per run, with the defaults: each test's database starts as a copy of
    it (a copy takes a few milliseconds, fifteen migrations a hundred)."""
    path = Path(_TEMPLATES) / "template.db"
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": f"sqlite:///{path}",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context(), database.connection_context():
        migrate()
        ensure_defaults()
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the main file, to copy
    return path


def _from_template(database_url: str) -> None:
    if database_url.startswith("sqlite:///") and "?" not in database_url and database_url != "sqlite:///:memory:":
        target = Path(database_url.removeprefix("sqlite:///"))
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_schema_template(), target)


def make_app(database_url: str, **config):
    _from_template(database_url)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": database_url,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "RATELIMIT_STORAGE_URI": "memory://", **config})
    with app.app_context(), database.connection_context():
        migrate()
        ensure_defaults()
    return app


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """Model and service tests run on both databases the product supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'relance.db'}"
    server = request.getfixturevalue("postgres")
    return server.create_database(f"t{os.getpid()}_{next(_counter)}")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'relance.db'}"


@pytest.fixture
def app(sqlite_url):
    """The app on a fresh SQLite file, CSRF off (tests/test_security.py turns it on)."""
    return make_app(sqlite_url)


@pytest.fixture
def any_app(db_url):
    """The app on each supported database, for model and service tests."""
    return make_app(db_url)


@pytest.fixture
def ctx(app):
    """An application context with an open connection, for service-level tests."""
    with app.test_request_context(), database.connection_context():
        yield app


@pytest.fixture
def any_ctx(any_app):
    with any_app.test_request_context(), database.connection_context():
        yield any_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create a staff account: make_user("lead") -> User (password PASSWORD)."""
    def factory(role="secretary", email=None, name=None):
        with app.app_context(), database.connection_context():
            return factories.user(role, email=email, name=name)
    return factory


def login(client, user, password=PASSWORD):
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.data[:500]
    return response


@pytest.fixture
def as_role(client, make_user):
    """A client logged in with the given role: as_role("lead") -> client."""
    def factory(role="secretary"):
        user = make_user(role)
        login(client, user)
        client.user = user
        return client
    return factory


@pytest.fixture
def db(app):
    """Read (or set up) the database as it is now, outside any request: db(lambda: Model.get(...))."""
    def run(query):
        with app.test_request_context(), database.connection_context():
            return query()
    return run


@pytest.fixture
def manager(as_role):
    """A manager's client, in English (the settings tests read English messages)."""
    client = as_role("manager")
    client.post("/language", data={"locale": "en"})
    return client


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser (NOTES.md)."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run"]}
