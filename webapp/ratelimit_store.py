"""A `limits` storage in a SQLite file (`sqlite:///PATH`): rate-limit counters shared by every web
process of one machine, with no server to install (the embedded default; `redis://…` past one machine).

Only the moving window is supported, the strategy webapp/ratelimit.py uses. Each hit is a row; taking
one is a check and an insert in one `BEGIN IMMEDIATE` transaction, so two processes never both take
the last one. Counters are not worth an fsync (`synchronous=OFF`): a power cut forgets a few minutes
of them, nothing else.
"""
import sqlite3
import threading
import time
from urllib.parse import unquote, urlparse

from limits.storage import MovingWindowSupport, Storage

from .files import private_file

_SCHEMA = ("CREATE TABLE IF NOT EXISTS hit (key TEXT NOT NULL, at REAL NOT NULL)",
           "CREATE INDEX IF NOT EXISTS hit_key_at ON hit (key, at)")


class SQLiteStorage(Storage, MovingWindowSupport):
    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = unquote(urlparse(uri).path[1:]) or ":memory:"
        if self.path != ":memory:":
            private_file(self.path)
        self._local = threading.local()
        with self._transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            self._local.db = db
        return db

    def _transaction(self):
        storage = self

        class _Transaction:
            def __enter__(self):
                self.db = storage._connection()
                self.db.execute("BEGIN IMMEDIATE")
                return self.db

            def __exit__(self, kind, value, traceback):
                self.db.execute("ROLLBACK" if kind else "COMMIT")
        return _Transaction()

    # --- the moving window ----------------------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM hit WHERE key = ? AND at < ?", (key, now - expiry))
            (taken,) = db.execute("SELECT count(*) FROM hit WHERE key = ?", (key,)).fetchone()
            if taken + amount > limit:
                return False
            db.executemany("INSERT INTO hit (key, at) VALUES (?, ?)", [(key, now)] * amount)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        oldest, taken = self._connection().execute(
            "SELECT min(at), count(*) FROM hit WHERE key = ? AND at >= ?", (key, now - expiry)).fetchone()
        return (oldest if oldest is not None else now), taken

    def release_entry(self, key: str) -> None:
        """Give back the newest hit of `key` (a login that turned out right)."""
        with self._transaction() as db:
            db.execute("DELETE FROM hit WHERE rowid = (SELECT rowid FROM hit WHERE key = ? "
                       "ORDER BY at DESC LIMIT 1)", (key,))

    # --- the fixed window's interface, answered from the same rows ------------------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM hit WHERE key = ? AND at < ?", (key, now - expiry))
            db.executemany("INSERT INTO hit (key, at) VALUES (?, ?)", [(key, now)] * amount)
            return db.execute("SELECT count(*) FROM hit WHERE key = ?", (key,)).fetchone()[0]

    def get(self, key: str) -> int:
        return self._connection().execute("SELECT count(*) FROM hit WHERE key = ?", (key,)).fetchone()[0]

    def get_expiry(self, key: str) -> float:
        return time.time()

    def check(self) -> bool:
        return self._connection().execute("SELECT 1").fetchone() == (1,)

    def reset(self) -> int | None:
        with self._transaction() as db:
            return db.execute("DELETE FROM hit").rowcount

    def clear(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM hit WHERE key = ?", (key,))
