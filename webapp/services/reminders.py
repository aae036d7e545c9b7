"""Reminder mails (seed 000/001 procedure, issue 4): each person's morning, and the lead's digest of
requests close to their first-answer deadline. Both are built from the same `my_day` the page shows."""
import logging
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from .. import mail
from ..config import business_timezone
from ..models import User
from ..security import can
from .followups import awaiting_answer, my_day
from .users import active_staff

log = logging.getLogger(__name__)
DIGEST_HORIZON = timedelta(hours=24)   # a request whose target falls within a day is "close"


def _settings():
    return mail.smtp_settings(current_app.config.get("SMTP_URL"), current_app.config.get("MAIL_FROM"))


def _message(settings, user: User, subject, template: str, **context):
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        context.update(user=user, base_url=current_app.config.get("BASE_URL", "").rstrip("/"))
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)   # autoescaped: a .html template
        subject = str(subject)   # a lazy string, translated in the person's language
    return mail.build_message(sender=settings.sender, to=user.email, to_name=user.name, subject=subject,
                              text=text, html=html)


def morning_messages(now: datetime, settings) -> list:
    """One message per active staff member who has something due, late or without a next action."""
    messages = []
    for user in active_staff():
        day = my_day(user, now)
        counts = day.counts()
        if not any(counts.values()):
            continue
        messages.append(_message(settings, user, _l("Your day in Relance"), "morning", day=day, counts=counts,
                                 now=now))
    return messages


def digest_messages(now: datetime, settings) -> list:
    """For each follow-up lead: requests past their answer target (two working days) or within a day of it."""
    close = [r for r in awaiting_answer(now, business_timezone())
             if r.state != "on_time" or r.target_at - now <= DIGEST_HORIZON]
    if not close:
        return []
    leads = [u for u in active_staff() if can("requests.first_answers", u)]
    return [_message(settings, lead, _l("Requests close to their answer deadline"), "digest", requests=close,
                     now=now) for lead in leads]


def send_reminders(now: datetime, kind: str = "morning") -> int:
    """Build and send; returns how many were sent (0 when SMTP is not configured)."""
    settings = _settings()
    if settings is None:
        log.warning("reminders: RELANCE_SMTP_URL is not set; nothing sent")
        return 0
    build = morning_messages if kind == "morning" else digest_messages
    return mail.send(build(now, settings), settings)
