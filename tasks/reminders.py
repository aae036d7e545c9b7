"""Reminder mails: each person's day at 07:30 and the lead's digest at 07:35 and 14:00, Monday to
Saturday (Huey's crontab runs in UTC, which is Dakar time; set the hours for another timezone)."""
from huey import crontab

from webapp.queue import app_context
from webapp.services.reminders import send_reminders
from webapp.timeutil import utcnow

from . import huey


@huey.periodic_task(crontab(minute="30", hour="7", day_of_week="1-6"))
def morning_reminders():
    with app_context():
        return send_reminders(utcnow(), "morning")


@huey.periodic_task(crontab(minute="35", hour="7,14", day_of_week="1-6"))
def lead_digest():
    with app_context():
        return send_reminders(utcnow(), "digest")
