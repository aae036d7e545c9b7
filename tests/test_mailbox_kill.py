"""Issue 16's kill test: the worker polling a mailbox is SIGKILLed between fetching and processing, and
restarted. Every mail becomes exactly one request, one prospect and one interaction; nothing is left
waiting, nothing is fetched twice into a second request (NOTES.md: Huey loses the running task; the
cursor and the stored rows are committed together, and the re-scan finds what was stored but not
processed).

A real dovecot, a real `huey_consumer` (2 thread workers) on a temp SQLite database, an auto-mode
mailbox source, a 2-second lease.
"""
import time
from collections import Counter

import pytest

from bench.intake_stack import wait_for
from bench.mail_poll import MailStack, french_mail
from webapp.queue import poll_mailbox

pytestmark = pytest.mark.slow

MAILS = 300


@pytest.fixture
def stack(dovecot):
    stack = MailStack(dovecot=dovecot, lease_seconds=2).prepare()
    yield stack
    stack.cleanup()


def count(stack, where: str = "1 = 1") -> int:
    return stack.sql(f"SELECT count(*) FROM inbound_request WHERE {where}")[0][0]


def test_a_worker_killed_between_fetch_and_processing_processes_each_mail_once(stack):
    user = "accueil-kill"
    source = stack.add_mailbox("kill", user, mode="auto")
    stack.dovecot.append_many(user, (french_mail(n, domain="kill.example.sn") for n in range(MAILS)))

    consumer = stack.consumer(workers=2).start()
    try:
        stack.enqueue(poll_mailbox, source.id)
        # the first batches are stored (with the cursor) and handed over; kill before they are all processed
        assert wait_for(lambda: count(stack) >= 100, timeout=60, interval=0.005), consumer.output()
        consumer.kill()
        at_kill = (count(stack), count(stack, "state = 'processed'"))
        print(f"\nat the kill: {at_kill[0]} stored, {at_kill[1]} processed of {MAILS}")
        assert at_kill[1] < MAILS

        time.sleep(2.2)                   # past the lease of what the killed worker held
        consumer.start()                  # re-scans at start-up
        stack.enqueue(poll_mailbox, source.id)   # the next poll reads on from the cursor
        settled = wait_for(lambda: count(stack, "state = 'processed'") == MAILS and count(stack) == MAILS,
                           timeout=120, interval=0.2)
        assert settled, (stack.sql("SELECT state, count(*) FROM inbound_request GROUP BY state"), consumer.output())
        time.sleep(1)                     # anything processed twice would show now
        stack.enqueue(poll_mailbox, source.id)   # and a third poll finds nothing new
        time.sleep(2)
    finally:
        consumer.stop()

    assert count(stack) == MAILS
    assert count(stack, "state = 'processed'") == MAILS
    message_ids = Counter(mid for (mid,) in stack.sql("SELECT message_id FROM inbound_request"))
    assert len(message_ids) == MAILS and set(message_ids.values()) == {1}
    emails = Counter(email for (email,) in stack.sql("SELECT email FROM prospect"))
    assert set(emails) == {f"patiente{n}@kill.example.sn" for n in range(MAILS)}
    assert set(emails.values()) == {1}
    assert stack.sql("SELECT count(*) FROM interaction WHERE channel = 'email'") == [(MAILS,)]
    assert stack.sql("SELECT prospect_id, count(*) FROM interaction GROUP BY prospect_id HAVING count(*) > 1") == []
    assert stack.sql("SELECT prospect_id, rule, count(*) FROM follow_up WHERE rule IS NOT NULL "
                     "GROUP BY prospect_id, rule HAVING count(*) > 1") == []
    [(cursor,)] = stack.sql("SELECT value FROM source_cursor WHERE key LIKE 'INBOX:%'")
    assert cursor == str(MAILS)
