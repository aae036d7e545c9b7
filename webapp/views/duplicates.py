"""Suspected duplicates, for the follow-up lead and the manager: the pending pairs, one pair side by
side, and the decisions (merge, undo a merge, different people). Never a silent merge."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from playhouse.flask_utils import get_object_or_404

from .. import htmx
from ..forms import ContactForm, DecisionForm
from ..models import DuplicateCandidate
from ..security import require
from ..services import duplicates as service
from ..services.audit import record as audit
from ..services.dedupe import NeedsDecision
from .record import staff_choices

bp = Blueprint("duplicates", __name__, url_prefix="/duplicates")


def _pair(pair_id: int) -> DuplicateCandidate:
    return get_object_or_404(DuplicateCandidate, DuplicateCandidate.id == pair_id)


@bp.get("")
@require("prospects.merge")
def index():
    pairs, total = service.pending()
    return render_template("duplicates/index.html", pairs=pairs, total=total, decided=service.decided())


@bp.get("/<int:pair_id>")
@require("prospects.merge")
def show(pair_id):
    pair = _pair(pair_id)
    sides = service.sides(pair)
    for side in sides:  # two records read: audited like a record's page
        audit(f"{side['kind']}.view", side["kind"], side["record"].id, detail=f"duplicate pair {pair.id}")
    return render_template("duplicates/show.html", pair=pair, sides=sides, form=DecisionForm(formdata=None))


def _decide(pair_id: int, decision, done_message: str):
    try:
        decision(pair_id)
    except service.DuplicateError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("duplicates.show", pair_id=pair_id))
    flash(done_message, "success")
    return redirect(url_for("duplicates.show", pair_id=pair_id))


@bp.post("/<int:pair_id>/merge")
@require("prospects.merge")
def merge(pair_id):
    _pair(pair_id)
    keep = DecisionForm().keep.data
    user = current_user._get_current_object()
    return _decide(pair_id, lambda pid: service.merge(pid, keep, user),
                   _("Merged. The history is on the record kept; the other one stays as a tombstone."))


@bp.post("/<int:pair_id>/undo")
@require("prospects.merge")
def undo(pair_id):
    _pair(pair_id)
    user = current_user._get_current_object()
    return _decide(pair_id, lambda pid: service.undo_merge(pid, user),
                   _("Merge undone: both records are as they were, and the pair is back in the list."))


@bp.post("/<int:pair_id>/dismiss")
@require("prospects.merge")
def dismiss(pair_id):
    _pair(pair_id)
    user = current_user._get_current_object()
    return _decide(pair_id, lambda pid: service.dismiss(pid, user),
                   _("Marked as different people: this pair will not be suggested again."))


@bp.app_errorhandler(NeedsDecision)
def _same_person(question: NeedsDecision):
    """The staff form's contact shares a phone or email with someone of another name or birth date:
    nothing was recorded; the form comes back as posted, with the question (prospects.new)."""

    form = ContactForm()
    form.owner.choices = staff_choices()
    return htmx.render("prospects/new.html", "prospects/_contact_form.html", form=form,
                       question=question.match)


def identity_answer(form) -> dict:
    """The new-contact form's answer to "same person?", posted back with the form: the choice
    (`identity`) and the records it was asked about (`identity_for`), which the service re-checks."""
    decision = form.get("identity") or None
    return {"decision": decision, "asked": form.get("identity_for") if decision else None}
