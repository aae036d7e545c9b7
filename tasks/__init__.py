"""The jobs, one module each, on the app's Huey instance (webapp/queue.py: SQLite-backed by default,
Redis when RELANCE_HUEY_URL says redis://). The consumer runs `huey_consumer tasks.huey`.

Huey deletes a task before running it (NOTES.md): tasks carry only ids, and what must not be lost is
kept in our own tables, not in the queue.
"""
from webapp.queue import huey, make_huey  # noqa: F401  (the instance the consumer loads: tasks.huey)

from . import maintenance  # noqa: E402,F401  (registers the tasks with the consumer)
from . import sweep  # noqa: E402,F401
from . import reminders  # noqa: E402,F401
from . import intake  # noqa: E402,F401
from . import mailbox  # noqa: E402,F401
from . import patients  # noqa: E402,F401
