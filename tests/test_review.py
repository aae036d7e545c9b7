"""The review screen of reconciliation (issue 17, §2-3): the lead and the manager see each uncertain match side
by side, confirm (converts) or reject in one click, and undo; other roles do not see it."""
import re
from datetime import date, datetime

import pytest

from integrations.contract import PatientRecord
from tests.conftest import PASSWORD, make_app
from webapp.models import AuditEvent, PatientMatch, Prospect, Stage, database
from webapp.services import reconcile

NOW = datetime(2026, 12, 1, 10, 0)
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def mother_and_child(db):
    """The mother's prospect; her child admitted as a patient with the mother's number: to review."""
    def run():
        stage = Stage.select().where(Stage.kind == "open").order_by(Stage.position).first()
        mother = Prospect.create(first_name="Awa", last_name="Diallo", phone="+221771234567",
                                 phone_raw="77 123 45 67", birth_date=date(1990, 3, 2), stage=stage)
        reconcile.apply("dossiers", [PatientRecord("C-7", "Fatou", "Diallo", ("77 123 45 67",),
                                                   birth_date=date(2024, 5, 1), provenance="Facebook")], now=NOW)
        return mother, PatientMatch.get()
    return db(run)


@pytest.mark.parametrize("role, allowed", [("lead", True), ("manager", True), ("secretary", False),
                                           ("admin", False)])
def test_only_the_lead_and_the_manager_review(db, as_role, role, allowed):
    _, match = mother_and_child(db)
    client = as_role(role)
    page = client.get("/reconciliation")
    assert page.status_code == (200 if allowed else 403)
    assert client.post(f"/reconciliation/{match.id}/confirm").status_code == (302 if allowed else 403)
    assert db(lambda: PatientMatch.get_by_id(match.id).state) == ("confirmed" if allowed else "open")
    home = client.get("/prospects").data.decode() if role != "admin" else client.get("/admin/users").data.decode()
    assert ('href="/reconciliation"' in home) is allowed


def test_the_queue_shows_both_records_side_by_side_with_why_it_is_uncertain(db, as_role):
    mother, match = mother_and_child(db)
    client = as_role("lead")
    client.post("/language", data={"locale": "fr"})
    html = client.get("/reconciliation").data.decode()
    for text in ("Fatou", "Awa", "Diallo", "C-7", "Facebook", "02/03/1990", "01/05/2024"):
        assert text in html, text
    assert f'id="match-{match.id}"' in html and f'hx-post="/reconciliation/{match.id}/confirm"' in html
    assert 'name="csrf_token"' in html
    assert db(lambda: AuditEvent.select().where(AuditEvent.action == "patient.view",
                                                AuditEvent.record_id == match.patient_id).exists())
    assert re.search(r'nav-count">1<', html)


def test_one_click_confirm_converts_and_undo_restores_with_htmx(db, as_role):
    mother, match = mother_and_child(db)
    client = as_role("lead")
    response = client.post(f"/reconciliation/{match.id}/confirm", headers=HTMX)
    assert response.status_code == 200
    fragment = response.data.decode()
    assert fragment.lstrip().startswith("<article") and f"/reconciliation/{match.id}/undo" in fragment
    after = db(lambda: Prospect.get_by_id(mother.id))
    assert after.outcome == "won" and after.patient_id == match.patient_id and after.provenance == "Facebook"
    response = client.post(f"/reconciliation/{match.id}/undo", headers=HTMX)
    assert response.status_code == 200
    assert db(lambda: (Prospect.get_by_id(mother.id).outcome, PatientMatch.get_by_id(match.id).state)) == \
        ("open", "undone")
    again = client.post(f"/reconciliation/{match.id}/confirm", headers=HTMX)
    assert again.status_code == 200 and db(lambda: Prospect.get_by_id(mother.id).outcome) == "open"


def test_reject_then_undo_puts_it_back_in_the_queue(db, as_role):
    mother, match = mother_and_child(db)
    client = as_role("manager")
    assert client.post(f"/reconciliation/{match.id}/reject", data={"note": "sa fille"}).status_code == 302
    assert db(lambda: (PatientMatch.get_by_id(match.id).state, PatientMatch.get_by_id(match.id).note)) == \
        ("rejected", "sa fille")
    client.post(f"/reconciliation/{match.id}/undo")
    assert db(lambda: PatientMatch.get_by_id(match.id).state) == "open"
    assert db(lambda: Prospect.get_by_id(mother.id).outcome) == "open"
    assert client.get(f"/reconciliation/{match.id}").status_code == 200
    assert client.get("/reconciliation/999999").status_code == 404


def test_a_post_without_csrf_token_is_refused(sqlite_url):
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    from webapp.services.users import create_user
    with app.test_request_context(), database.connection_context():
        create_user("lead@clinic.test", "Lead", "lead", PASSWORD)
        stage = Stage.select().where(Stage.kind == "open").order_by(Stage.position).first()
        Prospect.create(first_name="Awa", last_name="Diallo", phone="+221771234567", stage=stage)
        reconcile.apply("dossiers", [PatientRecord("C-7", "Fatou", "Diallo", ("77 123 45 67",))], now=NOW)
        match_id = PatientMatch.get().id
    client = app.test_client()
    token = re.search(rb'name="csrf-token" content="([^"]+)"', client.get("/login").data).group(1).decode()
    client.post("/login", data={"email": "lead@clinic.test", "password": PASSWORD, "csrf_token": token})
    assert client.post(f"/reconciliation/{match_id}/confirm", headers=HTMX).status_code == 400
    with app.app_context(), database.connection_context():
        assert PatientMatch.get_by_id(match_id).state == "open"
