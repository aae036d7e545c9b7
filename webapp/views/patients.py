"""A patient's page: identity and the interactions recorded on the patient (patient first, seed 001)."""
from flask import Blueprint, render_template
from playhouse.flask_utils import get_object_or_404

from ..models import Patient
from ..security import require
from ..services import timeline
from ..services.audit import record as audit
from ..services.patient_sync import linked_prospects, phones_of

bp = Blueprint("patients", __name__)


@bp.get("/patients/<int:patient_id>")
@require("prospects.view")
def show(patient_id):
    patient = get_object_or_404(Patient, Patient.id == patient_id)
    audit("patient.view", "patient", patient.id)
    converted, review = linked_prospects(patient)
    return render_template("patients/show.html", patient=patient,
                           interactions=timeline.patient_interactions(patient.id),
                           unconfirmed=timeline.answers_not_confirmed(patient_id=patient.id),
                           phones=phones_of(patient), converted=converted, review=review)
