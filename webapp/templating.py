"""What every template may use, registered once at app creation: the domain's labels (vocabulary),
the filters that format values and the helpers the navigation and the record pages call."""
from datetime import date, datetime

from flask import Flask
from flask_babel import format_timedelta
from flask_login import current_user

from . import vocabulary
from .reasons import answer_target_text, reason_text
from .rules.phones import display_phone, normalise_phone
from .security import can
from .services import answers as answer_service
from .services import duplicates as duplicate_service
from .services import followups as followup_service
from .services import reconcile
from .services import request_queues
from .services.dedupe import conflict_key, kind_of
from .timeutil import local_input
from .views.board import remembered_url


def register(app: Flask) -> None:
    """Put the labels, filters and helpers in the app's Jinja environment."""
    region = app.config["PHONE_REGION"]
    app.jinja_env.filters.update({
        "phone": lambda value: display_phone(value, region),
        "e164": lambda value: normalise_phone(str(value or ""), region).e164,
        "iso_date": iso_date,
        "until": until,
        "local_input": lambda moment: local_input(moment, app.config["TIMEZONE"]),
        "reason": reason_text,    # a rule follow-up's reason, in the reader's language
    })
    app.jinja_env.globals.update({
        "labels": vocabulary.TEMPLATE_LABELS,
        "signed_up_label": vocabulary.signed_up,
        "answer_target_text": answer_target_text,
        "board_url": remembered_url,
        "requests_waiting": requests_waiting,
        "may_complete": lambda followup: followup_service.may_complete(current_user, followup),
        # A record's merge and shared-number notes and the new-contact form's question (duplicates).
        "duplicates_waiting": duplicate_service.pending_count, "shared_contacts": duplicate_service.shares_with,
        "merged_into": duplicate_service.merged_into, "merged_here": duplicate_service.merged_here,
        "conflict_key": conflict_key, "record_kind": kind_of,
        # The patient a prospect became, and the matches waiting for the lead (reconciliation).
        "matches_waiting": reconcile.pending_count, "prospect_conversion": reconcile.conversion_of,
        "prospect_reviews": reconcile.reviews_of,
        # Mail: the answer button (never for automated mail) and a timeline entry's mail.
        "mail_answerable": mail_answerable, "mail_of": answer_service.mail_of,
    })


def mail_answerable(item) -> bool:
    """The answer button on a request: shown only where the answer may be sent."""
    return can("mail.answer") and can("requests.triage") and answer_service.answerable_request(item)


def until(moment: datetime, now: datetime) -> str:
    """"in 5 hours" / "2 days ago", in the person's language."""
    return format_timedelta(moment - now, granularity="minute", add_direction=True)


def iso_date(value) -> date | None:
    """A parsed field's ISO date (text in JSON) as a date, for the `date` filter."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def requests_waiting() -> int | None:
    """The nav's waiting count, read only for those who may see it (one GROUP BY per page)."""
    return request_queues.waiting_counts()["triage"] if can("requests.triage") else None
