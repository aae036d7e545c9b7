"""Sending an answer by mail, and the response clock it stops (issue 16 §5, seed 000).

Three steps, the SMTP conversation outside any transaction (NOTES.md: no network I/O inside one):
1. claim: the form's one-time key and an `OutboundMail` row `sending`, committed together, after the
   refusals (automated mail, undeliverable address, do not contact, the daily cap: counted in the same
   transaction, so two tabs cannot both pass it). A key already claimed sends nothing again.
2. send, over SMTP (webapp/mail.py), with our own Message-ID and In-Reply-To/References.
3. record, once the server accepted it: the mail `sent`, an outbound email interaction carrying its
   Message-ID (a reply threads back onto the record), and the first-answer or later-question follow-up
   done by it, in one transaction. If SMTP refused or could not be reached, the claim is undone:
   nothing says "sent", and the same form may be sent again. If the process stops between 1 and 3 (killed
   in the middle of the SMTP conversation), the mail stays `sending`: nobody knows whether it left. The
   record's history shows it as not confirmed once rules.answers.SEND_SETTLED_WITHIN has passed, and the
   same form sent again says so rather than "already sent".
A request still in triage becomes a prospect first (services.intake.create_from), as the lead would:
it owes an answer whether or not this one leaves.
"""
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from peewee import IntegrityError

from .. import mail
from ..models import (ActionCode, FollowUp, InboundRequest, Interaction, OutboundMail, Submission, User,
                      database)
from ..rules.answers import SUBJECT_MAX, text_to_html
from ..rules.contact import normalise_email
from ..timeutil import utcnow
from . import answers
from .answers import AnswerError, Target
from .audit import record as audit
from .next_action import refresh_next_action
from .prospects import add_interaction

log = logging.getLogger(__name__)
ANSWER_RULES = ("first_answer", "answer_question")   # seed 000: the follow-ups an answer is
ACTION_CODE = "MAIL"   # seed 003's lexicon: a mail spends one action of the budget
KEY_MAX = 64


@dataclass
class Sent:
    """What became of a send: the mail (None when the same form had already sent it) and the record."""
    outbound: OutboundMail | None
    target: Target
    resent: bool = False


def smtp_settings():
    return mail.smtp_settings(current_app.config.get("SMTP_URL"), current_app.config.get("MAIL_FROM"))


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def answer_request(request_id: int, *, subject: str, body: str, template: str, key: str | None, user: User,
                   now: datetime | None = None) -> Sent:
    """Answer a request from the triage queue: refused for automated mail; the request becomes a
    prospect (or lands on its record) first, then the answer goes to that record."""
    from . import intake
    now = now or utcnow()
    request = InboundRequest.get_by_id(request_id)
    target = answers.for_request(request)
    if not answers.answerable_request(request):
        raise AnswerError("automated" if target.automated else "not_answerable")
    _refuse(target, now, claimed=_claimed(key))
    if request.triage:
        try:
            intake.create_from(request.id, user, now=now)
        except intake.TriageError as refusal:
            if refusal.code != "already_handled":
                raise AnswerError(refusal.code) from refusal
        request = InboundRequest.get_by_id(request_id)
        target = answers.for_request(request)
    return send_answer(target, subject=subject, body=body, template=template, key=key, user=user, now=now)


def answer_prospect(prospect, *, subject: str, body: str, template: str, key: str | None, user: User,
                    now: datetime | None = None) -> Sent:
    return send_answer(answers.for_prospect(prospect), subject=subject, body=body, template=template, key=key,
                       user=user, now=now)


def _claimed(key: str | None) -> bool:
    key = (key or "").strip()
    return bool(key) and Submission.select().where(Submission.key == key).exists()


def _refuse(target: Target, now: datetime, *, claimed: bool = False) -> None:
    if claimed:   # the same form again: answered by send_answer as "already sent", never refused
        return
    code = answers.refusal(target, now)
    if code is not None:
        raise AnswerError(code)


def send_answer(target: Target, *, subject: str, body: str, template: str, key: str | None, user: User,
                now: datetime | None = None) -> Sent:
    """Claim, send, record (see the module docstring). AnswerError when refused or when SMTP failed."""
    now = now or utcnow()
    settings = smtp_settings()
    if settings is None:
        raise AnswerError("mail_off")
    subject, body = _one_line(subject)[:SUBJECT_MAX], (body or "").replace("\r\n", "\n").strip()
    if not subject or not body:
        raise AnswerError("empty")
    outbound = _claim(target, subject, body, template, key, user, now, settings)
    if outbound is None:
        return Sent(None, target, resent=True)
    try:
        message = mail.build_message(
            sender=settings.sender, sender_name=_one_line(answers.details().get("etablissement", "")),
            to=outbound.to_address, to_name=outbound.to_name, subject=subject, text=body, html=text_to_html(body),
            message_id=outbound.message_id, in_reply_to=target.thread.in_reply_to,
            references=target.thread.references)
        mail.send([message], settings)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        _release(outbound, key)
        log.warning("answer %s to record not sent: %s", outbound.message_id, type(error).__name__)
        audit("mail.failed", *_record_ref(target), detail=type(error).__name__, actor=user)
        raise AnswerError("smtp_failed") from error
    _record(outbound, target, user, now)
    _plan_next(target, now)
    return Sent(OutboundMail.get_by_id(outbound.id), target)


def _claim(target, subject, body, template, key, user, now, settings) -> OutboundMail | None:
    """Step 1: the key and the `sending` row, committed; None when the key was already used."""
    key = (key or "").strip()[:KEY_MAX]
    with database.atomic():
        if key:
            try:
                with database.atomic():
                    Submission.create(key=key, user=user, created_at=now)
            except IntegrityError:
                return None
        code = answers.refusal(target, now)   # again, inside the transaction that counts the cap
        if code is not None:
            raise AnswerError(code)
        outbound = OutboundMail.create(
            prospect=target.prospect, patient=target.patient, request=target.request, user=user,
            to_address=normalise_email(target.address), to_name=_one_line(target.name)[:200],
            subject=subject, text=body, template=template if template in answers.TEMPLATE_KEYS else "",
            message_id=mail.new_message_id(settings.sender), in_reply_to=target.thread.in_reply_to,
            references=" ".join(target.thread.references), state="sending", created_at=now)
        if key:    # the form's second try finds this mail, sent or not (views/answers._after_send)
            Submission.update(result=f"mail:{outbound.id}").where(Submission.key == key).execute()
        return outbound


def _release(outbound: OutboundMail, key: str | None) -> None:
    """SMTP failed: no trace of a sent mail, and the form's key free for another try."""
    with database.atomic():
        OutboundMail.delete().where(OutboundMail.id == outbound.id).execute()
        if (key or "").strip():
            Submission.delete().where(Submission.key == key.strip()[:KEY_MAX]).execute()


def _record(outbound: OutboundMail, target: Target, user: User, now: datetime) -> None:
    """Step 3: the mail sent, its outbound interaction, and the answer follow-ups it does."""
    code = ActionCode.get_or_none((ActionCode.code == ACTION_CODE) & ActionCode.active)
    with database.atomic():
        if target.prospect is not None:
            interaction = add_interaction(target.prospect, channel="email", direction="out",
                                          note=outbound.subject, user=user, action_code=code, occurred_at=now,
                                          now=now)
        else:
            interaction = Interaction.create(patient=target.patient, channel="email", direction="out",
                                             note=outbound.subject, user=user, action_code=code,
                                             occurred_at=now, created_at=now)
        Interaction.update(message_id=outbound.message_id).where(Interaction.id == interaction.id).execute()
        OutboundMail.update(state="sent", sent_at=now, interaction=interaction.id).where(
            OutboundMail.id == outbound.id).execute()
        if target.prospect is not None:
            _answer_followups_done(target.prospect.id, interaction, user, now)
        audit("mail.sent", *_record_ref(target), detail=f"mail {outbound.id}", actor=user)


def _answer_followups_done(prospect_id: int, interaction: Interaction, user: User, now: datetime) -> int:
    """Seed 000's answer is given: the planned first-answer (or later-question) follow-up is done, as
    completing it by hand does (seed 002's "next step": the sweep plans what follows), and linked to
    this mail. Returns how many were done."""
    pending = list(FollowUp.select().where((FollowUp.prospect == prospect_id) & (FollowUp.state == "planned")
                                           & FollowUp.rule.in_(ANSWER_RULES)).order_by(FollowUp.due_at))
    for position, followup in enumerate(pending):
        FollowUp.update(state="done", outcome="next_step", done_at=now, done_by=user.id,
                        interaction=interaction.id if position == 0 else None).where(
            (FollowUp.id == followup.id) & (FollowUp.state == "planned")).execute()
    if pending:
        refresh_next_action([prospect_id])
    return len(pending)


def _plan_next(target: Target, now: datetime) -> None:
    """What the rules ask for after the answer (a hot prospect's call, a warm one's qualification), at
    once rather than at the next sweep; the sweep would plan the same (same cause keys)."""
    if target.prospect is None:
        return
    from .sweep import plan_rules_for
    try:
        with database.atomic():
            plan_rules_for([target.prospect.id], now)
    except Exception:   # noqa: BLE001 - the sweep plans it later: only logged
        log.exception("answers: planning after the answer to prospect %s failed", target.prospect.id)


def _record_ref(target: Target) -> tuple[str, int | None]:
    if target.prospect is not None:
        return "prospect", target.prospect.id
    if target.patient is not None:
        return "patient", target.patient.id
    return "inbound_request", target.request.id if target.request is not None else None
