"""The intake's hot path: find a source, and store a post durably with its duplicate check.

Measured choices (bench/intake.py, README "Benchmarks"):

- **Plain SQL.** Peewee builds each statement anew, a large share of a post's cost; these
  statements are written once here, in the portable subset SQLite and PostgreSQL share, with values
  converted by the models' own fields (before the write lock) so rows read back exactly as if Peewee had
  written them. The duplicate check and the insert are one statement.
- **Kept sources.** A source is read once per `SOURCE_CACHE_SECONDS` per app, not once per post.
- **Group commit.** A post is acknowledged only after its row is committed with `synchronous=FULL`,
  and that fsync is most of the cost of a post. Threads of one web process that post at the same time
  share it: the first to arrive leads, writes every waiting row in one transaction and commits once;
  the others find their row written when they get the lock. One thread alone commits alone, so a
  sync worker behaves exactly as before. Every row is still committed before its answer leaves.
"""
import fcntl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from peewee import IntegrityError, SqliteDatabase

from ..models import InboundRequest, Source, database

_SOURCE = "SELECT id, slug, type, name, config, secret FROM source WHERE slug = ? AND active = ?"
# What a post may repeat: the same Idempotency-Key of the same source.
_EARLIER_BY_KEY = "SELECT id, state FROM inbound_request WHERE source_id = ? AND idempotency_key = ?"
_COLUMNS = ("source_id, received_at, remote_addr, headers, content_type, body, idempotency_key, fingerprint,"
            " state, triage, error, attempts")
_VALUES = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0"
_INSERT = f"INSERT INTO inbound_request ({_COLUMNS}) VALUES ({_VALUES}) RETURNING id"
# The duplicate check and the insert in one statement: the least work while the write lock is held.
_INSERT_UNLESS = f"INSERT INTO inbound_request ({_COLUMNS}) SELECT {_VALUES} WHERE NOT EXISTS ({{}}) RETURNING id"


def _run(sql: str, params: tuple) -> list[tuple]:
    if database.param != "?":
        sql = sql.replace("?", database.param)
    return list(database.execute_sql(sql, params).fetchall())


SOURCE_CACHE_SECONDS = 2.0


def find_source(slug: str) -> Source | None:
    """The active source with this slug, in one plain query, then kept for `SOURCE_CACHE_SECONDS` by
    this app (a post then reads no source row): a change in the admin reaches every web process within
    that time, and the process that made it at once (`forget_sources`)."""
    cache = current_app.extensions.setdefault("relance.sources", {})
    now = time.monotonic()
    cached = cache.get(slug)
    if cached is not None and cached[0] > now:
        return cached[1]
    rows = _run(_SOURCE, (slug, Source.active.db_value(True)))
    if not rows:
        cache.pop(slug, None)
        return None
    id_, slug, type_, name, config, secret = rows[0]
    source = Source(id=id_, slug=slug, type=type_, name=name, config=Source.config.python_value(config),
                    secret=secret, active=True)
    cache[slug] = (now + SOURCE_CACHE_SECONDS, source)
    return source


def forget_sources() -> None:
    """Drop this app's kept sources (after a change to one)."""
    current_app.extensions.get("relance.sources", {}).clear()


@dataclass
class Pending:
    """A post waiting to be stored: the row's values, and what to look for before inserting it."""
    source_id: int
    received_at: datetime
    remote_addr: str
    headers: dict
    content_type: str
    body: bytes
    idempotency_key: str | None
    fingerprint: str
    state: str
    error: str | None
    # filled by the leader that writes it
    stored_id: int | None = None
    stored_state: str | None = None
    duplicate: bool = False
    failure: BaseException | None = None
    done: bool = field(default=False, repr=False)

    def __post_init__(self):
        # Converted here, in the posting thread, so that the writer holds the lock for SQL alone.
        self.row = (self.source_id, InboundRequest.received_at.db_value(self.received_at), self.remote_addr,
                    InboundRequest.headers.db_value(self.headers), self.content_type, self.body,
                    self.idempotency_key, self.fingerprint, self.state, InboundRequest.triage.db_value(False),
                    self.error)
        # Only the sender's own secret names an earlier request: a repeat of the same content is
        # stored anew and answered like any post (the worker follows the first copy), or the answer
        # would tell anyone who knows a person's details that she wrote to the clinic.
        self.earlier = (_EARLIER_BY_KEY, (self.source_id, self.idempotency_key)) if self.idempotency_key else None


def _write(item: Pending) -> None:
    if item.earlier is None:
        [(item.stored_id,)] = _run(_INSERT, item.row)
    else:
        earlier_sql, earlier_params = item.earlier
        inserted = _run(_INSERT_UNLESS.format(earlier_sql), item.row + earlier_params)
        if not inserted:  # a repeat: answer with the request it repeats
            [(item.stored_id, item.stored_state)] = _run(earlier_sql + " ORDER BY id LIMIT 1", earlier_params)
            item.duplicate = True
            return
        [(item.stored_id,)] = inserted
    item.stored_state, item.duplicate = item.state, False


@contextmanager
def _writers_queue():
    """On SQLite, the web processes' batch writers take turns on a file lock before asking for the
    database's write lock. Waiting on SQLite's lock means sleeping and retrying (1 to 100 ms between
    tries), so a writer that just missed it could sleep long after it was free; the kernel hands a file
    lock over at once, and while a process waits its own posts gather into its next batch."""
    if not isinstance(database.obj, SqliteDatabase) or database.obj.database in ("", ":memory:"):
        yield
        return
    path = database.obj.database + ".intake-lock"
    handle = _lock_files.get(path)
    if handle is None:
        handle = _lock_files.setdefault(path, open(path, "a+b"))  # noqa: SIM115 (kept for the process)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)


_lock_files: dict[str, object] = {}


class GroupCommit:
    """Leader/follower group commit for one process (see the module's docstring)."""

    def __init__(self):
        self._writer = threading.Lock()      # held by the thread writing a batch
        self._waiting_lock = threading.Lock()
        self._waiting: list[Pending] = []

    def store(self, item: Pending, dispatch=None) -> Pending:
        new: list[int] = []
        with self._waiting_lock:
            self._waiting.append(item)
        with self._writer:
            if not item.done:                # nobody wrote it while we waited: lead a batch
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                self._write_batch(batch)
                new = [i.stored_id for i in batch if i.failure is None and not i.duplicate
                       and i.stored_state == "received"]
        if dispatch is not None and new:
            dispatch(new)                    # one hand-over for the batch, after its commit
        if item.failure is not None:
            raise item.failure
        return item

    @staticmethod
    def _write_batch(batch: list[Pending]) -> None:
        try:
            database.connect(reuse_if_open=True)
            try:
                with _writers_queue(), database.atomic():
                    for item in batch:
                        _write(item)
            except IntegrityError:
                # PostgreSQL: another process stored the same Idempotency-Key a moment ago. Each row
                # alone, then: the duplicate finds the other's row, the rest are stored.
                for item in batch:
                    with database.atomic():
                        try:
                            with database.atomic():
                                _write(item)
                        except IntegrityError:
                            _write(item)
        except Exception as exc:  # noqa: BLE001 (each waiting post answers for itself)
            for item in batch:
                item.failure = exc
        finally:
            for item in batch:
                item.done = True


_group = GroupCommit()


def write(item: Pending) -> Pending:
    """Insert one pending row (or find the one its `earlier` query names) in the caller's open
    transaction, without the group commit: for a writer that commits its rows together with something
    else (a mailbox poll and its cursor). Call it inside `writers_queue()` then `database.atomic()`."""
    _write(item)
    item.done = True
    return item


writers_queue = _writers_queue


def store(item: Pending, dispatch=None) -> Pending:
    """Store one post (or find the one it repeats), committed before this returns; `dispatch(ids)`
    receives the ids of the new requests of the batch, once, after the commit."""
    return _group.store(item, dispatch)
