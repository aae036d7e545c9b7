"""Prospects: list and search, the fast create form, the record with its timeline, edits."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import htmx
from ..forms import ConsentForm, ContactForm, InteractionForm, ProspectForm, TemperatureForm
from ..models import ActionCode
from ..rules.numbers import parse_count
from ..security import can, require
from ..services import prospects as service
from ..services import search as search_service
from ..services import submissions
from ..services.audit import record as audit
from ..services.users import may_assign_to_others, may_reassign, owner_by_id
from .board import remembered_url
from .caller import BOARD_CHANGED, from_board
from .duplicates import identity_answer
from .record import action_code_choices, get_prospect, record_context, staff_choices

bp = Blueprint("prospects", __name__)


@bp.get("/")
@login_required
def home():
    """Each role lands where its work is: staff on the board, administrators on their pages."""
    if not can("prospects.view"):
        return redirect(url_for("admin.users"))
    return redirect(remembered_url())


@bp.get("/prospects")
@require("prospects.view")
def index():
    criteria = search_service.Criteria.from_args(request.args, current_user.id)   # BadFilter: a 400
    page = parse_count(request.args.get("page"), 1, lowest=1)
    page_size = current_app.config["PAGE_SIZE"]
    rows, total = search_service.search(criteria, page, page_size)
    pages = max((total + page_size - 1) // page_size, 1)
    return htmx.render("prospects/index.html", "prospects/_results.html", rows=rows, total=total,
                       page=page, pages=pages, criteria=criteria, args=request.args,
                       owners=staff_choices(blank=False),
                       next_actions=search_service.next_actions([p.id for p in rows]))


@bp.route("/prospects/new", methods=["GET", "POST"])
@require("prospects.edit")
def new():
    form = ContactForm()
    user = current_user._get_current_object()
    if may_assign_to_others(user):
        form.owner.choices = staff_choices()
        if request.method == "GET":
            form.owner.data = str(user.id)
    else:  # the lead's rule: a secretary's new contacts are hers (the field is not shown, not read)
        del form.owner
    if form.validate_on_submit():
        # Same phone, another name: NeedsDecision asks "same person?" (views/duplicates.py).
        contact = service.ContactInput(
            first_name=form.first_name.data or "", last_name=form.last_name.data or "",
            phone=form.phone.data or "", email=form.email.data, birth_date=form.birth_date.data,
            channel=form.channel.data, direction="in", qualification=form.qualification.data,
            temperature=form.temperature.data, note=form.note.data or "",
            origin_detail=form.origin_detail.data or "", owner=owner_by_id(form.owner.data) if form.owner else user)
        outcome, earlier = submissions.run_once(
            form.submission.data, user,
            lambda: service.record_contact(contact, user, **identity_answer(request.form)), service.outcome_ref)
        if outcome is None:  # the same form sent again: the contact is recorded once
            return htmx.render("prospects/created.html", "prospects/_created.html", outcome=None,
                               resent=service.record_of(earlier), from_board=from_board())
        response = htmx.render("prospects/created.html", "prospects/_created.html", outcome=outcome,
                               from_board=from_board())
        response.status_code = 201 if outcome.created else 200
        return htmx.set_headers(response, trigger=BOARD_CHANGED)
    status = 400 if request.method == "POST" else 200
    return htmx.render("prospects/new.html", "prospects/_contact_form.html", form=form), status


@bp.get("/prospects/<int:prospect_id>")
@require("prospects.view")
def show(prospect_id):
    prospect = get_prospect(prospect_id)
    audit("prospect.view", "prospect", prospect.id)
    return htmx.render("prospects/show.html", "prospects/_panel.html", prospect=prospect,
                       **record_context(prospect))


@bp.post("/prospects/<int:prospect_id>/interactions")
@require("prospects.edit")
def add_interaction(prospect_id):
    prospect = get_prospect(prospect_id)
    form = InteractionForm()
    form.action_code.choices = action_code_choices()
    status = 200
    if form.validate_on_submit():
        code = ActionCode.get_or_none(ActionCode.id == int(form.action_code.data)) \
            if form.action_code.data else None
        user = current_user._get_current_object()
        # Sent twice (a double click): the timeline below already shows the one entry it made.
        submissions.run_once(form.submission.data, user, lambda: service.add_interaction(
            prospect, channel=form.channel.data, direction=form.direction.data, note=form.note.data or "",
            user=user, action_code=code), lambda interaction: f"interaction:{interaction.id}")
        prospect = get_prospect(prospect_id)
        form = InteractionForm(formdata=None)  # an empty form (and a new key) for the next entry
    else:
        status = 400
    context = record_context(prospect, form)
    return htmx.render("prospects/show.html", "prospects/_activity.html", prospect=prospect,
                       **context), status


@bp.post("/prospects/<int:prospect_id>/temperature")
@require("prospects.classify")
def temperature(prospect_id):
    prospect = get_prospect(prospect_id)
    form = TemperatureForm()
    if form.validate_on_submit():
        service.change_temperature(prospect, form.temperature.data, form.reason.data,
                                   current_user._get_current_object())
        flash(_("Temperature changed."), "success")
    else:
        flash(_("Say why the temperature changes."), "error")
    if htmx.wants_fragment():  # from the board's side panel: stay there
        return htmx.render("prospects/show.html", "prospects/_panel.html", prospect=prospect,
                           **record_context(prospect))
    return redirect(url_for("prospects.show", prospect_id=prospect.id))


@bp.post("/prospects/<int:prospect_id>/consent")
@require("prospects.edit")
def consent(prospect_id):
    prospect = get_prospect(prospect_id)
    form = ConsentForm()
    if form.validate_on_submit():
        cancelled = service.set_do_not_contact(prospect, form.do_not_contact.data, form.reason.data or "",
                                               current_user._get_current_object())
        if form.do_not_contact.data:
            flash(_("Marked do not contact; %(n)d planned follow-ups cancelled.", n=cancelled), "success")
        else:
            flash(_("This person may be contacted again."), "success")
    return redirect(url_for("prospects.show", prospect_id=prospect.id))


@bp.route("/prospects/<int:prospect_id>/edit", methods=["GET", "POST"])
@require("prospects.edit")
def edit(prospect_id):
    prospect = get_prospect(prospect_id)
    form = ProspectForm(obj=prospect) if request.method == "GET" else ProspectForm()
    # The owner is shown and read only for a role that may reassign.
    reassigns = may_reassign(current_user)
    if reassigns:
        form.owner.choices = staff_choices()
    else:
        del form.owner
    if request.method == "GET":
        form.phone.data = prospect.phone_raw or prospect.phone or ""
        form.qualification.data = prospect.qualification or ""
        if reassigns:
            form.owner.data = str(prospect.owner_id or "")
    if form.validate_on_submit():
        changes = {name: getattr(form, name).data for name in service.EDITABLE}
        changes["qualification"] = changes["qualification"] or None
        changes["phone"] = form.phone.data or ""
        if reassigns and "owner" in request.form:  # "Unassigned" is a choice; a missing field is not
            changes["owner"] = owner_by_id(form.owner.data)
        service.update_identity(prospect, changes, current_user._get_current_object())
        flash(_("Changes saved."), "success")
        return redirect(url_for("prospects.show", prospect_id=prospect.id))
    status = 400 if request.method == "POST" else 200
    return render_template("prospects/edit.html", prospect=prospect, form=form), status
