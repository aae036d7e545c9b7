"""The sweep run by a real Huey consumer process, as the Procfile's worker runs it (NOTES.md: Huey)."""
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import make_app
from webapp.models import FollowUp, Prospect, database
from webapp.services.prospects import ContactInput, add_interaction, record_contact

pytestmark = pytest.mark.slow  # real servers and processes: not in the fast loop

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 2, 9, 0)


def _prepare(database_url: str):
    """A hot prospect answered once, then silent: dormant and due for a call three weeks later."""
    app = make_app(database_url)
    with app.app_context(), database.connection_context():
        prospect = record_contact(ContactInput(first_name="Awa", last_name="Ndiaye", phone="77 200 00 01",
                                               temperature="hot", occurred_at=T0), None, now=T0).prospect
        add_interaction(prospect, channel="phone", direction="out", occurred_at=T0 + timedelta(hours=1),
                        now=T0 + timedelta(hours=1))
        return app, prospect.id


def _wait_for(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    return check()


def test_a_real_consumer_runs_the_sweep_as_of_a_date(tmp_path, monkeypatch):
    database_url = f"sqlite:///{tmp_path / 'relance.db'}"
    huey_url = f"sqlite:///{tmp_path / 'huey.db'}"
    app, prospect_id = _prepare(database_url)
    env = {**os.environ, "RELANCE_DATABASE_URL": database_url, "RELANCE_HUEY_URL": huey_url,
           "RELANCE_SECRET_KEY": "test-secret", "PYTHONPATH": str(ROOT)}
    # -n: no periodic tasks, so that only the enqueued sweep touches the database.
    consumer = subprocess.Popen([str(Path(sys.executable).parent / "huey_consumer"), "tasks.huey",
                                 "-w", "1", "-k", "thread", "-n"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # The task as the app enqueues it, into the queue this consumer reads: tasks.huey was bound
        # to the session's RELANCE_HUEY_URL at import, so its storage is pointed at this test's file.
        import tasks
        from tasks.sweep import sweep_as_of

        monkeypatch.setattr(tasks.huey, "storage", tasks.make_huey(huey_url).storage)
        queue = tasks.huey
        task = sweep_as_of.s((T0 + timedelta(days=21)).isoformat())
        queue.enqueue(task)

        with app.app_context(), database.connection_context():
            followup = _wait_for(lambda: FollowUp.get_or_none(FollowUp.prospect == prospect_id))
            assert followup is not None and followup.rule == "hot_no_interaction_48h"
            assert Prospect.get_by_id(prospect_id).activity_status == "dormant"
        counts = queue.result(task.id, blocking=True, timeout=5)
        assert counts["activity_changes"] == {"lost": 0, "dormant": 1, "normal": 0}
        assert counts["followups_created"] == 1
    finally:
        consumer.send_signal(signal.SIGINT)       # a graceful stop (NOTES.md)
        try:
            output = consumer.communicate(timeout=10)[0].decode()
        except subprocess.TimeoutExpired:
            consumer.kill()
            output = consumer.communicate()[0].decode()
    assert consumer.returncode == 0, output
    assert "tasks.sweep.sweep_as_of" in output


def test_the_periodic_sweep_runs_every_quarter_hour():
    from tasks.sweep import sweep

    task = sweep.s()

    assert [minute for minute in range(60) if task.validate_datetime(datetime(2026, 11, 30, 10, minute))] \
        == [0, 15, 30, 45]
