"""Settings: the manager's pipeline stages (add, rename, reorder, re-kind, retire, restore, delete).

Plain forms that work without JavaScript; every change is authorised first (`require`), made and
audited by `services.stages`, then answered with a redirect and a flash, or the page again with a
400 and the reason when a rule refuses it. The stage to change is a form field (`stage_id`), so each
action has one URL.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..models import Stage
from ..security import require
from ..services import stages as service
from ..services.stages import StageError

bp = Blueprint("settings", __name__, url_prefix="/settings")

KINDS = {"open": _l("Open"), "won": _l("Won"), "lost": _l("Lost")}


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


def _stages_page(error: str | None = None, form: dict | None = None, status: int = 200):
    stages = service.ordered_stages()
    return render_template(
        "settings/stages.html", error=error, form=form or {"kind": "open"}, kinds=KINDS,
        live=[s for s in stages if not s.retired], retired=[s for s in stages if s.retired],
        counts=service.prospect_counts(), used=service.used_stage_ids(), max_name=service.MAX_NAME,
    ), status


def _stage_from_form() -> Stage:
    value = request.form.get("stage_id", "")
    stage = Stage.get_or_none(Stage.id == int(value)) if value.isdigit() else None
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
    form = {"name": request.form.get("name", ""), "kind": request.form.get("kind", "")}
    try:
        stage = service.add_stage(form["name"], form["kind"])
    except StageError as error:
        return _stages_page(_refusal(error, name=form["name"].strip()), form=form, status=400)
    return _done(_("Stage “%(name)s” added.", name=stage.name))


@bp.post("/stages/rename")
@require("settings.workflow")
def rename_stage():
    stage = _stage_from_form()
    name = request.form.get("name", "")
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
    stage = _stage_from_form()
    direction = request.form.get("direction", "")
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
    stage = _stage_from_form()
    kind = request.form.get("kind", "")
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
    stage = _stage_from_form()
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
    stage = _stage_from_form()
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
    stage = _stage_from_form()
    try:
        service.delete_stage(stage)
    except StageError as error:
        return _stages_page(_refusal(error, stage), status=400)
    return _done(_("Stage “%(name)s” deleted.", name=stage.name))

