"""A received mail, shown safely to staff (issue 16 §4, SECURITY.md): its text by default, its HTML
sanitised on request (services/mail_reading.py, rules/mail_html.py), its attachments downloadable only
by staff who may read it, as downloads (`Content-Disposition: attachment`, `nosniff`, a safe name).

Who may read a mail: one still waiting in triage, those who triage (the lead, the manager); one on a
prospect's or a patient's record, those who read records (`mail.read`).
"""
from flask import Blueprint, abort, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from playhouse.flask_utils import get_object_or_404

from ..models import InboundRequest
from ..security import can, require
from ..services import answers as answer_service
from ..services import mail_reading
from ..services.audit import record as audit

bp = Blueprint("mail", __name__, url_prefix="/mail")

IMAGE_NOTES = {"remote": _l("remote image blocked"), "inline": _l("attached image, not shown"),
               "other": _l("image not shown")}


def image_notes() -> dict[str, str]:
    return {kind: str(text) for kind, text in IMAGE_NOTES.items()}


def readable_mail(request_id: int) -> InboundRequest:
    """The stored mail, if this person may read it (object-level check after the role's)."""
    item = get_object_or_404(InboundRequest, InboundRequest.id == request_id)
    if not mail_reading.is_mail(item.content_type) or item.emptied:
        abort(404)
    if not (item.prospect_id or item.patient_id) and not can("requests.triage"):
        audit("refused", "inbound_request", item.id, detail=f"{request.method} {request.path}")
        abort(403)
    return item


def reading_context(item: InboundRequest, show_html: bool) -> dict:
    """What templates/mailview/_reading.html needs."""
    reading = mail_reading.read_stored(bytes(item.body or b""))
    safe = reading.safe_html(image_notes()) if show_html else None
    return {"item": item, "reading": reading, "show_html": show_html and safe is not None, "safe": safe,
            # nh3's output (rules/mail_html.py), and nothing else, is marked safe to show
            "safe_html": Markup(safe.html) if safe is not None else "",
            "has_html": bool(reading.html.strip()),
            "answerable": can("mail.answer") and can("requests.triage") and answer_service.answerable_request(item),
            "automated": (item.parsed or {}).get("automated")}


@bp.get("/<int:request_id>")
@require("mail.read")
def show(request_id):
    item = readable_mail(request_id)
    audit("mail.view", "inbound_request", item.id)
    return render_template("mailview/show.html", **reading_context(item, request.args.get("view") == "html"))


@bp.get("/<int:request_id>/attachments/<int:index>")
@require("mail.read")
def attachment(request_id, index):
    item = readable_mail(request_id)
    found = mail_reading.attachment(bytes(item.body or b""), index)
    if found is None:
        abort(404)
    described, content = found
    audit("mail.attachment", "inbound_request", item.id, detail=f"attachment {index}")
    response = make_response(content)
    # Never shown by the browser: downloaded, under a name that cannot reach a path or a header, its
    # type not guessed from the contents (an HTML or SVG "image" stays a file).
    response.headers["Content-Type"] = "application/octet-stream"
    response.headers["Content-Disposition"] = f'attachment; filename="{described.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
