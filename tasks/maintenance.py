"""Housekeeping jobs. The follow-up sweep and the reminders come with the procedure (issue 4)."""
from datetime import timedelta

from huey import crontab

from webapp.db import refresh_statistics
from webapp.models import AuditEvent
from webapp.queue import app_context
from webapp.services.cohort import record_snapshot
from webapp.services.defaults import setting
from webapp.services.intake import purge_raw
from webapp.services.submissions import purge
from webapp.timeutil import utcnow

from . import huey


@huey.periodic_task(crontab(minute="17", hour="3"))
def purge_old_audit_addresses():
    """Keep the audit trail but drop client addresses older than a year (data minimisation)."""
    with app_context():
        cutoff = utcnow() - timedelta(days=365)
        return AuditEvent.update(address="").where((AuditEvent.at < cutoff) & (AuditEvent.address != "")).execute()


@huey.periodic_task(crontab(minute="5", hour="2"))
def conversion_cohort():
    """Seed 001: one month after prospects entered, count those who became patients."""
    with app_context():
        return len(record_snapshot(utcnow()))


@huey.periodic_task(crontab(minute="29", hour="3"))
def purge_old_raw_requests():
    """SECURITY.md: raw inbound requests have a retention period (setting `intake_retention_days`)."""
    with app_context():
        return purge_raw(utcnow(), int(setting("intake_retention_days")))


@huey.periodic_task(crontab(minute="41", hour="3"))
def purge_old_submission_keys():
    """A form is resent within seconds or minutes; its key is not needed after two days."""
    with app_context():
        return purge(utcnow() - timedelta(days=2))


@huey.periodic_task(crontab(minute="53", hour="3"))
def query_statistics():
    """The query planner's statistics, after the night's purges (webapp/db.refresh_statistics)."""
    with app_context():
        return refresh_statistics()
