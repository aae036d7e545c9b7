"""Demandes à traiter (issue 7): the lead's triage queue, the failed and spam queues, the raw view."""
import json
from html import unescape

import pytest

from webapp.models import AuditEvent, FollowUp, InboundRequest, Interaction, Patient, Prospect
from webapp.services import intake
from webapp.services.prospects import ContactInput, record_contact
from webapp.services.sources import create_source, update_source
from webapp.services.tokens import create_token

AWA = {"prenom": "Awa", "nom": "Ndiaye", "tel": "77 123 45 67", "demande": "rdv",
       "message": "Je voudrais un rendez-vous", "ville": "Thiès"}
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


@pytest.fixture
def source(db):
    return db(lambda: create_source("site-web", "webform", "Site web"))


@pytest.fixture
def receive(app, db, source):
    """Post to the public endpoint as the website would, then process as the worker would: the id."""
    outside = app.test_client()

    def send(data=None, process=True, **kwargs):
        answer = outside.post("/intake/site-web", data=data if data is not None else AWA, **kwargs)
        assert answer.status_code in (202, 303, 400, 401, 403, 422), answer.data
        request_id = db(lambda: InboundRequest.select().order_by(InboundRequest.id.desc()).get().id)
        if process:
            db(lambda: intake.process(request_id))
        return request_id
    return send


@pytest.fixture
def lead(as_role):
    return as_role("lead")


def stored(db, request_id) -> InboundRequest:
    return db(lambda: InboundRequest.get_by_id(request_id))


def known_prospect(db, phone="+221 77 123 45 67", last_name="Ndiaye"):
    return db(lambda: record_contact(ContactInput(first_name="Awa", last_name=last_name, phone=phone), None).prospect)


# --- the queue --------------------------------------------------------------------------------------

def test_the_queue_shows_a_waiting_request_with_its_fields_and_the_prospect_it_may_be(lead, receive, db):
    prospect = known_prospect(db)
    request_id = receive()

    page = lead.get("/requests")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'id="request-{request_id}"' in html
    assert "Awa Ndiaye" in html and "77 123 45 67" in html and "Thiès" in html
    assert "Je voudrais un rendez-vous" in html and "RDV" in html  # qualification label
    assert f"/prospects/{prospect.id}" in html and "même numéro de téléphone" in html
    assert "Rattacher à Awa Ndiaye" in html and "Site web" in html


def test_a_patient_is_offered_before_a_prospect(lead, receive, db):
    prospect = known_prospect(db)
    patient = db(lambda: Patient.create(first_name="Awa", last_name="Ndiaye", phone="+221771234567",
                                        external_id="P1"))
    receive()

    html = lead.get("/requests").get_data(as_text=True)

    assert html.index(f"/patients/{patient.id}") < html.index(f"/prospects/{prospect.id}")


def test_the_nav_and_the_tabs_count_waiting_requests_in_figures(lead, receive):
    receive()
    receive({**AWA, "tel": "77 000 00 01"})

    html = lead.get("/requests").get_data(as_text=True)

    assert 'id="nav-requests-count">2<' in html
    assert "À traiter <span class=\"count\">2</span>" in html


def test_an_unknown_queue_is_a_400(lead):
    assert lead.get("/requests?queue=drop table").status_code == 400


# --- the one-click actions --------------------------------------------------------------------------

def test_one_click_creates_the_prospect_and_plans_its_first_answer(lead, receive, db):
    request_id = receive()

    answer = lead.post(f"/requests/{request_id}/create", data={"owner": str(lead.user.id)}, headers=HTMX)

    assert answer.status_code == 200
    prospect = db(lambda: Prospect.get(Prospect.last_name == "Ndiaye"))
    assert prospect.channel == "webform" and prospect.owner_id == lead.user.id
    request = stored(db, request_id)
    assert request.triage is False and request.prospect_id == prospect.id
    assert db(lambda: FollowUp.select().where((FollowUp.prospect == prospect.id)
                                              & (FollowUp.state == "planned")).exists())
    html = answer.get_data(as_text=True)
    assert "Prospect créé" in html and f"/prospects/{prospect.id}" in html
    assert 'hx-swap-oob="true"' in html and 'id="nav-requests-count" hx-swap-oob="true">0<' in html


def test_create_without_javascript_redirects_to_the_queue_with_a_message(lead, receive, db):
    request_id = receive()

    answer = lead.post(f"/requests/{request_id}/create", data={"owner": ""})

    assert answer.status_code == 302 and "/requests" in answer.location
    assert "Prospect créé" in lead.get(answer.location).get_data(as_text=True)
    assert stored(db, request_id).prospect_id is not None


def test_create_on_a_known_person_says_already_known(lead, receive, db):
    prospect = known_prospect(db)
    request_id = receive()

    html = lead.post(f"/requests/{request_id}/create", data={}, headers=HTMX).get_data(as_text=True)

    assert "Déjà connu" in html and f"/prospects/{prospect.id}" in html
    assert db(lambda: Prospect.select().count()) == 1


def test_attach_records_the_contact_on_the_chosen_prospect(lead, receive, db):
    prospect = known_prospect(db, phone="77 999 99 99")  # shares nothing: chosen by the lead
    request_id = receive()

    answer = lead.post(f"/requests/{request_id}/attach", data={"prospect_id": prospect.id}, headers=HTMX)

    assert answer.status_code == 200
    assert stored(db, request_id).prospect_id == prospect.id
    assert db(lambda: Interaction.select().where((Interaction.prospect == prospect.id)
                                                 & (Interaction.channel == "webform")).count()) == 1
    assert db(lambda: Prospect.select().count()) == 1


def test_attach_without_a_record_is_a_400_and_changes_nothing(lead, receive, db):
    request_id = receive()

    assert lead.post(f"/requests/{request_id}/attach", data={}).status_code == 400
    assert lead.post(f"/requests/{request_id}/attach", data={"prospect_id": "999"}).status_code == 400
    assert stored(db, request_id).triage is True


def test_spam_files_the_request_apart(lead, receive, db):
    request_id = receive()

    answer = lead.post(f"/requests/{request_id}/spam", headers=HTMX)

    assert answer.status_code == 200
    request = stored(db, request_id)
    assert request.state == "spam" and request.error == "marked_spam" and request.triage is False
    html = lead.get("/requests?queue=spam").get_data(as_text=True)
    assert f'id="request-{request_id}"' in html and "Classée comme spam par une personne" in html


@pytest.mark.parametrize("action", ["create", "spam", "attach"])
def test_a_request_already_handled_gets_a_french_message_not_a_500(lead, receive, db, action):
    prospect = known_prospect(db, phone="77 999 99 99")
    request_id = receive()
    lead.post(f"/requests/{request_id}/create", data={})
    before = db(lambda: (Prospect.select().count(), Interaction.select().count()))

    for headers in ({}, HTMX):
        answer = lead.post(f"/requests/{request_id}/{action}", data={"prospect_id": prospect.id}, headers=headers)
        assert answer.status_code == 409
        assert "Quelqu'un a déjà traité cette demande" in unescape(answer.get_data(as_text=True))
    assert db(lambda: (Prospect.select().count(), Interaction.select().count())) == before


def test_an_unknown_request_is_a_404(lead):
    assert lead.post("/requests/999/create", data={}).status_code == 404
    assert lead.get("/requests/999").status_code == 404


# --- failed and spam queues --------------------------------------------------------------------------

def test_a_failed_request_is_explained_and_replayed_after_the_mapping_is_fixed(lead, receive, db, source):
    # The site's JSON names the phone "numero": this source's preset does not know that name.
    body = json.dumps({"nom": "Diop", "numero": "77 555 44 33", "courriel": "pas-un-email"})
    request_id = receive(data=body, content_type="application/json")
    assert stored(db, request_id).state == "failed"

    html = unescape(lead.get("/requests?queue=failed").get_data(as_text=True))
    assert f'id="request-{request_id}"' in html
    assert "Ni numéro de téléphone ni adresse e-mail : impossible de répondre" in html  # staff words
    assert "Please give" not in html and "Merci d'indiquer" not in html  # not the visitor's sentence
    assert "1 tentative" in html or "tentative" in html

    db(lambda: update_source(source, config={"preset": "html", "fields": {"phone": "numero"}}))
    answer = lead.post(f"/requests/{request_id}/replay", data={"queue": "failed"}, headers=HTMX)

    assert answer.status_code == 200
    request = stored(db, request_id)
    assert request.state == "processed" and request.triage is True
    assert "attend dans la file" in answer.get_data(as_text=True)
    assert f'id="request-{request_id}"' in lead.get("/requests").get_data(as_text=True)


def test_an_unknown_error_is_said_in_words_with_its_technical_text_apart(lead, receive, db):
    request_id = receive()
    db(lambda: InboundRequest.update(state="failed", triage=False, error="KeyError: 'x'")
       .where(InboundRequest.id == request_id).execute())

    html = lead.get("/requests?queue=failed").get_data(as_text=True)

    assert "erreur imprévue : prévenez l&#39;administrateur" in html
    assert "Détail technique</summary><code>KeyError: &#39;x&#39;</code>" in html


def _failed_without_contact(receive, db):
    request_id = receive(data=json.dumps({"nom": "Diop", "message": "Bonjour"}), content_type="application/json")
    assert stored(db, request_id).state == "failed"
    return request_id


@pytest.mark.parametrize("code, words", [
    ("bad_json", "Le site a envoyé des données illisibles (JSON cassé). Prévenez la personne qui a installé"),
    ("unknown_charset", "encodage de caractères que nous ne lisons pas"),
    ("unsupported_content_type", "autre chose qu'un formulaire ou du JSON"),
])
def test_each_failure_code_is_said_in_staff_words_not_as_a_raw_code(lead, receive, db, code, words):
    request_id = receive()
    db(lambda: InboundRequest.update(state="failed", triage=False, error=code)
       .where(InboundRequest.id == request_id).execute())

    html = unescape(lead.get("/requests?queue=failed").get_data(as_text=True))
    shown = html[html.index(f'id="request-{request_id}"'):]

    assert words in shown
    assert shown.index(words) < shown.index(f"<code>{code}</code>")  # the code only as the detail


def test_a_failed_request_reads_in_english_too(lead, receive, db):
    _failed_without_contact(receive, db)
    lead.post("/language", data={"locale": "en"})

    html = unescape(lead.get("/requests?queue=failed").get_data(as_text=True))

    assert "Neither a phone number nor an email address: there is no way to answer this person." in html
    assert "Dismiss" in html


def test_a_dismissed_request_leaves_the_failed_queue_is_kept_and_audited(lead, receive, db):
    request_id = _failed_without_contact(receive, db)
    assert "Écarter" in lead.get("/requests?queue=failed").get_data(as_text=True)

    answer = lead.post(f"/requests/{request_id}/dismiss", data={"queue": "failed"}, headers=HTMX)

    assert answer.status_code == 200
    assert "Écartée : elle quitte la file des échecs" in unescape(answer.get_data(as_text=True))
    assert stored(db, request_id).state == "dismissed" and stored(db, request_id).error == "missing_contact"
    assert f'id="request-{request_id}"' not in lead.get("/requests?queue=failed").get_data(as_text=True)
    assert db(lambda: AuditEvent.select().where((AuditEvent.action == "intake.dismiss")
                                               & (AuditEvent.record_id == request_id)).count()) == 1
    page = unescape(lead.get(f"/requests/{request_id}").get_data(as_text=True))
    assert "Écartée" in page and "Relancer le traitement" in page  # kept, and can come back
    # twice: nothing more happens, the second click is told so
    assert lead.post(f"/requests/{request_id}/dismiss", data={"queue": "failed"}, headers=HTMX).status_code == 409


def test_the_api_lists_a_dismissed_request_with_its_state_and_error(app, lead, receive, db):
    request_id = _failed_without_contact(receive, db)
    lead.post(f"/requests/{request_id}/dismiss", data={"queue": "failed"})
    _, token = db(lambda: create_token("tests"))
    auth = {"Authorization": f"Bearer {token}"}

    one = app.test_client().get(f"/api/v1/requests/{request_id}", headers=auth).json
    listed = app.test_client().get("/api/v1/requests?state=dismissed", headers=auth).json

    assert one["state"] == "dismissed" and one["error"] == "missing_contact"
    assert [r["id"] for r in listed["items"]] == [request_id]


def test_only_a_failed_request_can_be_dismissed(lead, receive, db):
    waiting = receive()
    assert lead.post(f"/requests/{waiting}/dismiss", data={"queue": "failed"}).status_code == 409
    assert stored(db, waiting).state == "processed"


def test_a_honeypot_catch_is_explained_and_restored_by_not_spam(lead, receive, db):
    request_id = receive({**AWA, "website": "http://spam.example"}, process=False)
    assert stored(db, request_id).state == "spam"

    html = lead.get("/requests?queue=spam").get_data(as_text=True)
    assert "champ piège" in html and "honeypot" in html and "Ce n'est pas du spam" in unescape(html)

    answer = lead.post(f"/requests/{request_id}/replay", data={"queue": "spam"})
    assert answer.status_code == 302
    assert stored(db, request_id).state == "processed"


def test_replaying_a_processed_request_changes_nothing(lead, receive, db):
    request_id = receive()

    assert lead.post(f"/requests/{request_id}/replay", data={}).status_code == 409
    assert stored(db, request_id).triage is True


# --- the raw view ------------------------------------------------------------------------------------

def test_the_raw_view_escapes_the_body_and_the_headers_and_is_audited(lead, receive, db):
    hostile = {**AWA, "message": "<script>alert(1)</script>", "<img src=x onerror=alert(2)>": "x"}
    request_id = receive(hostile, headers={"User-Agent": "<script>alert(3)</script>"})

    page = lead.get(f"/requests/{request_id}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html  # the header
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the parsed message
    assert "message=%3Cscript%3Ealert(1)%3C/script%3E" in html  # the raw body, as sent (form-encoded)
    assert "&lt;img src=x onerror=alert(2)&gt;" in html  # an extra field's name
    assert "127.0.0.1" in html and "Site web" in html
    assert db(lambda: AuditEvent.select().where((AuditEvent.action == "request.view")
                                              & (AuditEvent.record_id == request_id)).exists())


def test_the_queue_escapes_what_was_posted(lead, receive):
    receive({**AWA, "nom": "<b>Ndiaye</b>", "message": "<script>alert(1)</script>"})

    html = lead.get("/requests").get_data(as_text=True)

    assert "<script>alert" not in html and "<b>Ndiaye" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_raw_view_shows_a_long_body_cut_and_undecodable_bytes_replaced(lead, receive, db):
    body = json.dumps({"nom": "Diop", "tel": "77 555 44 33", "message": "é" * 15_000}).encode()
    request_id = receive(data=body + b"\xff", content_type="application/json", process=False)

    html = lead.get(f"/requests/{request_id}").get_data(as_text=True)

    assert "seuls les 20000 premiers octets" in html.replace("\u202f", "").replace("\xa0", "")
    assert stored(db, request_id).state == "failed"


# --- who may ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["secretary", "admin"])
def test_secretaries_and_admins_may_not_triage_and_their_clicks_change_nothing(as_role, receive, db, role):
    request_id = receive()
    client = as_role(role)

    assert client.get("/requests").status_code == 403
    assert client.get(f"/requests/{request_id}").status_code == 403
    for action in ("create", "spam", "replay"):
        assert client.post(f"/requests/{request_id}/{action}", data={}).status_code == 403
    request = stored(db, request_id)
    assert request.triage is True and request.state == "processed" and request.prospect_id is None
    assert db(lambda: Prospect.select().count()) == 0
    assert 'id="nav-requests-count"' not in client.get("/my-day" if role == "secretary" else "/admin/users") \
        .get_data(as_text=True)


def test_a_manager_may_triage(as_role, receive, db):
    request_id = receive()
    client = as_role("manager")

    assert client.get("/requests").status_code == 200
    assert client.post(f"/requests/{request_id}/spam").status_code == 302
    assert stored(db, request_id).state == "spam"
