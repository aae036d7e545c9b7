"""Processing inbound requests (DESIGN "Tasks"): the re-scan of what a lost task left behind (the task
itself, `webapp.queue.process_requests`, is the one the web hands work to).

A task carries only request ids; the request's state is in our table. The re-scan re-enqueues
requests left `received` past their lease (a killed worker, a task Huey lost), every minute and when
a consumer starts.
"""
from huey import crontab

from webapp.queue import app_context, process_requests
from webapp.services.intake import due_for_rescan
from webapp.timeutil import utcnow

from . import huey


@huey.periodic_task(crontab(minute="*"))
def rescan_requests() -> int:
    """Enqueue again what a lost task left behind; returns how many."""
    with app_context():
        ids = due_for_rescan(utcnow())
    for start in range(0, len(ids), 50):
        process_requests(ids[start:start + 50])
    return len(ids)


@huey.on_startup()
def _rescan_at_start():
    rescan_requests.call_local()
