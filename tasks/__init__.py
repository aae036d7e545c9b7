"""The Huey instance and its jobs: SQLite-backed by default, Redis when RELANCE_HUEY_URL says redis://.

Huey deletes a task before running it (NOTES.md): tasks carry only ids, and what must not be lost is
kept in our own tables, not in the queue.
"""
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from huey import RedisHuey, SqliteHuey

from webapp.files import private_file

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def make_huey(url: str | None = None):
    url = url or os.environ.get("RELANCE_HUEY_URL") or f"sqlite:///{INSTANCE / 'huey.db'}"
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

from . import maintenance  # noqa: E402,F401  (registers the tasks with the consumer)
from . import sweep  # noqa: E402,F401
from . import reminders  # noqa: E402,F401
from . import intake  # noqa: E402,F401
