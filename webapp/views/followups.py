"""Follow-ups: planned by hand on a prospect, completed in two steps (outcome, then confirm), in place.

Each URL has two renderings: a page without JavaScript, the row (or the prospect's section) for htmx.
"""
from datetime import datetime

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user
from playhouse.flask_utils import get_object_or_404

from .. import htmx, vocabulary
from ..forms import CompleteForm, PlanForm
from ..models import ActionCode, FollowUp, FollowUpType, LostReason, Prospect, User
from ..rules.numbers import parse_id
from ..security import require
from ..services import followups as service
from ..services import timeline as timeline_service
from ..services.audit import record as audit
from ..services.board import lost_reasons
from ..services.search import next_actions
from ..timeutil import parse_iso_datetime, utcnow
from .myday import day_changes
from .record import followups_section, get_prospect, local_input, record_context

bp = Blueprint("followups", __name__)


def _datetime(text: str | None) -> datetime | None:
    """A date typed in the clinic's local time, in UTC (None when empty or unreadable)."""
    text = (text or "").strip()
    try:
        return parse_iso_datetime(text, current_app.config["TIMEZONE"]) if text else None
    except ValueError:
        return None


def _by_id(model, text: str | None):
    value = parse_id(text)
    return model.get_or_none(model.id == value) if value else None


def _get_followup(followup_id: int) -> FollowUp:
    return get_object_or_404(FollowUp, FollowUp.id == followup_id)


def _check_owner(followup: FollowUp) -> None:
    """Object level, before any change: a secretary completes only her own or unassigned follow-ups."""
    if not service.may_complete(current_user, followup):
        audit("refused", "followup", followup.id, detail=f"{request.method} {request.path}")
        abort(403)


def _row_context(followup: FollowUp, confirm: str | None = None, error: str | None = None,
                 origin: str = "myday", posted: CompleteForm | None = None) -> dict:
    now = utcnow()
    followup.day_state = service.followup_state(
        followup.due_at, followup.done_at, now, int(service.setting("abandon_after_days")),
        tz=current_app.config["TIMEZONE"], planned_at=followup.created_at) if followup.state == "planned" \
        else followup.state
    context = {"followup": followup, "confirm": confirm, "error": error, "origin": origin, "now": now}
    context["default_due"] = service.default_due(now, current_app.config["TIMEZONE"])
    if confirm:
        context["confirm_form"] = _confirm_form(followup, confirm, origin, context["default_due"], posted)
        context["next_types"] = context["confirm_form"].next_type.choices
    return context


def _confirm_form(followup: FollowUp, confirm: str, origin: str, default_due: datetime,
                  posted: CompleteForm | None) -> CompleteForm:
    """The confirm form for this outcome. A refused confirmation (a past date…) comes back with the
    contact and the note the person had chosen and written; the dates offered again are the defaults."""
    if posted is not None and posted.action_code.raw_data:
        form = posted
    else:
        usual = service.usual_contact(followup.type, confirm)
        form = CompleteForm(formdata=None, action_code=str(usual.id if usual else ""))
    form.outcome.data, form.origin.data = confirm, origin
    form.reschedule_at.data = form.next_due_at.data = local_input(default_due)
    form.next_type.data = None  # the first step offered, as before anything was chosen
    form.next_type.choices = [(str(t.id), t.name) for t in service.next_types(followup.type)] \
        if confirm == "next_step" else []
    reasons = lost_reasons() if confirm == "not_interested" else []
    form.lost_reason.choices = [("", "—")] + [(str(r.id), r.label) for r in reasons]
    form.lost_reason.data = next((str(r.id) for r in reasons if r.code == "not_interested"), "")
    form.action_code.choices = [("", _("No contact to record"))] + [
        (str(code.id), f"{code.code} — {code.label}") for code in service.contact_codes()]
    return form


def _origin() -> str:
    value = request.values.get("origin", "myday")
    return value if value in ("myday", "prospect") else "myday"


@bp.get("/followups/<int:followup_id>")
@require("prospects.view")
def show(followup_id):
    """One follow-up with its outcome buttons; for htmx, its row (the confirm form's Cancel)."""
    followup = _get_followup(followup_id)
    return htmx.render("followups/show.html", "followups/_row.html", **_row_context(followup, origin=_origin()))


@bp.get("/followups/<int:followup_id>/complete")
@require("prospects.edit")
def complete_form(followup_id):
    """First click: the outcome is chosen; the row becomes the small confirm form for it."""
    followup = _get_followup(followup_id)
    _check_owner(followup)
    outcome = request.args.get("outcome")
    if outcome not in vocabulary.FOLLOWUP_OUTCOMES:
        outcome = None
    if followup.state != "planned":
        return _refused(followup, service.FollowUpError("already_done"))
    return htmx.render("followups/complete.html", "followups/_row.html",
                       **_row_context(followup, confirm=outcome, origin=_origin()))


@bp.post("/followups/<int:followup_id>/complete")
@require("prospects.edit")
def complete(followup_id):
    """Second click: confirm. The row says what happened, the counts follow (out-of-band)."""
    followup = _get_followup(followup_id)
    _check_owner(followup)
    form = CompleteForm()
    outcome = form.outcome.data or ""
    user = current_user._get_current_object()
    try:
        following = service.complete_followup(
            followup, outcome, user, utcnow(), reschedule_at=_datetime(form.reschedule_at.data),
            next_type=_by_id(FollowUpType, form.next_type.data), next_due_at=_datetime(form.next_due_at.data),
            lost_reason=_by_id(LostReason, form.lost_reason.data), contact=_contact(form),
            note=(form.note.data or "")[:2000])
    except service.FollowUpError as refusal:
        return _refused(followup, refusal, outcome if outcome in vocabulary.FOLLOWUP_OUTCOMES else None, form)
    followup = FollowUp.get_by_id(followup.id)
    message = _done_message(followup, following)
    origin = _origin()
    if not htmx.wants_fragment():
        flash(message, "success")
        return redirect(_back(followup))
    if origin == "prospect":
        response = _prospect_section(Prospect.get_by_id(followup.prospect_id), message=message, history=True)
        return htmx.set_headers(response, trigger="board-changed")
    return day_changes(followup, following, message)


def _contact(form: CompleteForm):
    """The contact chosen on the confirm form: an action code, none (""), or the usual one if not asked."""
    if not form.action_code.raw_data:
        return service.USUAL
    return _by_id(ActionCode, form.action_code.data)


def _back(followup: FollowUp) -> str:
    """Where a page without JavaScript returns: the record or the day it came from."""
    if _origin() == "prospect":
        return url_for("prospects.show", prospect_id=followup.prospect_id)
    return url_for("myday.index")


def _done_message(followup: FollowUp, following: FollowUp | None) -> str:
    name = followup.prospect.full_name
    if followup.outcome == "signed_up":
        return _("%(name)s: %(outcome)s, converted.", name=name,
                 outcome=vocabulary.signed_up(followup.prospect.qualification))
    if followup.outcome == "not_interested":
        return _("%(name)s is not interested: marked lost.", name=name)
    return _("%(name)s: %(outcome)s, next follow-up planned.", name=name,
             outcome=vocabulary.FOLLOWUP_OUTCOMES[followup.outcome])


def _refused(followup: FollowUp, refusal: service.FollowUpError, outcome: str | None = None,
             posted: CompleteForm | None = None):
    """The refused completion in place: the confirm form again with the reason, or the row as it now is."""
    code, status, message = refusal.code, refusal.status, refusal.message
    if status == 403:
        abort(403)
    if not htmx.wants_fragment():
        if code == "already_done":
            flash(message, "error")
            return redirect(_back(followup))
        return htmx.render("followups/complete.html", "followups/_row.html",
                           **_row_context(followup, confirm=outcome, error=message, origin=_origin(),
                                          posted=posted)), status
    followup = FollowUp.get_by_id(followup.id)
    response = make_response(render_template(
        "followups/_row.html", **_row_context(followup, confirm=outcome if code != "already_done" else None,
                                              error=message, origin=_origin(), posted=posted)), status)
    return htmx.vary(response)


# --- planning by hand, from the prospect's record ------------------------------------------------------

def _prospect_section(prospect: Prospect, status: int = 200, *, history: bool = False, **kwargs):
    """The record's follow-ups section; with `history`, its timeline and facts too, out of band (a
    completion added entries and may have spent the budget)."""
    extra = {}
    if history:
        extra = {"history_oob": timeline_service.timeline(prospect.id),
                 "history_next_action": next_actions([prospect.id]).get(prospect.id)}
    response = make_response(render_template("followups/_prospect_followups.html", prospect=prospect,
                                             followups=followups_section(prospect, **kwargs), **extra), status)
    htmx.set_headers(response, retarget="#prospect-followups", reswap="outerHTML")
    return htmx.vary(response)


@bp.post("/prospects/<int:prospect_id>/followups")
@require("prospects.edit")
def plan(prospect_id):
    prospect = get_prospect(prospect_id)
    form = PlanForm()
    try:
        service.plan_followup(prospect, _by_id(FollowUpType, form.type.data), _by_id(User, form.owner.data),
                              _datetime(form.due_at.data), form.value.data or "", (form.comment.data or "")[:2000],
                              current_user._get_current_object(), utcnow())
    except service.FollowUpError as refusal:
        if htmx.wants_fragment():
            return _prospect_section(prospect, refusal.status, errors=refusal.message, form=form)
        context = record_context(prospect)
        context["followups"] = followups_section(prospect, errors=refusal.message, form=form)
        return render_template("prospects/show.html", prospect=prospect, **context), refusal.status
    message = _("Follow-up planned.")
    if htmx.wants_fragment():
        return htmx.set_headers(_prospect_section(prospect, message=message), trigger="board-changed")
    flash(message, "success")
    return redirect(url_for("prospects.show", prospect_id=prospect.id) + "#prospect-followups")
