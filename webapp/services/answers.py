"""Answering by mail from Relance (issue 16 §5): the templates, who is answered and on which thread, and
the refusals that come before anything is sent.

Sending itself (services/answer_sending.py) stops the response clock. Here: the manager's templates
(per qualification and temperature, seed 000), the draft a person starts from, and the rules that keep
a mail from leaving: automated mail is never answered, an address a bounce marked is not written to,
nobody who asked not to be contacted is, and one address gets at most `mail_daily_cap` mails a day.
"""
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from peewee import fn

from ..models import InboundRequest, Interaction, OutboundMail, Patient, Prospect, User, database
from ..rules.answers import (BODY_MAX, GENERAL, PLACEHOLDERS, SUBJECT_MAX, TEMPERATURES, TemplateError,
                             Threading, check_template, day_start, fill, over_daily_cap, reply_subject,
                             template_key, threading)
from ..rules.contact import is_email, normalise_email
from ..vocabulary import QUALIFICATIONS
from .answer_defaults import ANSWER_DETAILS, ANSWER_TEMPLATES
from .audit import record as audit
from .defaults import setting, store_setting
from .mail_reading import is_mail

TEMPLATE_KEYS = tuple(f"{q}:{t}" for q in (*QUALIFICATIONS, GENERAL) for t in TEMPERATURES)
DETAIL_KEYS = tuple(ANSWER_DETAILS)
DETAIL_MAX = 300


class AnswerError(Exception):
    """A mail that will not be sent; `code` says why (the view says it in French), nothing was sent."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- the templates (settings) ------------------------------------------------------------------------

def templates() -> dict[str, dict]:
    """Every template, the stored ones over the seeded defaults (a key never stored keeps its default)."""
    stored = setting("answer_templates") or {}
    return {key: {**ANSWER_TEMPLATES[key], **(stored.get(key) or {})} for key in TEMPLATE_KEYS}


def details() -> dict[str, str]:
    """What fills `{demander}`, `{etablissement}`, `{telephone}`, `{adresse}`, `{site}`, `{facebook}`."""
    return {**ANSWER_DETAILS, **(setting("answer_details") or {})}


def save_template(key: str, subject: str, body: str, user: User) -> None:
    """Save one template; TemplateError (unknown placeholder, lone brace, empty, too long) saves nothing."""
    if key not in TEMPLATE_KEYS:
        raise TemplateError("unknown_template")
    subject, body = " ".join((subject or "").split()), (body or "").replace("\r\n", "\n").strip()
    if not subject or not body:
        raise TemplateError("required")
    if len(subject) > SUBJECT_MAX or len(body) > BODY_MAX:
        raise TemplateError("too_long")
    check_template(subject)
    check_template(body)
    with database.atomic():
        stored = dict(setting("answer_templates") or {})
        stored[key] = {"subject": subject, "body": body}
        store_setting("answer_templates", stored)
        audit("settings.answer_template", detail=key, actor=user)


def save_details(values: dict, cap, user: User) -> None:
    """Save what fills the business placeholders and the daily cap."""
    cleaned = {key: " ".join(str(values.get(key) or "").split())[:DETAIL_MAX] for key in DETAIL_KEYS}
    try:
        cap = int(str(cap).strip())
    except ValueError:
        raise TemplateError("bad_cap") from None
    if not 0 <= cap <= 100:
        raise TemplateError("bad_cap")
    with database.atomic():
        store_setting("answer_details", cleaned)
        store_setting("mail_daily_cap", cap)
        audit("settings.answer_details", actor=user)


# --- who is answered, and on which thread ------------------------------------------------------------

@dataclass
class Target:
    """Whom an answer goes to: a prospect, a patient, or a request not triaged yet; and the mail it
    answers (`thread`), whose subject the answer's takes."""
    address: str | None
    first_name: str = ""
    last_name: str = ""
    qualification: str | None = None
    temperature: str = "warm"
    prospect: Prospect | None = None
    patient: Patient | None = None
    request: InboundRequest | None = None
    thread: Threading = field(default_factory=lambda: Threading(None, ()))
    parent_subject: str = ""
    automated: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def template(self) -> str:
        return template_key(self.qualification, self.temperature)


def _parsed(request: InboundRequest) -> dict:
    return request.parsed or {}


def _mail_request(message_id: str | None) -> InboundRequest | None:
    """The stored mail with this Message-ID (an inbound interaction's, a request's)."""
    if not message_id:
        return None
    return (InboundRequest.select().where(InboundRequest.message_id == message_id)
            .order_by(InboundRequest.id).first())


def _last_inbound_mail(prospect: Prospect | None, patient: Patient | None) -> InboundRequest | None:
    """The person's last mail that a person wrote (automated ones never become answerable)."""
    owner = Interaction.prospect == prospect.id if prospect is not None else Interaction.patient == patient.id
    query = (Interaction.select(Interaction.message_id)
             .where(owner & (Interaction.direction == "in") & Interaction.message_id.is_null(False))
             .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(20))
    for interaction in query:
        request = _mail_request(interaction.message_id)
        if request is not None and not _parsed(request).get("automated"):
            return request
        if request is None:
            return InboundRequest(message_id=interaction.message_id, parsed={})
    return None


def _threaded(target: Target, request: InboundRequest | None) -> Target:
    if request is not None and request.message_id:
        fields = _parsed(request)
        target.thread = threading(request.message_id, fields.get("thread") or ())
        target.parent_subject = fields.get("request") or ""
    return target


def for_prospect(prospect: Prospect) -> Target:
    """Answering a prospect from their page: on the thread of their last mail, if any."""
    target = Target(address=prospect.email, first_name=prospect.first_name, last_name=prospect.last_name,
                    qualification=prospect.qualification, temperature=prospect.temperature, prospect=prospect)
    return _threaded(target, _last_inbound_mail(prospect, None))


def for_patient(patient: Patient, request: InboundRequest | None = None) -> Target:
    target = Target(address=patient.email, first_name=patient.first_name, last_name=patient.last_name,
                    patient=patient)
    return _threaded(target, request or _last_inbound_mail(None, patient))


def for_request(request: InboundRequest) -> Target:
    """Answering a request: its sender, on its thread; the record it went to once triaged."""
    fields = _parsed(request)
    if request.prospect_id:
        target = for_prospect(request.prospect)
        target = _threaded(target, request)
    elif request.patient_id:
        target = for_patient(request.patient, request)
    else:
        target = Target(address=normalise_email(fields.get("email")), first_name=fields.get("first_name") or "",
                        last_name=fields.get("last_name") or "", qualification=fields.get("qualification"),
                        temperature="warm")
        target = _threaded(target, request)
    target.request = request
    target.automated = fields.get("automated") or None
    return target


def answerable_request(request: InboundRequest) -> bool:
    """A request staff may answer by mail: a person's mail (never an automated one) or a form that left
    an address, and not spam or failed."""
    fields = _parsed(request)
    if fields.get("automated") or request.state not in ("processed",) or request.emptied:
        return False
    return bool(normalise_email(fields.get("email")))


# --- the draft ----------------------------------------------------------------------------------------

def placeholder_values(target: Target, sender: User | None) -> dict[str, str]:
    values = {key: value for key, value in details().items() if key in PLACEHOLDERS}
    values.update(prenom=target.first_name, nom=target.last_name, interlocuteur=str(setting("contact_person")),
                  expediteur=sender.name if sender is not None else "")
    return values


@dataclass
class Draft:
    template: str
    subject: str
    body: str


def draft(target: Target, sender: User | None, key: str | None = None) -> Draft:
    """The answer a person starts from: the chosen template (by default the one for the person's
    qualification and temperature) filled; on a thread, the subject answers the mail's ("Re: …")."""
    key = key if key in TEMPLATE_KEYS else target.template
    chosen, values = templates()[key], placeholder_values(target, sender)
    try:
        subject, body = fill(chosen["subject"], values), fill(chosen["body"], values)
    except TemplateError:   # stored before the check existed: shown as written, for the person to fix
        subject, body = chosen["subject"], chosen["body"]
    if target.thread.in_reply_to and target.parent_subject:
        subject = reply_subject(target.parent_subject)
    return Draft(key, subject[:SUBJECT_MAX], body)


# --- what is refused before sending ------------------------------------------------------------------

def undeliverable(address: str | None) -> bool:
    """A bounce marked this address as failing, on any prospect or patient."""
    if not address:
        return False
    return (Prospect.select().where((fn.LOWER(Prospect.email) == address)
                                    & Prospect.email_undeliverable_at.is_null(False)).exists()
            or Patient.select().where((fn.LOWER(Patient.email) == address)
                                      & Patient.email_undeliverable_at.is_null(False)).exists())


def sent_today(address: str, now: datetime) -> int:
    """Mails to this address since the start of the business day (sent, or being sent now)."""
    start = day_start(now, current_app.config["TIMEZONE"])
    return (OutboundMail.select().where((OutboundMail.to_address == address) & (OutboundMail.created_at >= start))
            .count())


def refusal(target: Target, now: datetime) -> str | None:
    """Why this person cannot be written to now (an AnswerError code), or None."""
    address = normalise_email(target.address)
    if target.automated:
        return "automated"
    if not address or not is_email(address):
        return "no_address"
    if (target.prospect is not None and target.prospect.do_not_contact):
        return "do_not_contact"
    if (target.prospect is not None and target.prospect.email_undeliverable_at) or (
            target.patient is not None and target.patient.email_undeliverable_at) or undeliverable(address):
        return "undeliverable"
    if over_daily_cap(sent_today(address, now), int(setting("mail_daily_cap"))):
        return "daily_cap"
    return None


def request_is_mail(request: InboundRequest) -> bool:
    return is_mail(request.content_type)


def mail_of(interaction) -> dict | None:
    """A timeline entry's mail: the answer we sent (its subject and text), or the received mail to read
    on its own page. None for any other contact (no query)."""
    if interaction is None or interaction.channel != "email" or not interaction.message_id:
        return None
    if interaction.direction == "out":
        sent = OutboundMail.get_or_none(OutboundMail.interaction == interaction.id)
        return {"sent": sent} if sent is not None else None
    received = (InboundRequest.select(InboundRequest.id)
                .where(InboundRequest.message_id == interaction.message_id).order_by(InboundRequest.id).first())
    return {"request_id": received.id} if received is not None else None
