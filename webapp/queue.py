"""The task queue (Huey): its instance, the app context its jobs run in, and the one job the web side
hands work to (processing stored inbound requests). It lives in the app so that the web never imports
`tasks/`: `tasks/` imports this module and adds the periodic jobs, the consumer loads `tasks.huey`.

Huey deletes a task before running it (NOTES.md): tasks carry only ids, and what must not be lost is
kept in our own tables, not in the queue.
"""
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from huey import RedisHuey, SqliteHuey
from peewee import SqliteDatabase

from .config import queue_url
from .files import private_file
from .models import database

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def make_huey(url: str | None = None):
    """The queue for this URL (redis:// or sqlite:///), by default the configured one (config.queue_url)."""
    url = url or queue_url(INSTANCE)
    parsed = urlparse(url)
    if parsed.scheme in ("redis", "rediss"):
        return RedisHuey("relance", url=url)
    if parsed.scheme == "sqlite":
        path = private_file(unquote(parsed.path[1:]))
        # fsync off: the queue may lose a task at a power cut, and that costs nothing, because the
        # truth is in our database and the re-scan re-enqueues it (NOTES.md). A crash loses nothing (WAL).
        return SqliteHuey("relance", filename=str(path), fsync=False)
    raise ValueError(f"unsupported RELANCE_HUEY_URL scheme: {parsed.scheme!r}")


huey = make_huey()
_app = None


@contextmanager
def app_context():
    """One Flask app per worker process, so jobs run the same services, config and database as the web."""
    global _app
    if _app is None:
        from . import create_app  # the package's factory: this module is imported while it loads
        _app = create_app()
    with _app.app_context():
        if isinstance(database.obj, SqliteDatabase):
            # Each worker thread keeps its SQLite connection, as the web threads do (webapp/db.py).
            database.connect(reuse_if_open=True)
            yield _app
        else:
            with database.connection_context():
                yield _app


@huey.task()
def process_requests(request_ids: list[int]) -> list[str | None]:
    """Process stored requests, each in its own transaction (a web process hands over a whole
    group-committed batch at once)."""
    from .services.intake import process

    with app_context():
        return [process(request_id) for request_id in request_ids]


@huey.task()
def poll_mailbox(source_id: int) -> int:
    """Poll one mailbox source now (the settings page's "check now"); returns how many new requests."""
    from .models import Source
    from .services.mailbox import poll_source

    with app_context():
        source = Source.get_or_none(Source.id == source_id)
        return len(poll_source(source).stored) if source is not None and source.type == "imap" else 0
