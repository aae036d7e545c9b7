"""The intake's hot path: find a source, and store a post durably with its duplicate check.

Two measured choices (bench/intake.py, README "Benchmarks"):

- **Plain SQL.** Peewee builds each statement anew, which cost about 1 ms of the 3 ms a post took; these
  four statements are written once here, in the portable subset SQLite and PostgreSQL share, with
  values converted by the models' own fields so rows read back exactly as if Peewee had written them.
- **Group commit.** A post is acknowledged only after its row is committed with `synchronous=FULL`,
  and that fsync is most of the cost of a post. Threads of one web process that post at the same time
  share it: the first to arrive leads, writes every waiting row in one transaction and commits once;
  the others find their row written when they get the lock. One thread alone commits alone, so a
  sync worker behaves exactly as before. Every row is still committed before its answer leaves.
"""
import fcntl
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from peewee import IntegrityError, SqliteDatabase

from ..models import InboundRequest, Source, database

_SOURCE = "SELECT id, slug, type, name, config, secret FROM source WHERE slug = ? AND active = ?"
_BY_KEY = "SELECT id, state FROM inbound_request WHERE source_id = ? AND idempotency_key = ?"
# By the fingerprint alone (it names the source): the planner then always takes its index.
_BY_FINGERPRINT = "SELECT id, state, received_at FROM inbound_request WHERE fingerprint = ? ORDER BY id"
_INSERT = ("INSERT INTO inbound_request (source_id, received_at, remote_addr, headers, content_type, body,"
           " idempotency_key, fingerprint, state, triage, error, attempts)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id")


def _run(sql: str, params: tuple) -> list[tuple]:
    if database.param != "?":
        sql = sql.replace("?", database.param)
    return list(database.execute_sql(sql, params).fetchall())


def find_source(slug: str) -> Source | None:
    """The active source with this slug, as a model instance, in one plain query."""
    rows = _run(_SOURCE, (slug, Source.active.db_value(True)))
    if not rows:
        return None
    id_, slug, type_, name, config, secret = rows[0]
    return Source(id=id_, slug=slug, type=type_, name=name, config=Source.config.python_value(config),
                  secret=secret, active=True)


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
    check_fingerprint_since: datetime | None   # None: a repeat of the content is stored anew
    # filled by the leader that writes it
    stored_id: int | None = None
    stored_state: str | None = None
    duplicate: bool = False
    failure: BaseException | None = None
    done: bool = field(default=False, repr=False)


def _earlier(item: Pending) -> tuple | None:
    if item.idempotency_key:
        rows = _run(_BY_KEY, (item.source_id, item.idempotency_key))
    elif item.check_fingerprint_since is not None:
        since = item.check_fingerprint_since
        rows = [(id_, state) for id_, state, received_at in _run(_BY_FINGERPRINT, (item.fingerprint,))
                if state in ("received", "processed")
                and InboundRequest.received_at.python_value(received_at) >= since]
    else:
        return None
    return rows[0] if rows else None


def _write(item: Pending) -> None:
    item.duplicate = False
    earlier = _earlier(item)
    if earlier is not None:
        item.stored_id, item.stored_state, item.duplicate = earlier[0], earlier[1], True
        return
    [(item.stored_id,)] = _run(_INSERT, (
        item.source_id, InboundRequest.received_at.db_value(item.received_at), item.remote_addr,
        InboundRequest.headers.db_value(item.headers), item.content_type, item.body,
        item.idempotency_key, item.fingerprint, item.state, InboundRequest.triage.db_value(False),
        item.error))
    item.stored_state = item.state


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


def store(item: Pending, dispatch=None) -> Pending:
    """Store one post (or find the one it repeats), committed before this returns; `dispatch(ids)`
    receives the ids of the new requests of the batch, once, after the commit."""
    return _group.store(item, dispatch)
