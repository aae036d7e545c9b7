"""The patient push API of DESIGN's contract: `POST /api/v1/patients` (one object or a list), idempotent
on (source, external_id), errors per item and nothing half-applied; the GETs with the prospects each
patient converted or waits to be compared with, every read audited (issue 17 §1)."""
from datetime import datetime

import pytest

from webapp.models import AuditEvent, Patient, Prospect, Source, Stage, database
from webapp.services.tokens import create_token

AWA = {"external_id": "D-100", "first_name": "Awa", "last_name": "Diop", "phones": ["77 123 45 67"],
       "email": "awa@example.sn", "birth_date": "1992-03-14", "provenance": "Facebook",
       "admission_date": "2026-11-02"}


@pytest.fixture
def api(any_app):
    with any_app.app_context(), database.connection_context():
        _, token = create_token("his", scopes=["patients"])
        _, other = create_token("reader", scopes=["prospects:read"])
        Source.create(slug="his", type="patient_push", name="HIS")
        stage = Stage.select().where(Stage.kind == "open").order_by(Stage.position).first()
        awa = Prospect.create(first_name="Awa", last_name="Diop", phone="+221771234567", phone_raw="771234567",
                              stage=stage, outcome="open", created_at=datetime(2026, 10, 1))
    client = any_app.test_client()

    class Api:
        app = any_app
        prospect_id = awa.id

        def get(self, url, token=token):
            return client.get(url, headers={"Authorization": f"Bearer {token}"})

        def post(self, url, json=None, token=token, data=None):
            return client.post(url, json=json, data=data, content_type=None if json is not None else "application/json",
                               headers={"Authorization": f"Bearer {token}"})

        def read(self, query):
            with any_app.app_context(), database.connection_context():
                return query()
    Api.other_token = other
    return Api()


def test_one_patient_is_created_then_the_same_push_changes_nothing(api):
    first = api.post("/api/v1/patients", json=AWA)
    assert first.status_code == 201
    body = first.get_json()
    assert body["external_id"] == "D-100" and body["source"] == "his"
    assert body["phones"] == ["+221771234567"] and body["birth_date"] == "1992-03-14"
    assert body["action"] == "created" and body["outcome"] == "converted"
    assert body["converted_prospect_ids"] == [api.prospect_id] and body["review_prospect_ids"] == []
    again = api.post("/api/v1/patients", json=AWA)
    assert again.status_code == 200 and again.get_json()["action"] == "unchanged"
    assert again.get_json()["id"] == body["id"]
    assert api.read(lambda: Patient.select().count()) == 1


def test_a_single_phone_field_is_accepted(api):
    body = api.post("/api/v1/patients", json={"external_id": "D-7", "last_name": "Sow",
                                              "phone": "+33 6 12 34 56 78"}).get_json()
    assert body["phones"] == ["+33612345678"]


def test_a_list_is_applied_with_a_summary_and_each_item(api):
    items = [AWA, {"external_id": "D-101", "first_name": "Moussa", "last_name": "Ba", "phones": ["76 555 44 33"]}]
    response = api.post("/api/v1/patients", json=items)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["rows_read"], body["patients_created"], body["converted"], body["unmatched"]) == (2, 2, 1, 1)
    assert [(i["external_id"], i["outcome"]) for i in body["items"]] == [("D-100", "converted"),
                                                                         ("D-101", "unmatched")]
    assert api.post("/api/v1/patients", json=items).get_json()["patients_created"] == 0


def test_a_list_with_bad_items_lists_each_and_applies_nothing(api):
    items = [AWA, {"external_id": "D-2", "last_name": "Ba", "phones": ["12"]},
             {"first_name": "X", "birth_date": "31/02/1990"}, "nope", {**AWA}]
    response = api.post("/api/v1/patients", json=items)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_items"
    assert [(i["index"], i["code"], i["field"]) for i in error["items"]] == [
        (1, "invalid_field", "phones"), (2, "missing_field", "external_id"),
        (2, "invalid_field", "birth_date"), (3, "invalid_item", None), (4, "duplicate_item", "external_id")]
    assert api.read(lambda: Patient.select().count()) == 0
    assert api.read(lambda: Prospect.get_by_id(api.prospect_id).outcome) == "open"


@pytest.mark.parametrize("body,status,code", [
    ({**AWA, "email": "awa@"}, 422, "invalid_field"),
    ({**AWA, "external_id": ""}, 422, "missing_field"),
    ({**AWA, "first_name": 12}, 422, "invalid_field"),
    ({**AWA, "phones": "77 123 45 67"}, 422, "invalid_field"),
    ({**AWA, "external_id": "x" * 65}, 422, "invalid_field"),
    ({**AWA, "last_name": "a\x00b"}, 422, "invalid_field"),
    ([], 400, "invalid_json"),
    ("text", 400, "invalid_json"),
])
def test_a_bad_object_is_a_json_error_and_nothing_is_written(api, body, status, code):
    response = api.post("/api/v1/patients", json=body)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert api.read(lambda: Patient.select().count()) == 0


def test_broken_json_is_a_400_never_a_500(api):
    response = api.post("/api/v1/patients", data=b'{"external_id": "D-1", ')
    assert response.status_code == 400


def test_the_source_is_named_or_the_only_one(api):
    with api.app.app_context(), database.connection_context():
        Source.create(slug="lab", type="patient_push", name="Lab")
    assert api.post("/api/v1/patients", json=AWA).get_json()["error"]["code"] == "missing_source"
    assert api.post("/api/v1/patients?source=webform", json=AWA).get_json()["error"]["code"] == "invalid_source"
    response = api.post("/api/v1/patients?source=lab", json=AWA)
    assert response.status_code == 201 and response.get_json()["source"] == "lab"
    # the same external_id in another source is another patient
    assert api.post("/api/v1/patients?source=his", json=AWA).status_code == 201


def test_a_token_without_the_patients_scope_is_refused(api):
    assert api.post("/api/v1/patients", json=AWA, token=api.other_token).status_code == 403
    assert api.get("/api/v1/patients/1", token=api.other_token).status_code == 403
    assert api.read(lambda: Patient.select().count()) == 0


def test_get_by_external_id_and_by_id_gives_the_linked_prospects_and_is_audited(api):
    created = api.post("/api/v1/patients", json=AWA).get_json()
    listed = api.get("/api/v1/patients?external_id=D-100").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == created["id"]
    one = api.get(f"/api/v1/patients/{created['id']}").get_json()
    assert one["converted_prospect_ids"] == [api.prospect_id]
    assert api.get("/api/v1/patients/999999").status_code == 404
    assert api.get("/api/v1/patients").status_code == 400
    views = api.read(lambda: list(AuditEvent.select().where(AuditEvent.action == "patient.view")))
    assert [(v.record_id, v.actor_label.split()[-1]) for v in views] == [(created["id"], "his")] * 2


def test_a_patient_waiting_for_review_lists_the_prospect(api):
    body = api.post("/api/v1/patients", json={**AWA, "first_name": "Fatou", "last_name": "Sarr",
                                              "email": None, "birth_date": None}).get_json()
    assert body["converted_prospect_ids"] == [] and body["review_prospect_ids"] == [api.prospect_id]
    assert body["outcome"] == "review"


def test_the_patient_page_shows_its_numbers_and_the_prospect_it_became(api):
    from tests.conftest import login
    response = api.post("/api/v1/patients", json={**AWA, "phones": ["77 123 45 67", "+33 6 12 34 56 78"]})
    created = response.get_json()
    assert response.status_code == 201, created
    with api.app.app_context(), database.connection_context():
        from webapp.services.users import create_user
        lead = create_user("lead-page@clinic.test", "Lead", "lead", "correct-horse-42")
    client = api.app.test_client()
    login(client, lead)
    page = client.get(f"/patients/{created['id']}").data.decode()
    assert "D-100" in page and f"/prospects/{api.prospect_id}" in page and "+33 6 12 34 56 78" in page
