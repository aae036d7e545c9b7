"""Demandes à traiter: the follow-up lead's queues of website requests (to triage, failed, spam) and
the raw content of any request.

Each action is one POST that works without JavaScript (a redirect back to the queue, with a message);
with htmx it answers the request's item, changed in place, and the queue counts out of band.
"""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from playhouse.flask_utils import get_object_or_404

from .. import htmx
from ..forms import AttachForm, CreateForm, TriageForm
from ..forms.requests import owner_choices
from ..models import InboundRequest, Patient, Prospect, User
from ..rules.numbers import parse_id
from ..security import require
from ..services import intake as service
from ..services import request_queues as queues
from ..services.audit import record as audit
from ..services.mail_reading import is_mail
from ..services.users import active_staff
from .mailview import reading_context

bp = Blueprint("requests", __name__, url_prefix="/requests")

QUEUE_LABELS = {"triage": _l("To triage"), "failed": _l("Failed"), "spam": _l("Spam")}
STATE_LABELS = {"received": _l("Received, not yet processed"), "processed": _l("Processed"),
                "failed": _l("Failed"), "spam": _l("Spam"), "dismissed": _l("Dismissed")}
# A failed request, in the words of the staff who read the queue (the visitor's sentences are for the
# visitor; the code stays one click away for whoever fixes the website).
_FIX_THE_FORM = _l("Tell whoever set up the website form.")
STAFF_ERRORS = {
    "missing_contact": _l("Neither a phone number nor an email address: there is no way to answer this "
                          "person. If the message says who it is, record the contact by hand, then dismiss it."),
    "bad_json": _l("The website sent data that cannot be read (broken JSON)."),
    "json_not_object": _l("The website sent data in the wrong shape (JSON that is not an object)."),
    "unknown_charset": _l("The website sent text in a character encoding we do not read."),
    "bad_encoding": _l("The text sent by the website could not be read (wrong character encoding)."),
    "unsupported_content_type": _l("The website sent something other than a form or JSON."),
    "bad_multipart": _l("The form's data arrived cut or damaged."),
    "too_many_fields": _l("The form had far too many fields to be a contact form."),
    "no_plugin_for_source_type": _l("No installed plugin reads this kind of source any more: tell the administrator."),
}
NEEDS_THE_FORM_FIXED = {"bad_json", "json_not_object", "unknown_charset", "bad_encoding", "unsupported_content_type",
                        "bad_multipart", "too_many_fields"}
SPAM_REASONS = {
    "honeypot": _l("The hidden trap field was filled in, as robots do."),
    "origin_not_allowed": _l("Sent from a website that is not among the source's allowed origins."),
    "marked_spam": _l("Marked as spam by a person."),
    "bad_signature": _l("The signature is missing or wrong."),
}
SIGNATURE_PROBLEMS = {"missing": _l("missing"), "malformed": _l("unreadable"), "expired": _l("expired"),
                      "mismatch": _l("does not match")}


def error_text(code: str | None) -> str | None:
    """What went wrong with a failed request, in staff words; an unknown code (an error in the
    processing itself) is said as such, its technical text shown apart by the page."""
    if not code:
        return None
    if code not in STAFF_ERRORS:
        return str(_l("Processing stopped on an unexpected error: tell the administrator. Processing it "
                      "again may work once it is fixed."))
    text = str(STAFF_ERRORS[code])
    return f"{text} {_FIX_THE_FORM}" if code in NEEDS_THE_FORM_FIXED else text


def spam_text(reason: str | None) -> str:
    code, _sep, detail = (reason or "").partition(":")
    text = str(SPAM_REASONS.get(code, reason or ""))
    if code == "bad_signature" and detail:
        text += " (" + str(SIGNATURE_PROBLEMS.get(detail, detail)) + ")"
    return text


def _create_form(**kwargs) -> CreateForm:
    form = CreateForm(**kwargs)
    form.owner.choices = owner_choices(active_staff())
    return form


def _context(**extra) -> dict:
    """What the queue's templates share, with the forms each item repeats (its own ids and values)."""
    return {"queue_labels": QUEUE_LABELS, "state_labels": STATE_LABELS, "error_text": error_text,
            "spam_text": spam_text, "candidates": queues.candidates, "counts": queues.waiting_counts(),
            "create_form": _create_form(formdata=None), "attach_form": AttachForm(formdata=None),
            "triage_form": TriageForm(formdata=None), **extra}


def _queue_name() -> str:
    queue = request.args.get("queue", "triage")
    if queue not in queues.QUEUES:
        abort(400)
    return queue


@bp.get("")
@require("requests.triage")
def index():
    queue = _queue_name()
    if queue == "triage":
        items, total = service.triage_queue(limit=queues.PAGE)
    else:
        items, total = queues.listed(queue)
    return htmx.render("requests/index.html", "requests/_queue.html",
                       **_context(queue=queue, items=items, total=total))


@bp.get("/<int:request_id>")
@require("requests.triage")
def show(request_id):
    inbound = _get(request_id)
    audit("request.view", "inbound_request", inbound.id)
    text, size, truncated = queues.raw_text(inbound.body)
    # A mail is shown read (its text, its sanitised HTML on request, its attachments): views/mailview.py.
    mail = reading_context(inbound, show_html=False) if is_mail(inbound.content_type) and not inbound.emptied else {}
    return render_template("requests/show.html", **_context(
        item=inbound, fields=inbound.parsed or {}, raw=text, size=size, truncated=truncated,
        limit=queues.RAW_DISPLAY_BYTES, **{k: v for k, v in mail.items() if k != "item"}))


def _get(request_id: int) -> InboundRequest:
    return get_object_or_404(InboundRequest, InboundRequest.id == request_id)


def _by_form_id(model, value: str | None):
    """The record a form field names, None when the field is empty; 400 when it is not a record."""
    if not value:
        return None
    record = model.get_or_none(model.id == parse_id(value)) if parse_id(value) else None
    if record is None:
        abort(400)
    return record


# --- the actions ------------------------------------------------------------------------------------

@bp.post("/<int:request_id>/create")
@require("requests.triage")
def create(request_id):
    _get(request_id)
    form = _create_form()
    if not form.validate():  # an owner who is not among the active staff
        abort(400)
    owner = _by_form_id(User, form.owner.data)
    try:
        outcome = service.create_from(request_id, current_user._get_current_object(), owner=owner)
    except service.TriageError as refusal:
        return _refused(request_id, refusal)
    if outcome.patient is not None:
        message = _("Already known: a patient. The contact is recorded on the patient's record.")
    elif outcome.created:
        message = _("Prospect created.")
    else:
        message = _("Already known: the contact is recorded on the existing prospect.")
    return _done(request_id, message, prospect=outcome.prospect if outcome.patient is None else None,
                 patient=outcome.patient)


@bp.post("/<int:request_id>/attach")
@require("requests.triage")
def attach(request_id):
    _get(request_id)
    form = AttachForm()
    prospect, patient = _by_form_id(Prospect, form.prospect_id.data), _by_form_id(Patient, form.patient_id.data)
    try:
        service.attach(request_id, current_user._get_current_object(), prospect=prospect, patient=patient)
    except service.TriageError as refusal:
        return _refused(request_id, refusal)
    return _done(request_id, _("Attached: the contact is recorded on the record."), prospect=prospect,
                 patient=patient)


@bp.post("/<int:request_id>/spam")
@require("requests.triage")
def spam(request_id):
    _get(request_id)
    try:
        service.mark_spam(request_id, current_user._get_current_object())
    except service.TriageError as refusal:
        return _refused(request_id, refusal)
    return _done(request_id, _("Marked as spam. It stays in the spam queue, where it can be restored."))


@bp.post("/<int:request_id>/replay")
@require("requests.triage")
def replay(request_id):
    inbound = _get(request_id)
    if inbound.state not in ("failed", "dismissed", "spam"):
        return _refused(request_id, service.TriageError("already_handled"))
    if inbound.emptied:
        return _refused(request_id, service.TriageError("emptied"))
    state = service.replay(request_id, current_user._get_current_object())
    inbound = InboundRequest.get_by_id(request_id)
    if state == "processed" and inbound.triage:
        message = _("Processed: the request now waits in the queue to triage.")
    elif state == "processed":
        message = _("Processed: the request was recorded on its record.")
    elif state == "failed":
        return _done(request_id, _("Processed again, and failed again."), category="error")
    else:
        message = _("Processed again.")
    return _done(request_id, message, prospect=inbound.prospect, patient=inbound.patient)


@bp.post("/<int:request_id>/dismiss")
@require("requests.triage")
def dismiss(request_id):
    """A failed request nobody can use (no contact given, a test): out of the failed queue, kept."""
    _get(request_id)
    if not service.dismiss(request_id, current_user._get_current_object()):
        return _refused(request_id, service.TriageError("already_handled"))
    return _done(request_id, _("Dismissed: it leaves the failed queue. It is kept, with who dismissed it, "
                               "and can still be processed again from its page."))


def _done(request_id: int, message: str, *, prospect=None, patient=None, category: str = "success"):
    """The item, now handled: a message and where the request went; the counts change everywhere."""
    queues.forget_counts()
    inbound = InboundRequest.get_by_id(request_id)
    if not htmx.wants_fragment():
        flash(message, category)
        return redirect(url_for("requests.index", queue=_back_queue()))
    response = make_response(render_template(
        "requests/_done.html", **_context(item=inbound, message=message, category=category, prospect=prospect,
                                          patient=patient, back_queue=_back_queue(), oob=True)))
    return htmx.vary(response)


def _refused(request_id: int, refusal):
    """Someone else was quicker (409), or the form named no record (400): said in words, nothing changed."""
    status, message = refusal.status, refusal.message
    queues.forget_counts()
    inbound = InboundRequest.get_by_id(request_id)
    if htmx.wants_fragment():
        response = make_response(render_template(
            "requests/_done.html", **_context(item=inbound, message=message, category="error",
                                              prospect=inbound.prospect, patient=inbound.patient,
                                              back_queue=_back_queue(), oob=True)),
            status)
        return htmx.vary(response)
    queue = _back_queue()
    if queue == "triage":
        items, total = service.triage_queue(limit=queues.PAGE)
    else:
        items, total = queues.listed(queue)
    return render_template("requests/index.html", **_context(queue=queue, items=items, total=total,
                                                             error=message)), status


def _back_queue() -> str:
    queue = TriageForm().queue.data or "triage"
    return queue if queue in queues.QUEUES else "triage"
