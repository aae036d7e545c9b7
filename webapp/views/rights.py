"""A person's rights over their data, for the manager: export everything held on a prospect as one
JSON file, or erase it (anonymised, counts kept). Both are audited without personal data."""
import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..forms import EraseForm
from ..security import require
from ..services import rights as service
from ..services.audit import record as audit
from ..timeutil import to_local, utcnow
from .record import get_prospect

bp = Blueprint("rights", __name__)


@bp.get("/prospects/<int:prospect_id>/export")
@require("prospects.rights")
def export(prospect_id):
    prospect = get_prospect(prospect_id)
    now = utcnow()
    data = service.export_person(prospect, now)
    audit("prospect.export", "prospect", prospect.id)
    day = to_local(now, current_app.config["TIMEZONE"]).date().isoformat()
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="prospect-{prospect.id}-{day}.json"'
    return response  # Cache-Control: no-store, as every staff page (security._headers)


@bp.route("/prospects/<int:prospect_id>/erase", methods=["GET", "POST"])
@require("prospects.rights")
def erase(prospect_id):
    prospect = get_prospect(prospect_id)
    form = EraseForm()
    if form.validate_on_submit():
        service.erase_person(prospect, current_user._get_current_object())
        flash(_("The person's data was erased. The record stays, anonymised, for the figures."), "success")
        return redirect(url_for("prospects.show", prospect_id=prospect.id))
    status = 400 if form.is_submitted() else 200
    return render_template("prospects/erase.html", prospect=prospect, form=form), status
