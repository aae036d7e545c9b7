"""Answering by mail (issue 16 §5): from a prospect's page and from a mail request in the lead's triage
queue; and the manager's answer templates.

One form, three buttons: load the chosen template (the text starts again from it), preview, send. It
works without JavaScript; with htmx the form is swapped in place and a sent mail leads to the record.
"""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from playhouse.flask_utils import get_object_or_404

from .. import htmx, vocabulary
from ..forms import AnswerForm
from ..models import InboundRequest, OutboundMail, Submission
from ..rules.answers import GENERAL, PLACEHOLDERS, TemplateError, send_cut_off, text_body_html
from ..security import can, require
from ..services import answer_sending as sending
from ..services import answers as service
from ..services.answers import AnswerError
from ..services.audit import record as audit
from ..services.defaults import setting
from ..timeutil import utcnow
from .record import get_prospect

bp = Blueprint("answers", __name__)

GENERAL_LABEL = _l("General request")


def template_label(key: str) -> str:
    qualification, _sep, temperature = key.partition(":")
    what = GENERAL_LABEL if qualification == GENERAL else vocabulary.QUALIFICATIONS[qualification]
    return f"{what} · {vocabulary.TEMPERATURES[temperature]}"


def refusal_text(code: str) -> str:
    """Why a mail was not sent, in the person's words."""
    if code == "daily_cap":
        return _("The daily limit of mails to this address is reached (%(n)d a day): nothing was sent. "
                 "Try again tomorrow, or call the person.", n=int(setting("mail_daily_cap")))
    return str({
        "automated": _l("This mail was sent by a machine (automatic reply, delivery report, newsletter): "
                        "Relance never answers it."),
        "not_answerable": _l("This request cannot be answered by mail: it left no email address."),
        "undeliverable": _l("Mail to this address comes back undelivered: nothing was sent. Call the person, "
                            "or correct the address on the record."),
        "do_not_contact": _l("This person asked not to be contacted: nothing was sent."),
        "no_address": _l("There is no valid email address to answer to."),
        "mail_off": _l("Sending mail is not configured (RELANCE_SMTP_URL): tell the administrator. "
                       "Nothing was sent."),
        "smtp_failed": _l("The mail server could not be reached or refused the mail: it was not sent and "
                          "nothing was recorded. Try again in a moment."),
        "empty": _l("Write the subject and the message."),
        "emptied": _l("Its contents were deleted: there is nothing left to answer."),
    }.get(code, _l("This mail cannot be sent.")))


STATUS = {"smtp_failed": 502, "mail_off": 503, "empty": 400}


def _form(target, key: str | None = None, fresh: bool = False) -> AnswerForm:
    """The form as posted, or filled afresh from the chosen template (a first visit, another template)."""
    form = AnswerForm(formdata=None) if fresh else AnswerForm()
    form.template.choices = [(key, template_label(key)) for key in service.TEMPLATE_KEYS]
    if fresh:
        draft = service.draft(target, current_user._get_current_object(), key)
        form.template.data, form.subject.data, form.body.data = draft.template, draft.subject, draft.body
    return form


def _page(target, form, *, action: str, back: str, preview=None, error: str | None = None, status: int = 200):
    response = htmx.render("answers/answer.html", "answers/_form.html", target=target, form=form,
                           action=action, back=back, preview=preview, error=error,
                           placeholders=PLACEHOLDERS)
    response.status_code = status
    return response


def _handle(target, *, action: str, back: str, send):
    """GET: the draft (from `?template=`). POST: preview, or send (`send(form)` does it) when the Send
    button says so."""
    if request.method == "GET":
        refused = service.refusal(target, utcnow())
        return _page(target, _form(target, request.args.get("template"), fresh=True), action=action, back=back,
                     error=refusal_text(refused) if refused else None)
    step = request.form.get("step", "preview")   # Enter in a field previews: sending is its own button
    form = _form(target)
    if not form.validate_on_submit():
        return _page(target, form, action=action, back=back, status=400)
    if step != "send":
        return _page(target, form, action=action, back=back,
                     preview={"subject": form.subject.data, "text": form.body.data,
                              # every character of the text is escaped by the rule: safe to show
                              "html": Markup(text_body_html(form.body.data))})
    try:
        sent = send(form)
    except AnswerError as refusal:
        return _page(target, form, action=action, back=back, error=refusal_text(refusal.code),
                     status=STATUS.get(refusal.code, 409))
    return _after_send(sent, form.submission.data)


def _after_send(sent, key: str | None):
    """To the record, with what happened: sent, or already sent by the same form."""
    target, outbound = sent.target, sent.outbound
    if sent.resent:
        outbound = _earlier(key)
        if outbound is None or outbound.state == "sent":
            flash(_("This answer was already sent: it goes once."), "success")
        elif send_cut_off(outbound.state, outbound.created_at, utcnow()):
            flash(_("This answer was not confirmed as sent: the mail server may not have received it. Look "
                    "in the mailbox's sent messages before writing it again."), "warning")
        else:
            flash(_("This answer is being sent: it goes once."), "success")
    else:
        flash(_("Mail sent to %(address)s.", address=outbound.to_address), "success")
    prospect_id = outbound.prospect_id if outbound is not None else (target.prospect.id if target.prospect else None)
    patient_id = outbound.patient_id if outbound is not None else (target.patient.id if target.patient else None)
    if prospect_id:
        where = url_for("prospects.show", prospect_id=prospect_id)
    elif patient_id:
        where = url_for("patients.show", patient_id=patient_id)
    else:
        where = url_for("requests.index")
    if htmx.is_htmx():   # a redirect would be followed by fetch and swapped into the form: htmx goes there
        return htmx.set_headers(htmx.vary(make_response("", 204)), redirect=where)
    return redirect(where, 303)


def _earlier(key: str | None) -> OutboundMail | None:
    row = Submission.get_or_none(Submission.key == (key or "").strip()) if key else None
    kind, _sep, ident = (row.result if row else "").partition(":")
    return OutboundMail.get_or_none(OutboundMail.id == int(ident)) if kind == "mail" and ident.isdigit() else None


# --- the routes ----------------------------------------------------------------------------------------

@bp.route("/prospects/<int:prospect_id>/answer", methods=["GET", "POST"])
@require("mail.answer")
def prospect(prospect_id):
    record = get_prospect(prospect_id)
    target = service.for_prospect(record)
    user = current_user._get_current_object()
    audit("prospect.view", "prospect", record.id, detail="answer")
    return _handle(target, action=url_for("answers.prospect", prospect_id=record.id),
                   back=url_for("prospects.show", prospect_id=record.id),
                   send=lambda form: sending.answer_prospect(
                       record, subject=form.subject.data, body=form.body.data, template=form.template.data,
                       key=form.submission.data, user=user))


@bp.route("/requests/<int:request_id>/answer", methods=["GET", "POST"])
@require("requests.triage")
def inbound(request_id):
    """Answering a request: for those who triage (it becomes a prospect first) and may answer by mail."""
    if not can("mail.answer"):
        audit("refused", detail=f"{request.method} {request.path}")
        abort(403)
    item = get_object_or_404(InboundRequest, InboundRequest.id == request_id)
    if not service.answerable_request(item):   # automated mail, spam, failed, no address: never answered
        audit("refused", "inbound_request", item.id, detail="answer")
        target = service.for_request(item)
        code = "automated" if target.automated else ("emptied" if item.emptied else "not_answerable")
        return render_template("answers/refused.html", item=item, error=refusal_text(code)), 409
    user = current_user._get_current_object()
    audit("request.view", "inbound_request", item.id, detail="answer")
    return _handle(service.for_request(item), action=url_for("answers.inbound", request_id=item.id),
                   back=url_for("requests.show", request_id=item.id),
                   send=lambda form: sending.answer_request(
                       item.id, subject=form.subject.data, body=form.body.data, template=form.template.data,
                       key=form.submission.data, user=user))


# --- the templates (settings) -------------------------------------------------------------------------

def template_error(error: TemplateError) -> str:
    if error.code == "unknown_placeholders":
        return _("Unknown placeholder: %(names)s. The placeholders are: %(known)s.",
                 names=", ".join("{" + name + "}" for name in error.names),
                 known=", ".join("{" + name + "}" for name in PLACEHOLDERS))
    return str({
        "unbalanced_braces": _l("A brace is not closed: write placeholders as {prenom}, and a brace alone as "
                                "{{ or }}."),
        "required": _l("Write the subject and the message."),
        "too_long": _l("The subject has at most 200 characters and the message 10,000."),
        "bad_cap": _l("The daily limit is a whole number between 0 and 100."),
    }.get(error.code, _l("This change is not possible.")))


def _settings_page(error: str | None = None, failed: dict | None = None, status: int = 200):
    stored = service.templates()
    if failed:
        stored[failed["key"]] = {"subject": failed["subject"], "body": failed["body"]}
    return render_template("answers/settings.html", templates=stored, keys=service.TEMPLATE_KEYS,
                           template_label=template_label, details=service.details(), detail_keys=service.DETAIL_KEYS,
                           cap=setting("mail_daily_cap"), contact_person=setting("contact_person"),
                           placeholders=PLACEHOLDERS, error=error, failed=failed), status


@bp.get("/settings/answers")
@require("settings.answers")
def settings():
    return _settings_page()


@bp.post("/settings/answers")
@require("settings.answers")
def save_template():
    values = {"key": request.form.get("key", ""), "subject": request.form.get("subject", ""),
              "body": request.form.get("body", "")}
    if values["key"] not in service.TEMPLATE_KEYS:
        abort(400)
    try:
        service.save_template(values["key"], values["subject"], values["body"], current_user._get_current_object())
    except TemplateError as error:
        return _settings_page(template_error(error), failed=values, status=400)
    flash(_("Template “%(name)s” saved.", name=template_label(values["key"])), "success")
    return redirect(url_for("answers.settings") + "#template-" + values["key"].replace(":", "-"))


@bp.post("/settings/answers/details")
@require("settings.answers")
def save_details():
    try:
        service.save_details(request.form, request.form.get("cap", ""), current_user._get_current_object())
    except TemplateError as error:
        return _settings_page(template_error(error), status=400)
    flash(_("Settings saved."), "success")
    return redirect(url_for("answers.settings"))
