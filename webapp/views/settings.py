"""Settings: the manager's pipeline stages (add, rename, reorder, re-kind, retire, restore, delete), the
follow-up types, and the provenances patients state at admission.

Plain forms that work without JavaScript; every change is authorised first (`require`), made and
audited by `services.stages`, then answered with a redirect and a flash, or the page again with a
400 and the reason when a rule refuses it. The stage to change is a form field (`stage_id`), so each
action has one URL.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from playhouse.flask_utils import get_object_or_404

from ..forms import NewStageForm, ProvenancesForm, StaffForm, StageForm, TypeForm
from ..models import FollowUpType, Stage
from ..rules.numbers import parse_id
from ..security import require
from ..services import followup_types as types_service
from ..services import provenances
from ..services import stages as service
from ..services.followup_types import FollowUpTypeError
from ..services.stages import StageError
from ..vocabulary import FOLLOWUP_ACTIONS, STAGE_KINDS

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _stages_page(error: str | None = None, form: NewStageForm | None = None, status: int = 200):
    stages = service.ordered_stages()
    return render_template(
        "settings/stages.html", error=error, form=form or NewStageForm(formdata=None), kinds=STAGE_KINDS,
        stage_form=lambda stage: StageForm(formdata=None, name=stage.name, kind=stage.kind),
        live=[s for s in stages if not s.retired], retired=[s for s in stages if s.retired],
        counts=service.prospect_counts(), used=service.used_stage_ids(),
    ), status


@bp.errorhandler(StageError)
def _stage_refused(refusal: StageError):
    """A refused stage change: the page again, with the reason (and the new stage's form as posted)."""
    form = NewStageForm() if request.endpoint == "settings.add_stage" else None
    return _stages_page(refusal.message, form=form, status=refusal.status)


def _stage_of(form: StageForm) -> Stage:
    """The stage a row's posted form names (or a 404)."""
    return get_object_or_404(Stage, Stage.id == parse_id(form.stage_id.data))


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
    stage = service.add_stage(form.name.data or "", form.kind.data or "")
    return _done(_("Stage “%(name)s” added.", name=stage.name))


@bp.post("/stages/rename")
@require("settings.workflow")
def rename_stage():
    form = StageForm()
    stage = _stage_of(form)
    changed = service.rename_stage(stage, form.name.data or "")
    if not changed:
        return redirect(url_for("settings.stages"))
    return _done(_("Stage renamed to “%(name)s”.", name=stage.name))


@bp.post("/stages/move")
@require("settings.workflow")
def move_stage():
    form = StageForm()
    stage = _stage_of(form)
    direction = form.direction.data or ""
    service.move_stage(stage, direction)
    if direction == "up":
        return _done(_("“%(name)s” moved up.", name=stage.name))
    return _done(_("“%(name)s” moved down.", name=stage.name))


@bp.post("/stages/kind")
@require("settings.workflow")
def set_kind():
    form = StageForm()
    stage = _stage_of(form)
    kind = form.kind.data or ""
    changed = service.set_kind(stage, kind)
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
    changed = service.retire_stage(stage)
    if not changed:
        return redirect(url_for("settings.stages"))
    return _done(_("“%(name)s” is retired: it no longer shows on the board.", name=stage.name))


@bp.post("/stages/restore")
@require("settings.workflow")
def restore_stage():
    stage = _stage_of(StageForm())
    changed = service.restore_stage(stage)
    if not changed:
        return redirect(url_for("settings.stages"))
    return _done(_("“%(name)s” is back on the board.", name=stage.name))


@bp.post("/stages/delete")
@require("settings.workflow")
def delete_stage():
    stage = _stage_of(StageForm())
    service.delete_stage(stage)
    return _done(_("Stage “%(name)s” deleted.", name=stage.name))


# -- follow-up types (seed 002) -----------------------------------------------------------------


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
        actions=FOLLOWUP_ACTIONS, active=active, inactive=[t for t in types if not t.active],
        action_form=StaffForm(formdata=None),
    ), status


@bp.errorhandler(FollowUpTypeError)
def _type_refused(refusal: FollowUpTypeError):
    """A refused type change: the page again, with the reason (and the new type's form as posted)."""
    form = TypeForm() if request.endpoint == "settings.add_followup_type" else None
    return _types_page(refusal.message, form=form, status=refusal.status)


def _type_of(form: TypeForm) -> FollowUpType:
    """The follow-up type a card's posted form names (or a 404)."""
    return get_object_or_404(FollowUpType, FollowUpType.id == parse_id(form.type_id.data))


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
    fields = TypeForm().values()
    followup_type = types_service.create_type(fields["name"], fields["description"], fields["first_step"],
                                              fields["action"], fields["next"])
    return _types_done(_("Follow-up type “%(name)s” added.", name=followup_type.name))


@bp.post("/followup-types/update")
@require("settings.workflow")
def update_followup_type():
    form = TypeForm()
    followup_type = _type_of(form)
    fields = form.values()
    changed = types_service.update_type(followup_type, fields["name"], fields["description"],
                                        fields["first_step"], fields["action"], fields["next"])
    if not changed:
        return redirect(url_for("settings.followup_types"))
    return _types_done(_("Follow-up type “%(name)s” saved.", name=followup_type.name))


@bp.post("/followup-types/deactivate")
@require("settings.workflow")
def deactivate_followup_type():
    followup_type = _type_of(TypeForm())
    changed = types_service.deactivate_type(followup_type)
    if not changed:
        return redirect(url_for("settings.followup_types"))
    return _types_done(_("“%(name)s” is deactivated: it is no longer offered.", name=followup_type.name))


@bp.post("/followup-types/reactivate")
@require("settings.workflow")
def reactivate_followup_type():
    followup_type = _type_of(TypeForm())
    changed = types_service.reactivate_type(followup_type)
    if not changed:
        return redirect(url_for("settings.followup_types"))
    return _types_done(_("“%(name)s” is offered again.", name=followup_type.name))


def _provenances_page(form: ProvenancesForm | None = None, error: str | None = None, status: int = 200):
    form = form or ProvenancesForm(formdata=None, entries="\n".join(provenances.choices()))
    return render_template("settings/provenances.html", form=form, error=error, stated=provenances.stated(),
                           max_entries=provenances.MAX_ENTRIES), status


@bp.get("/provenances")
@require("settings.workflow")
def provenances_page():
    return _provenances_page()


@bp.post("/provenances")
@require("settings.workflow")
def save_provenances():
    form = ProvenancesForm()
    try:
        entries = provenances.save(form.entries.data or "", current_user._get_current_object())
    except provenances.ProvenanceError as refusal:
        form.entries.errors = [refusal.message]
        return _provenances_page(form, refusal.message, refusal.status)
    flash(ngettext("%(num)d provenance saved.", "%(num)d provenances saved.", len(entries)), "success")
    return redirect(url_for("settings.provenances_page"))
