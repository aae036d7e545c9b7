"""Polling the mailbox sources (issue 16): every minute, each active imap source whose own interval has
passed (its `interval_minutes`) is read once (webapp/services/mailbox.py). With several workers, each
runs this; a source's poll is claimed by one of them (`claim_due`).

What a poll stores is committed before it is handed to `process_requests`; a hand-over lost (a killed
worker) is found by the intake's re-scan (tasks/intake.py).
"""
from huey import crontab

from webapp.queue import app_context

from . import huey


@huey.periodic_task(crontab(minute="*"))
def poll_mailboxes() -> int:
    """Poll the mailboxes that are due; returns how many new requests they gave."""
    from webapp.services.mailbox import poll_due

    with app_context():
        return sum(len(result.stored) for result in poll_due())
