"""Reconciliation's review queue (issue 17), for the follow-up lead and the manager: each uncertain match
with the patient and the prospect side by side and why it is uncertain; confirm (the prospect is
converted), reject (never suggested again), undo. The review blocks the conversion: an uncertain match
never converts by itself."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import htmx
from ..security import require
from ..services import reconcile as service
from ..services.audit import record as audit
from ..timeutil import utcnow

bp = Blueprint("matches", __name__, url_prefix="/reconciliation")

REASONS = {
    "phone": _l("same phone number"),
    "email": _l("same email"),
    "name": _l("same names"),
    "name_swapped": _l("same names, first and last name swapped"),
    "birth_date": _l("same birth date"),
    "name_variant": _l("a name spelt differently (variant or typo)"),
    "name_partial": _l("only one name to compare"),
    "names_differ": _l("different names"),
    "birth_dates_differ": _l("different birth dates"),
    "phones_differ": _l("different phone numbers"),
    "emails_differ": _l("different emails"),
    "contacts_differ": _l("no phone or email in common"),
    "several_prospects": _l("the patient matches several prospects"),
    "several_patients": _l("the prospect matches several patients"),
}
# What makes a match uncertain, shown first and as a warning.
DOUBTS = ("name_variant", "name_partial", "names_differ", "birth_dates_differ", "phones_differ", "emails_differ",
          "contacts_differ", "several_prospects", "several_patients", "name_swapped")

STATES = {"open": _l("To review"), "converted": _l("Converted automatically"), "confirmed": _l("Confirmed"),
          "rejected": _l("Different people"), "undone": _l("Conversion undone")}

REFUSALS = {
    "already_decided": _l("Someone already decided about this match: here is what they decided."),
    "already_converted": _l("This prospect is already converted to another patient."),
    "erased": _l("This prospect's data was erased."),
    "not_found": _l("This match no longer exists."),
    "no_won_stage": _l("No converted stage is set up: a manager must add one."),
}


def _context(match) -> dict:
    reasons = list(match.reasons or [])
    return {"match": match, "patient_phones": service.patient_phones(match.patient_id),
            "doubts": [REASONS.get(r, r) for r in reasons if r in DOUBTS],
            "agreements": [REASONS.get(r, r) for r in reasons if r not in DOUBTS],
            "state_label": STATES.get(match.state, match.state), "replaces": service.replaced_conversion(match)}


def _audit_view(match, where: str) -> None:
    audit("patient.view", "patient", match.patient_id, detail=f"{where}, match {match.id}")


@bp.get("")
@require("patients.review")
def index():
    matches, total = service.pending(limit=50)
    for match in matches:
        _audit_view(match, "review queue")
    return render_template("matches/index.html", items=[_context(m) for m in matches], total=total,
                           decided=service.decided(), states=STATES)


@bp.get("/<int:match_id>")
@require("patients.review")
def show(match_id):
    match = _listed(match_id)
    _audit_view(match, "review")
    return render_template("matches/show.html", item=_context(match), states=STATES)


def _listed(match_id: int):
    match = service._listing().where(service.PatientMatch.id == match_id).first()
    if match is None:
        abort(404)
    return match


def _decide(match_id: int, decision, done_message: str):
    """One click: the decision, then the match as it is now (the fragment for htmx, else back to the page
    the click came from)."""
    _listed(match_id)
    user = current_user._get_current_object()
    note = (request.form.get("note") or "").strip()[:250]
    try:
        decision(match_id, user, utcnow(), note)
        message, category = done_message, "success"
    except service.ReconcileError as refusal:
        message, category = str(REFUSALS.get(refusal.code, refusal.code)), "error"
    if htmx.wants_fragment():
        return htmx.render("matches/show.html", "matches/_match.html", item=_context(_listed(match_id)),
                           message=message, category=category)
    flash(message, category)
    if request.form.get("back") == "show":
        return redirect(url_for("matches.show", match_id=match_id))
    return redirect(url_for("matches.index"))


@bp.post("/<int:match_id>/confirm")
@require("patients.review")
def confirm(match_id):
    return _decide(match_id, service.confirm,
                   _("Same person: the prospect is converted and leaves the follow-up procedure."))


@bp.post("/<int:match_id>/reject")
@require("patients.review")
def reject(match_id):
    return _decide(match_id, service.reject,
                   _("Different people: this match will not be suggested again."))


@bp.post("/<int:match_id>/undo")
@require("patients.review")
def undo(match_id):
    return _decide(match_id, service.undo, _("Undone: the prospect is as it was before this decision."))
