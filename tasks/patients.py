"""Patient sources (issue 17): the FHIR pull sources every 30 minutes, and the retention sweep of
patients no sync has seen for a long time and no prospect is linked to.

A pull keeps its cursor in our database, page by page (integrations/fhir.py): a run the queue loses,
or one a failure stops, is taken up by the next from where the last applied page left it.
"""
from huey import crontab

from webapp.queue import app_context

from . import huey


@huey.periodic_task(crontab(minute="*/30"))
def pull_patient_sources() -> list[dict]:
    """Pull every active FHIR source once; returns their summaries."""
    from webapp.services.patient_sync import pull_all

    with app_context():
        return [summary.as_dict() for summary in pull_all()]


@huey.periodic_task(crontab(minute="53", hour="3"))
def purge_stale_patients() -> int:
    """Issue 17 §5: patients unseen by any sync for `patient_retention_months` and linked to nothing."""
    from webapp.services.defaults import setting
    from webapp.services.patient_sync import purge_stale
    from webapp.timeutil import utcnow

    with app_context():
        return purge_stale(utcnow(), int(setting("patient_retention_months")))
