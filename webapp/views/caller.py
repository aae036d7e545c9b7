"""The new-contact form's caller lookup: who has this phone or email, and log her call in one step."""
from urllib.parse import urlparse

from flask import Blueprint, abort, make_response, render_template, request, url_for
from flask_login import current_user

from .. import htmx
from ..forms import KnownCallForm
from ..security import require
from ..services import caller as service
from ..services.audit import record as audit
from ..vocabulary import CHANNELS

bp = Blueprint("caller", __name__)

# The board listens for this event to refresh its columns in place (static/js/board.js); it is
# raised on the body, since the element that asked may have been swapped out by the answer.
BOARD_CHANGED = '{"board-changed": {"target": "body"}}'


def from_board() -> bool:
    """The form was posted from the board's dialog (htmx says which page asked)."""
    current = urlparse(request.headers.get("HX-Current-URL", "")).path
    return htmx.wants_fragment() and current.startswith(url_for("board.index"))


@bp.get("/prospects/new/lookup")
@require("prospects.edit")
def lookup():
    """A small partial under the phone field (GET, read-only); each record shown is an audited read."""
    found = service.callers(request.args.get("phone", ""), request.args.get("email", ""))
    for item in found:
        audit(f"{item.kind}.lookup", item.kind, item.record.id)
    return htmx.vary(make_response(render_template("caller/_lookup.html", found=found)))


@bp.post("/prospects/new/known-call")
@require("prospects.edit")
def log_call():
    """"Noter l'appel sur sa fiche": the record must be one the lookup finds for what was typed."""
    form = KnownCallForm()
    found = service.find_caller(form.record.data or "", form.phone.data or "", form.email.data or "")
    if found is None:
        abort(409)
    channel = form.channel.data or "phone"
    outcome = service.log_call(found, channel=channel if channel in CHANNELS else "phone",
                               note=(form.note.data or "")[:5000],
                               user=current_user._get_current_object())
    response = htmx.render("prospects/created.html", "prospects/_created.html", outcome=outcome)
    return htmx.set_headers(response, trigger=BOARD_CHANGED)
