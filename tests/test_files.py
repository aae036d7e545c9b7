"""Files holding personal data or secrets are readable by their owner only (issue 14), even when the
process starts with a permissive umask."""
import os
import stat

from tasks import make_huey
from webapp import create_app
from webapp.db import migrate
from webapp.models import database


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_databases_the_queue_the_counters_and_the_secret_key_are_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("RELANCE_SECRET_KEY", raising=False)
    old = os.umask(0o022)
    try:
        instance = tmp_path / "instance"
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{instance / 'relance.db'}",
                          "RATELIMIT_STORAGE_URI": f"sqlite:///{instance / 'ratelimit.db'}"})
        from webapp import config
        config._secret_key(instance)
        queue = make_huey(f"sqlite:///{instance / 'huey.db'}")
        queue.storage.enqueued_items()  # opens the queue file
        with app.app_context(), database.connection_context():
            migrate()
            # While a connection is open SQLite keeps its write-ahead log and shared memory beside it.
            for name in ["relance.db", "relance.db-wal", "relance.db-shm", "secret_key", "huey.db",
                         "ratelimit.db"]:
                assert mode(instance / name) == 0o600, (name, oct(mode(instance / name)))
    finally:
        os.umask(old)
    assert mode(instance) == 0o700


def test_an_existing_database_readable_by_others_is_made_owner_only(tmp_path):
    path = tmp_path / "old.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{path}",
                "RATELIMIT_STORAGE_URI": "memory://"})
    assert mode(path) == 0o600
