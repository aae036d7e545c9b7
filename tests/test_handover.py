"""Handing stored requests to the worker (webapp/services/handover.py) and the intake's kept sources."""
import threading
import time

from webapp.services.handover import Handover
from webapp.services.intake_store import find_source, forget_sources
from webapp.services.sources import create_source, update_source


def _wait_for(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)
    return check()


def test_posts_arriving_together_reach_the_worker_once_each_in_a_few_bounded_batches():
    sent: list[list[int]] = []
    handover = Handover(sent.append, interval=0.05, batch=20)

    def post(start):
        for n in range(start, start + 100):
            handover.add([n])
            time.sleep(0.0005)

    threads = [threading.Thread(target=post, args=(start,)) for start in (0, 100, 200, 300)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert _wait_for(lambda: sum(len(ids) for ids in sent) == 400)
    assert sorted(n for ids in sent for n in ids) == list(range(400))      # each id once
    assert len(sent) < 100 and max(len(ids) for ids in sent) <= 20


def test_a_lone_post_is_handed_over_at_once():
    sent: list[list[int]] = []
    handover = Handover(sent.append, interval=10)
    handover.add([7])
    assert _wait_for(lambda: sent == [[7]], timeout=1)


def test_a_queue_that_is_down_costs_the_hand_over_only(caplog):
    calls: list[list[int]] = []

    def down(ids):
        calls.append(ids)
        raise ConnectionError("queue down")

    handover = Handover(down, interval=0.01)
    handover.add([1, 2])
    assert _wait_for(lambda: calls == [[1, 2]])
    handover.add([3])                                   # the thread lives on; the re-scan finds 1 and 2
    assert _wait_for(lambda: calls == [[1, 2], [3]])
    assert "could not hand requests [1, 2] to the worker" in caplog.text


def test_a_source_is_read_once_then_kept_until_it_changes_here(ctx):
    source = create_source("site", "webform", "Site")
    first = find_source("site")
    assert first.id == source.id and find_source("site") is first    # kept: no second read

    update_source(source, active=False)                                # a change here applies at once
    assert find_source("site") is None

    update_source(source, active=True)
    kept = find_source("site")
    assert kept.id == source.id
    forget_sources()
    again = find_source("site")
    assert again is not kept and again.id == source.id                 # read again after forgetting
