"""Processing inbound requests (DESIGN "Tasks"): one task per stored request, and a re-scan.

A task carries only the request's id; the request's state is in our table. The re-scan re-enqueues
requests left `received` past their lease (a killed worker, a task Huey lost), every minute and when
a consumer starts.
"""
from huey import crontab

from . import huey
from .app import app_context


@huey.task()
def process_request(request_id: int) -> str | None:
    from webapp.services.intake import process

    with app_context():
        return process(request_id)


@huey.periodic_task(crontab(minute="*"))
def rescan_requests() -> int:
    """Enqueue again what a lost task left behind; returns how many."""
    from webapp.services.intake import due_for_rescan
    from webapp.timeutil import utcnow

    with app_context():
        ids = due_for_rescan(utcnow())
    for request_id in ids:
        process_request(request_id)
    return len(ids)


@huey.on_startup()
def _rescan_at_start():
    rescan_requests.call_local()
