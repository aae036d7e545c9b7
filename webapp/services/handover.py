"""Handing stored requests to the worker, a few at a time (bench intake).

Each enqueue is a write transaction on the queue's own database, which every web process shares. Done
once per post it was a large share of a post's CPU with two web processes (`scripts/bench intake`).
So a web process gathers the ids its posts stored and one background thread enqueues them: at once
when the thread is idle, and at most once per `interval` while posts keep coming, in tasks of at most
`batch` ids so that the worker's threads still share a burst.

Losing ids here is allowed (a killed process, the queue down): they are committed in our table as
`received` before anyone hears 2xx, and the worker's re-scan finds them.
"""
import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from ..queue import process_requests

log = logging.getLogger(__name__)


class Handover:
    def __init__(self, send: Callable[[list[int]], object], interval: float = 0.05, batch: int = 50):
        self._send, self._interval, self._batch = send, interval, batch
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: list[int] = []
        self._pid: int | None = None

    def add(self, ids: list[int]) -> None:
        """Queue ids for the worker; returns at once."""
        with self._lock:
            self._pending.extend(ids)
            if self._pid != os.getpid():   # first use in this process (or in a forked child)
                self._pid = os.getpid()
                self._wake = threading.Event()
                threading.Thread(target=self._run, name="intake-handover", daemon=True).start()
                atexit.register(self.flush)
        self._wake.set()

    def flush(self) -> int:
        """Send what is pending now, in this thread; returns how many ids were sent."""
        with self._lock:
            pending, self._pending = self._pending, []
        for start in range(0, len(pending), self._batch):
            chunk = pending[start:start + self._batch]
            try:
                self._send(chunk)
            except Exception:  # the queue down: the re-scan will find these
                log.exception("intake: could not hand requests %s to the worker", chunk)
        return len(pending)

    def _run(self) -> None:
        wake = self._wake
        while True:
            wake.wait()
            wake.clear()
            self.flush()
            time.sleep(self._interval)


# The web process's hand-over of the requests its intake posts stored (`services.intake.accept`'s
# `dispatch`) to the worker's task.
requests_handover = Handover(process_requests)
