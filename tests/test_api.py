"""The /api/v1 contract of DESIGN.md: prospects list/search, one, create with dedupe, interactions."""
import re

import pytest

from webapp.models import Interaction, Patient, Prospect, database
from webapp.services.tokens import create_token

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")
PROSPECT_KEYS = {"id", "first_name", "last_name", "phone", "email", "birth_date", "channel", "qualification",
                 "temperature", "activity_status", "stage", "outcome", "owner", "interaction_count",
                 "last_interaction_at", "next_action"}


@pytest.fixture
def api(any_app):
    with any_app.app_context(), database.connection_context():
        _, token = create_token("tests")
    client = any_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    class Api:
        app = any_app

        def get(self, url):
            return client.get(url, headers=headers)

        def post(self, url, json=None, data=None, content_type=None):
            return client.post(url, json=json, data=data, headers=headers, content_type=content_type)
    return Api()


AWA = {"first_name": "Awa", "last_name": "Diop", "phone": "77 123 45 67", "email": "awa@example.sn",
       "birth_date": "1992-03-14", "channel": "whatsapp", "qualification": "quote", "temperature": "hot",
       "note": "Demande les tarifs"}


def test_create_returns_201_with_the_contract_fields(api):
    response = api.post("/api/v1/prospects", json=AWA)
    assert response.status_code == 201
    body = response.get_json()
    assert PROSPECT_KEYS <= body.keys()
    assert body["phone"] == "+221771234567" and body["temperature"] == "hot" and body["outcome"] == "open"
    assert body["activity_status"] == "normal" and body["interaction_count"] == 1
    assert body["matched_on"] == [] and body["recorded_on"] == "prospect"
    assert ISO_WITH_OFFSET.match(body["last_interaction_at"])
    assert body["stage"]["name"] == "Nouveau"


def test_create_for_a_known_person_answers_200_with_what_matched(api):
    first = api.post("/api/v1/prospects", json=AWA).get_json()
    again = api.post("/api/v1/prospects", json={**AWA, "phone": "+221 77-123-45-67", "email": ""})
    assert again.status_code == 200
    body = again.get_json()
    assert body["id"] == first["id"] and body["matched_on"] == ["phone", "birth_date"]
    assert body["recorded_on"] == "prospect"
    assert body["interaction_count"] == 2


def test_create_for_a_patient_records_on_the_patient(api):
    with api.app.app_context(), database.connection_context():
        patient = Patient.create(first_name="Awa", last_name="Diop", email="awa@example.sn", external_id="E1")
    body = api.post("/api/v1/prospects", json={**AWA, "phone": ""}).get_json()
    assert body["recorded_on"] == "patient" and body["patient_id"] == patient.id
    assert body["matched_on"] == ["email"]
    with api.app.app_context(), database.connection_context():
        assert Prospect.select().count() == 0


def test_staff_form_and_api_share_one_dedupe(api, any_app):
    api.post("/api/v1/prospects", json=AWA)
    from tests.conftest import login
    from webapp.services.users import create_user
    with any_app.app_context(), database.connection_context():
        user = create_user("sec@clinic.test", "Sec", "secretary", "correct-horse-42")
    client = any_app.test_client()
    login(client, user)
    response = client.post("/prospects/new", data={"last_name": "Diop", "phone": "00221771234567",
                                                    "qualification": "quote", "temperature": "hot"})
    assert response.status_code == 200 and "Diop" in response.data.decode()
    with any_app.app_context(), database.connection_context():
        assert Prospect.select().count() == 1


def test_search_by_phone_in_any_form_email_and_accentless_name(api):
    api.post("/api/v1/prospects", json={**AWA, "first_name": "Ndèye", "last_name": "Ndiaye"})
    api.post("/api/v1/prospects", json={"last_name": "Fall", "phone": "78 000 00 01"})
    for query in ("phone=771234567", "phone=%2B221771234567", "email=awa@example.sn", "q=ndeye",
                  "q=NDIAYE", "q=77 123 45 67"):
        body = api.get(f"/api/v1/prospects?{query}").get_json()
        assert [p["last_name"] for p in body["items"]] == ["Ndiaye"], query
    assert api.get("/api/v1/prospects").get_json()["total"] == 2


def test_one_prospect_and_unknown_id(api):
    created = api.post("/api/v1/prospects", json=AWA).get_json()
    assert api.get(f"/api/v1/prospects/{created['id']}").get_json()["email"] == "awa@example.sn"
    missing = api.get("/api/v1/prospects/999999")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_backfilled_interaction_keeps_its_time_and_counts(api):
    created = api.post("/api/v1/prospects", json=AWA).get_json()
    response = api.post(f"/api/v1/prospects/{created['id']}/interactions",
                        json={"channel": "phone", "direction": "out", "action_code": "APL",
                              "note": "Rappel", "occurred_at": "2026-11-20T09:30:00+00:00"})
    assert response.status_code == 201
    assert response.get_json()["occurred_at"] == "2026-11-20T09:30:00+00:00"
    body = api.get(f"/api/v1/prospects/{created['id']}").get_json()
    assert body["interaction_count"] == 2 and body["actions_left"] == 14


def test_occurred_at_without_offset_is_read_in_the_business_timezone(api):
    created = api.post("/api/v1/prospects", json=AWA).get_json()
    response = api.post(f"/api/v1/prospects/{created['id']}/interactions",
                        json={"channel": "visit", "direction": "in", "occurred_at": "2026-11-20 10:00"})
    assert response.get_json()["occurred_at"] == "2026-11-20T10:00:00+00:00"  # Dakar is UTC+0


@pytest.mark.parametrize("payload, code", [
    ({"last_name": "X"}, "missing_field"),
    ({"last_name": "X", "phone": "77 1", "temperature": "boiling"}, "invalid_field"),
    ({"last_name": "X", "phone": "771234567", "birth_date": "14/13/1990"}, "invalid_field"),
    ({"last_name": ["X"], "phone": "771234567"}, "invalid_field"),
    ({"last_name": "X", "phone": "771234567", "owner_id": 9999}, "invalid_field"),
])
def test_bad_input_gets_a_json_4xx_and_stores_nothing(api, payload, code):
    response = api.post("/api/v1/prospects", json=payload)
    assert 400 <= response.status_code < 500 and response.get_json()["error"]["code"] == code
    with api.app.app_context(), database.connection_context():
        assert Prospect.select().count() == 0


def test_malformed_json_is_a_400(api):
    response = api.post("/api/v1/prospects", data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


def test_unknown_interaction_fields_are_refused(api):
    created = api.post("/api/v1/prospects", json=AWA).get_json()
    response = api.post(f"/api/v1/prospects/{created['id']}/interactions",
                        json={"channel": "pigeon", "direction": "in"})
    assert response.status_code == 422
    with api.app.app_context(), database.connection_context():
        assert Interaction.select().count() == 1


def test_missing_or_wrong_token_is_401(any_app):
    client = any_app.test_client()
    assert client.get("/api/v1/prospects").status_code == 401
    response = client.get("/api/v1/prospects", headers={"Authorization": "Bearer rl_wrong"})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_unknown_api_path_is_json_404(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
