"""The periodic sweep (DESIGN "Tasks"): activity statuses and rule follow-ups, every 15 minutes.

The sweep computes from timestamps as of the moment it runs, so a run lost by the queue (NOTES.md:
Huey deletes a task before running it) costs nothing: the next one does the same work, and a second
run over the same state changes nothing.
"""
from datetime import datetime

from huey import crontab

from webapp.queue import app_context
from webapp.services.sweep import run_sweep
from webapp.timeutil import utcnow

from . import huey


@huey.periodic_task(crontab(minute="*/15"))
def sweep():
    """Sweep as of now."""
    with app_context():
        return run_sweep(utcnow()).as_dict()


@huey.task()
def sweep_as_of(iso: str) -> dict:
    """Sweep as of an ISO 8601 instant (naive means UTC); returns the counts."""
    with app_context():
        return run_sweep(datetime.fromisoformat(iso)).as_dict()
