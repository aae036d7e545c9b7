"""The JSON API's patient endpoints (issue 17): a patient system pushes its patients; integrations read
back what became of each one. Same blueprint, authentication, scopes and errors as `views.api`.

The source pushed to is named by `?source=SLUG` (an active `patient_push` or `patient_file` source), or is
the only such source when there is one: tokens are not tied to a source. A list is all or nothing: when
any item is wrong, every problem is listed (index, external_id, code, field, message) and nothing is
applied; applying is idempotent on (source, external_id), so the sender fixes and posts the list again.
"""
from flask import jsonify, request, url_for
from peewee import IntegrityError

from ..models import Patient, Source
from ..services import patient_sync
from ..services.audit import record as audit
from ..timeutil import isoformat
from .api import ApiError, bp, scope


class ItemsRefused(ApiError):
    """A push refused for what is wrong with its items, each listed (`items`)."""

    def __init__(self, code: str, message: str, items: list[dict]):
        super().__init__(422, code, message)
        self.items = items


@bp.errorhandler(ItemsRefused)
def _items_refused(error: ItemsRefused):
    return jsonify({"error": {"code": error.code, "message": error.message, "items": error.items}}), error.status


def _patient_source() -> Source:
    """The source named by `?source=`, or the only active push or file patient source."""
    slug = request.args.get("source", "").strip().lower()
    query = Source.select().where(Source.active & Source.type.in_(patient_sync.PUSH_TYPES))
    if slug:
        found = query.where(Source.slug == slug).first()
        if found is None:
            raise ApiError(422, "invalid_source", "source is not an active patient source (patient_push or "
                                                  "patient_file).")
        return found
    candidates = list(query.limit(2))
    if len(candidates) != 1:
        raise ApiError(422, "missing_source", "Name the patient source: ?source=SLUG.")
    return candidates[0]


@bp.post("/patients")
@scope("patients")
def push_patients():
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        data = None
    single = isinstance(data, dict)
    items = [data] if single else data
    if not isinstance(items, list) or not items:
        raise ApiError(400, "invalid_json", "The body must be a patient object or a non-empty list of them.")
    if len(items) > patient_sync.MAX_PUSH:
        raise ApiError(413, "too_many_items", f"At most {patient_sync.MAX_PUSH} patients per request.")
    source = _patient_source()
    try:
        records = patient_sync.push_records(items)
    except patient_sync.PushRefused as refusal:
        if single:
            first = refusal.items[0]
            raise ItemsRefused(first["code"], first["message"], refusal.items)
        raise ItemsRefused("invalid_items", f"{len(refusal.items)} problem(s): nothing was applied.", refusal.items)
    try:
        result = patient_sync.push(source, records)
    except IntegrityError:   # another push created one of these patients at the same instant
        raise ApiError(409, "conflict", "These patients changed during the request: send it again.")
    rows = {row.external_id: row for row in result.rows}
    patients = patient_sync.patients_by_external_id(source.slug, list(rows))
    if single:
        row = rows[records[0].external_id]
        patient = patients[records[0].external_id]
        body = {**patient_json(patient), "action": row.action, "outcome": row.outcome}
        return jsonify(body), 201 if row.action == "created" else 200
    summary = {name: getattr(result, name) for name in patient_sync.COUNTS}
    summary["items"] = [{"external_id": row.external_id, "id": patients[row.external_id].id,
                         "action": row.action, "outcome": row.outcome,
                         "converted_prospect_ids": row.converted, "review_prospect_ids": row.review,
                         "url": url_for("api.patient", patient_id=patients[row.external_id].id)}
                        for row in result.rows]
    return jsonify(summary), 200


def patient_json(patient: Patient) -> dict:
    converted, review = patient_sync.linked_prospects(patient)
    return {
        "id": patient.id,
        "source": patient.source,
        "external_id": patient.external_id,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "phones": patient_sync.phones_of(patient),
        "email": patient.email,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "provenance": patient.provenance,
        "admission_date": patient.admission_date.isoformat() if patient.admission_date else None,
        "created_at": isoformat(patient.created_at),
        "updated_at": isoformat(patient.updated_at),
        "converted_prospect_ids": converted,
        "review_prospect_ids": review,
        "url": url_for("api.patient", patient_id=patient.id),
    }


@bp.get("/patients")
@scope("patients")
def patients_list():
    external_id = request.args.get("external_id", "").strip()
    if not external_id or len(external_id) > 64:
        raise ApiError(400, "invalid_filter", "external_id is required (64 characters at most).")
    query = Patient.select().where(Patient.external_id == external_id)
    slug = request.args.get("source", "").strip().lower()
    if slug:
        query = query.where(Patient.source == slug)
    found = list(query.order_by(Patient.id).limit(50))
    for patient in found:   # who viewed which patient (SECURITY.md)
        audit("patient.view", "patient", patient.id, detail="api")
    return jsonify({"items": [patient_json(p) for p in found], "total": len(found)})


@bp.get("/patients/<int:patient_id>")
@scope("patients")
def patient(patient_id):
    found = Patient.get_or_none(Patient.id == patient_id)
    if found is None:
        raise ApiError(404, "not_found", "No patient with this id.")
    audit("patient.view", "patient", found.id, detail="api")
    return jsonify(patient_json(found))
