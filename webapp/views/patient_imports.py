"""Importing the patient system's export, for the follow-up lead and the manager: upload, a preview
of what will happen to each row (nothing written), then confirm (issue 17 §1).

The uploaded file waits on the server between the two steps (services.upload_stash), under a random
token only its uploader can use, and is deleted once applied.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..models import Source
from ..rules.numbers import parse_id
from ..security import require
from ..services import patient_sync as service
from ..services import upload_stash

bp = Blueprint("patient_imports", __name__, url_prefix="/patients/import")

OUTCOMES = {"converted": _l("Prospect converted"), "review": _l("To review by a person"),
            "unmatched": _l("New patient, no prospect"), "known": _l("Already known")}
ACTIONS = {"created": _l("New patient record"), "updated": _l("Patient record updated"),
           "unchanged": _l("Patient record unchanged")}


def _sources() -> list[Source]:
    return list(Source.select().where(Source.type.in_(service.FILE_TYPES) & Source.active).order_by(Source.name))


def _page(error: str | None = None, status: int = 200, **values):
    return render_template("patient_imports/index.html", sources=_sources(), error=error,
                           outcomes=OUTCOMES, actions=ACTIONS, **values), status


@bp.get("")
@require("patients.sync")
def index():
    return _page()


@bp.post("")
@require("patients.sync")
def preview():
    source = Source.get_or_none((Source.id == parse_id(request.form.get("source"))) & Source.type.in_(service.FILE_TYPES)
                                & Source.active) if parse_id(request.form.get("source")) else None
    upload = request.files.get("file")
    if source is None:
        return _page(_("Choose the patient source the file comes from."), 400)
    if upload is None or not upload.filename:
        return _page(_("Choose the file to import."), 400, chosen=source.id)
    data = upload.stream.read(service.MAX_UPLOAD + 1)
    summary = service.import_file(source, data, upload.filename, user=current_user._get_current_object(),
                                  dry_run=True)
    token = None
    if not summary.refused_lines:
        token = upload_stash.put(data, upload.filename, source.id, current_user.id)
    return _page(status=422 if summary.refused_lines else 200, source=source, summary=summary, token=token,
                 filename=upload.filename, chosen=source.id)


@bp.post("/confirm")
@require("patients.sync")
def confirm():
    token = request.form.get("token", "")
    if request.form.get("cancel"):
        if upload_stash.peek(token, current_user.id):
            upload_stash.drop(token)
        flash(_("Import cancelled: nothing was written."), "success")
        return redirect(url_for("patient_imports.index"))
    stashed = upload_stash.take(token, current_user.id)
    if stashed is None:
        return _page(_("This preview has expired or was already applied. Upload the file again."), 409)
    source = Source.get_or_none((Source.id == stashed.source_id) & Source.type.in_(service.FILE_TYPES) & Source.active)
    if source is None:
        abort(404)
    summary = service.import_file(source, stashed.data, stashed.filename, user=current_user._get_current_object())
    if summary.refused_lines:   # the source's column mapping changed since the preview
        return _page(status=422, source=source, summary=summary, filename=stashed.filename, chosen=source.id)
    flash(_("Import done. Rows read: %(read)s. Patients created: %(created)s; updated: %(updated)s. Prospects "
            "converted: %(converted)s; to review: %(review)s. New patients without a prospect: %(unmatched)s.",
            read=summary.rows_read, created=summary.patients_created, updated=summary.patients_updated,
            converted=summary.converted, review=summary.to_review, unmatched=summary.unmatched), "success")
    return redirect(url_for("patient_imports.index"))
