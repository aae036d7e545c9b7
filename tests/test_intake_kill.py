"""Issue 7's kill test: a burst of web-form posts while the web server and the worker are SIGKILLed and
restarted. Every post answered 2xx is stored and becomes exactly one prospect with one interaction;
nothing is left waiting or failed (NOTES.md: Huey loses the running task; our table does not).

gunicorn (2 sync workers) and a real `huey_consumer` on a temp SQLite database, an auto-mode source
without rate limit, a 2-second lease. The clients retry a refused or cut connection with the same
Idempotency-Key, as a browser or a webhook sender would.
"""
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bench.intake_stack import IntakeStack, post, senegal_mobile, wait_for

pytestmark = pytest.mark.slow  # real servers and processes: not in the fast loop

POSTS = 2000
CLIENTS = 4
ROOT = Path(__file__).resolve().parent.parent


def _submission(n: int) -> tuple[bytes, str]:
    """Person n's post: form-encoded for even n (a browser), JSON for odd n (a webhook)."""
    typed, _ = senegal_mobile(n)
    fields = {"name": f"Awa Ndiaye{n}", "phone": typed, "request": "rdv", "message": f"Rendez-vous {n}"}
    if n % 2:
        return json.dumps(fields).encode(), "application/json"
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


class Burst:
    """Client threads posting each submission until it is answered 2xx (or the deadline passes)."""

    def __init__(self, server, deadline: float):
        self.server, self.deadline = server, deadline
        self.answers: dict[int, list[dict]] = {}      # n -> every 2xx JSON answer
        self.statuses: Counter = Counter()            # every status seen, "conn" for a failed connection
        self.answered = 0
        self.lock = threading.Lock()

    def send(self, numbers):
        for n in numbers:
            body, content_type = _submission(n)
            headers = {"Idempotency-Key": f"kill-{n}", "Accept": "application/json"}
            while time.monotonic() < self.deadline:
                try:
                    status, _, data = post(self.server.url + "/intake/kill", body, content_type, headers, timeout=10)
                except (OSError, http.client.HTTPException):
                    # refused, reset, or cut mid-answer (a killed server): the sender does not know
                    status, data = "conn", b""
                with self.lock:
                    self.statuses[status] += 1
                if status == 202:
                    with self.lock:
                        self.answers.setdefault(n, []).append(json.loads(data))
                        self.answered += 1
                    break
                time.sleep(0.05)   # refused, cut, 5xx: try again with the same key

    def run(self, killer):
        threads = [threading.Thread(target=self.send, args=(range(i, POSTS, CLIENTS),), daemon=True)
                   for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        killer()
        for thread in threads:
            thread.join(max(1, self.deadline - time.monotonic()))


@pytest.fixture
def stack():
    stack = IntakeStack(lease_seconds=2).prepare()
    stack.add_source("kill", mode="auto")
    yield stack
    stack.cleanup()


def test_nothing_lost_when_web_and_worker_are_killed_during_a_burst(stack):
    started = time.monotonic()
    server = stack.gunicorn(workers=2).start()
    consumer = stack.consumer(workers=1).start()
    kills = Counter()
    burst = Burst(server, deadline=started + 100)

    def when_answered(share):
        wait_for(lambda: burst.answered >= POSTS * share, timeout=burst.deadline - time.monotonic(),
                 interval=0.01)

    def killer():
        when_answered(0.2)
        server.kill()                 # SIGKILL to master and workers, mid-request
        kills["web"] += 1
        server.start()                # a new port: the clients pick it up on their next try
        when_answered(0.4)
        consumer.kill()               # SIGKILL: its running tasks are lost
        kills["worker"] += 1
        consumer.start()              # re-scans at start-up
        when_answered(0.6)
        server.kill()
        kills["web"] += 1
        server.start()
        when_answered(0.8)
        consumer.kill()
        kills["worker"] += 1
        consumer.start()

    try:
        burst.run(killer)
        burst_seconds = time.monotonic() - started
        # What a lost task left behind waits for the re-scan: the restarted consumer's, or this one.
        wait_for(lambda: stack.sql("SELECT count(*) FROM inbound_request WHERE state = 'received'")[0][0] == 0,
                 timeout=30, interval=0.2)
        drained = time.monotonic() - started
        time.sleep(2.1)  # past the lease of anything claimed by a killed worker
        rescan = subprocess.run([str(Path(sys.executable).parent / "relance"), "intake-rescan"], cwd=ROOT,
                                env={**os.environ, **stack.env}, capture_output=True, text=True, timeout=60)
        assert rescan.returncode == 0, rescan.stdout + rescan.stderr
        settled = wait_for(lambda: stack.sql("SELECT count(*) FROM inbound_request "
                                             "WHERE state = 'received'")[0][0] == 0, timeout=10, interval=0.2)
    finally:
        consumer.stop()
        server.stop()
    print(f"\nkill test: {POSTS} posts answered in {burst_seconds:.1f} s, processed by {drained:.1f} s, kills {dict(kills)}, "
          f"answers {dict(burst.statuses)}, rescan: {rescan.stdout.strip()}")

    assert kills == {"web": 2, "worker": 2}
    assert settled, stack.sql("SELECT id, state, attempts, lease_until FROM inbound_request WHERE state = 'received'")
    # Every submission was answered 2xx, each key always with the same stored request.
    assert sorted(burst.answers) == list(range(POSTS))
    assert not [s for s in burst.statuses if isinstance(s, int) and s >= 500], burst.statuses
    rows = {key: (id_, state, prospect, error) for key, id_, state, prospect, error in stack.sql(
        "SELECT idempotency_key, id, state, prospect_id, error FROM inbound_request")}
    assert len(rows) == POSTS                               # one stored request per submission, no more
    for n, answers in burst.answers.items():
        stored = rows[f"kill-{n}"]
        assert {answer["id"] for answer in answers} == {stored[0]}
        assert stored[1] == "processed" and stored[2] is not None, (n, stored)
    # Processed exactly once: one prospect per person, one interaction each, no follow-up twice.
    phones = Counter(phone for (phone,) in stack.sql("SELECT phone FROM prospect"))
    assert set(phones) == {senegal_mobile(n)[1] for n in range(POSTS)}
    assert set(phones.values()) == {1}
    assert stack.sql("SELECT prospect_id, count(*) FROM interaction GROUP BY prospect_id HAVING count(*) > 1") == []
    assert stack.sql("SELECT count(*) FROM interaction WHERE channel = 'webform'") == [(POSTS,)]
    assert len({prospect for _, _, prospect, _ in rows.values()}) == POSTS
    assert stack.sql("SELECT prospect_id, rule, count(*) FROM follow_up WHERE rule IS NOT NULL "
                     "GROUP BY prospect_id, rule HAVING count(*) > 1") == []
    assert stack.sql("SELECT count(*) FROM inbound_request WHERE state IN ('failed', 'spam')") == [(0,)]
    assert time.monotonic() - started < 120
