"""Processing inbound requests (DESIGN "Tasks"): one task per stored request, and a re-scan.

A task carries only request ids; the request's state is in our table. The re-scan re-enqueues
requests left `received` past their lease (a killed worker, a task Huey lost), every minute and when
a consumer starts.
"""
from huey import crontab

from . import huey
from .app import app_context


@huey.task()
def process_requests(request_ids: list[int]) -> list[str | None]:
    """Process stored requests, each in its own transaction (a web process hands over a whole
    group-committed batch at once)."""
    from webapp.services.intake import process

    with app_context():
        return [process(request_id) for request_id in request_ids]


@huey.periodic_task(crontab(minute="*"))
def rescan_requests() -> int:
    """Enqueue again what a lost task left behind; returns how many."""
    from webapp.services.intake import due_for_rescan
    from webapp.timeutil import utcnow

    with app_context():
        ids = due_for_rescan(utcnow())
    for start in range(0, len(ids), 50):
        process_requests(ids[start:start + 50])
    return len(ids)


@huey.on_startup()
def _rescan_at_start():
    rescan_requests.call_local()
