"""Settings: the manager's pipeline stages (add, rename, reorder, re-kind, retire, restore, delete).

Plain forms that work without JavaScript; every change is authorised first (`require`), made and
audited by `services.stages`, then answered with a redirect and a flash, or the page again with a
400 and the reason when a rule refuses it. The stage to change is a form field (`stage_id`), so each
action has one URL.
"""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..forms import NewStageForm, StaffForm, StageForm, TypeForm
from ..forms.settings import ACTIONS, KINDS
from ..models import FollowUpType, Stage
from ..rules.numbers import parse_id
from ..security import require
from ..services import followup_types as types_service
from ..services import stages as service
from ..services.followup_types import FollowUpTypeError
from ..services.stages import StageError

bp = Blueprint("settings", __name__, url_prefix="/settings")

def _refusal(error: StageError, stage: Stage | None = None, name: str = "") -> str:
    """The person's words for a refused change."""
    name = stage.name if stage is not None else name
    code, n = error.code, error.count
    if code == "holds_open":
        return ngettext("%(num)d open prospect is still in “%(name)s”: move it to another stage "
                        "before retiring this one.",
                        "%(num)d open prospects are still in “%(name)s”: move them to another stage "
                        "before retiring this one.", n, name=name)
    if code == "kind_in_use":
        return ngettext("%(num)d prospect in “%(name)s” would no longer match the stage's kind: "
                        "move it to another stage first.",
                        "%(num)d prospects in “%(name)s” would no longer match the stage's kind: "
                        "move them to another stage first.", n, name=name)
    return {
        "name_required": _("Give the stage a name."),
        "name_too_long": _("A stage name has at most %(n)d characters.", n=service.MAX_NAME),
        "name_taken": _("Another stage is already called “%(name)s”.", name=name),
        "unknown_kind": _("Choose whether the stage is open, won or lost."),
        "unknown_direction": _("Choose whether to move the stage up or down."),
        "at_edge": _("“%(name)s” cannot move further that way.", name=name),
        "retired": _("Restore “%(name)s” before moving it.", name=name),
        "last_open": _("At least one open stage must remain: new prospects land in the first one."),
        "last_won": _("At least one won stage must remain: the board needs it."),
        "last_lost": _("At least one lost stage must remain: the board needs it."),
        "in_use": _("Prospects have been in “%(name)s”, so it cannot be deleted: retire it instead.",
                    name=name),
    }.get(code, _("This change is not possible."))


def _stages_page(error: str | None = None, form: NewStageForm | None = None, status: int = 200):
    stages = service.ordered_stages()
    return render_template(
        "settings/stages.html", error=error, form=form or NewStageForm(formdata=None), kinds=KINDS,
        stage_form=lambda stage: StageForm(formdata=None, name=stage.name, kind=stage.kind),
        live=[s for s in stages if not s.retired], retired=[s for s in stages if s.retired],
        counts=service.prospect_counts(), used=service.used_stage_ids(),
    ), status


def _stage_of(form: StageForm) -> Stage:
    """The stage a row's posted form names (or a 404)."""
    value = form.stage_id.data or ""
    stage = Stage.get_or_none(Stage.id == parse_id(value)) if parse_id(value) else None
    if stage is None:
        abort(404)
    return stage


def _done(message: str):
    flash(message, "success")
    return redirect(url_for("settings.stages"))


@bp.get("/stages")
@require("settings.workflow")
def stages():
    return _stages_page()


@bp.post("/stages")
@require("settings.workflow")
def add_stage():
    form = NewStageForm()
    name = form.name.data or ""
    try:
        stage = service.add_stage(name, form.kind.data or "")
    except StageError as error:
        return _stages_page(_refusal(error, name=name.strip()), form=form, status=400)
    return _done(_("Stage “%(name)s” added.", name=stage.name))


@bp.post("/stages/rename")
@require("settings.workflow")
def rename_stage():
    form = StageForm()
    stage = _stage_of(form)
    name = form.name.data or ""
    try:
        changed = service.rename_stage(stage, name)
    except StageError as error:
        return _stages_page(_refusal(error, name=name.strip()), status=400)
    if not changed:
        return redirect(url_for("settings.stages"))
    return _done(_("Stage renamed to “%(name)s”.", name=stage.name))


@bp.post("/stages/move")
@require("settings.workflow")
def move_stage():
    form = StageForm()
    stage = _stage_of(form)
    direction = form.direction.data or ""
    try:
        service.move_stage(stage, direction)
    except StageError as error:
        return _stages_page(_refusal(error, stage), status=400)
    if direction == "up":
        return _done(_("“%(name)s” moved up.", name=stage.name))
    return _done(_("“%(name)s” moved down.", name=stage.name))


@bp.post("/stages/kind")
@require("settings.workflow")
def set_kind():
    form = StageForm()
    stage = _stage_of(form)
    kind = form.kind.data or ""
    try:
        changed = service.set_kind(stage, kind)
    except StageError as error:
        return _stages_page(_refusal(error, stage), status=400)
    if not changed:
        return redirect(url_for("settings.stages"))
    return _done({
        "open": _("“%(name)s” is now an open stage.", name=stage.name),
        "won": _("“%(name)s” is now a won stage.", name=stage.name),
        "lost": _("“%(name)s” is now a lost stage.", name=stage.name),
    }[kind])


@bp.post("/stages/retire")
@require("settings.workflow")
def retire_stage():
    stage = _stage_of(StageForm())
    try:
        changed = service.retire_stage(stage)
    except StageError as error:
        return _stages_page(_refusal(error, stage), status=400)
    if not changed:
        return redirect(url_for("settings.stages"))
    return _done(_("“%(name)s” is retired: it no longer shows on the board.", name=stage.name))


@bp.post("/stages/restore")
@require("settings.workflow")
def restore_stage():
    stage = _stage_of(StageForm())
    try:
        changed = service.restore_stage(stage)
    except StageError as error:
        return _stages_page(_refusal(error, stage), status=400)
    if not changed:
        return redirect(url_for("settings.stages"))
    return _done(_("“%(name)s” is back on the board.", name=stage.name))


@bp.post("/stages/delete")
@require("settings.workflow")
def delete_stage():
    stage = _stage_of(StageForm())
    try:
        service.delete_stage(stage)
    except StageError as error:
        return _stages_page(_refusal(error, stage), status=400)
    return _done(_("Stage “%(name)s” deleted.", name=stage.name))



# -- follow-up types (seed 002) -----------------------------------------------------------------

def _type_refusal(error: FollowUpTypeError, name: str = "") -> str:
    """The person's words for a refused follow-up type change."""
    return {
        "name_required": _("Give the follow-up type a name."),
        "name_too_long": _("A follow-up type name has at most %(n)d characters.", n=types_service.MAX_NAME),
        "name_taken": _("Another follow-up type is already called “%(name)s”.", name=name),
        "description_too_long": _("A description has at most %(n)d characters.",
                                  n=types_service.MAX_DESCRIPTION),
        "unknown_action": _("Choose the action: none, trial session or sales appointment."),
        "self_next": _("A follow-up type cannot come next after itself."),
        "unknown_next": _("Choose the next types among the active follow-up types."),
        "inactive": _("Reactivate “%(name)s” before editing it.", name=name),
        "last_first_step": _("At least one active first-step type must remain: "
                             "a follow-up workflow starts with one."),
    }.get(error.code, _("This change is not possible."))


def _types_page(error: str | None = None, form: TypeForm | None = None, status: int = 200):
    types = types_service.ordered_types()
    active = [t for t in types if t.active]
    links = types_service.next_ids()
    choices = [(str(t.id), t.name) for t in active]

    def type_form(followup_type: FollowUpType | None = None, posted: TypeForm | None = None) -> TypeForm:
        """An active type's card (its values), or the new-type form (empty, or as posted)."""
        if posted is not None:
            row = posted
        elif followup_type is None:
            row = TypeForm(formdata=None)
        else:
            row = TypeForm(formdata=None, obj=followup_type,
                           next=[str(i) for i in links.get(followup_type.id, ())])
        row.next.choices = choices
        return row

    return render_template(
        "settings/followup_types.html", error=error, form=type_form(posted=form), type_form=type_form,
        actions=ACTIONS, active=active, inactive=[t for t in types if not t.active],
        action_form=StaffForm(formdata=None),
    ), status


def _type_of(form: TypeForm) -> FollowUpType:
    """The follow-up type a card's posted form names (or a 404)."""
    value = form.type_id.data or ""
    followup_type = FollowUpType.get_or_none(FollowUpType.id == parse_id(value)) if parse_id(value) else None
    if followup_type is None:
        abort(404)
    return followup_type


def _types_done(message: str):
    flash(message, "success")
    return redirect(url_for("settings.followup_types"))


@bp.get("/followup-types")
@require("settings.workflow")
def followup_types():
    return _types_page()


@bp.post("/followup-types")
@require("settings.workflow")
def add_followup_type():
    form = TypeForm()
    fields = form.values()
    try:
        followup_type = types_service.create_type(fields["name"], fields["description"], fields["first_step"],
                                                  fields["action"], fields["next"])
    except FollowUpTypeError as error:
        return _types_page(_type_refusal(error, " ".join(fields["name"].split())), form=form, status=400)
    return _types_done(_("Follow-up type “%(name)s” added.", name=followup_type.name))


@bp.post("/followup-types/update")
@require("settings.workflow")
def update_followup_type():
    form = TypeForm()
    followup_type = _type_of(form)
    fields = form.values()
    try:
        changed = types_service.update_type(followup_type, fields["name"], fields["description"],
                                            fields["first_step"], fields["action"], fields["next"])
    except FollowUpTypeError as error:
        name = " ".join(fields["name"].split()) if error.code == "name_taken" else followup_type.name
        return _types_page(_type_refusal(error, name), status=400)
    if not changed:
        return redirect(url_for("settings.followup_types"))
    return _types_done(_("Follow-up type “%(name)s” saved.", name=followup_type.name))


@bp.post("/followup-types/deactivate")
@require("settings.workflow")
def deactivate_followup_type():
    followup_type = _type_of(TypeForm())
    try:
        changed = types_service.deactivate_type(followup_type)
    except FollowUpTypeError as error:
        return _types_page(_type_refusal(error, followup_type.name), status=400)
    if not changed:
        return redirect(url_for("settings.followup_types"))
    return _types_done(_("“%(name)s” is deactivated: it is no longer offered.", name=followup_type.name))


@bp.post("/followup-types/reactivate")
@require("settings.workflow")
def reactivate_followup_type():
    followup_type = _type_of(TypeForm())
    try:
        changed = types_service.reactivate_type(followup_type)
    except FollowUpTypeError as error:
        return _types_page(_type_refusal(error, followup_type.name), status=400)
    if not changed:
        return redirect(url_for("settings.followup_types"))
    return _types_done(_("“%(name)s” is offered again.", name=followup_type.name))
