"""What a contact needs and what an email looks like, one rule through every entry point (issue 12):
the staff's new-contact and edit forms, the API and the web-form intake."""
import pytest

from tests import factories as make
from webapp.models import InboundRequest, Prospect, database
from webapp.rules.contact import contact_problems, is_email
from webapp.services import intake
from webapp.services.tokens import create_token

# Addresses as the clinic's callers give them.
REAL = ["awa.diop@gmail.com", "m.ndiaye+rdv@orange.sn", "Fatou_Ba@Yahoo.fr", "contact@clinique-nest.sn",
        "ndeye.sene@hotmail.fr", "a@b.co", "khady@sub.domaine.sn", "ndèye@exemple.sn", "x@xn--bcher-kva.ch"]
WRONG = ["awa", "awa@", "@gmail.com", "awa@gmail", "awa diop@gmail.com", "awa@@gmail.com", "awa@gmail..com",
         "awa@-gmail.com", ".awa@gmail.com", "awa.@gmail.com", "awa..diop@gmail.com", "awa@gmail.c",
         "awa@gmail.com.", "awa@gmail,com", "awa@gmail.123", "a" * 65 + "@gmail.com"]


@pytest.mark.parametrize("address", REAL)
def test_real_addresses_are_emails(address):
    assert is_email(address)


@pytest.mark.parametrize("address", WRONG)
def test_typing_mistakes_are_not_emails(address):
    assert not is_email(address)


@pytest.mark.parametrize("first, last, phone, email, problems", [
    ("Awa", "Diop", "77 123 45 67", "", []),
    ("", "Diop", "", "awa.diop@gmail.com", []),
    ("Awa", "", "77 123 45 67", None, []),
    ("", "", "77 123 45 67", "", ["name_required"]),
    ("Awa", "Diop", "", "", ["contact_required"]),
    ("Awa", "Diop", "", "awa@gmail", ["email_invalid", "contact_required"]),
    ("Awa", "Diop", "77 123 45 67", "awa@gmail", ["email_invalid"]),
])
def test_a_contact_needs_a_name_and_a_phone_or_an_email(first, last, phone, email, problems):
    assert contact_problems(first, last, phone, email) == problems


def test_the_web_form_may_leave_the_name_to_the_lead():
    assert contact_problems("", "", "77 123 45 67", "", name_required=False) == []


# --- the staff forms ---------------------------------------------------------------------------------

def new_contact(**fields):
    return {"last_name": "Diop", "first_name": "Awa", "phone": "", "qualification": "quote",
            "temperature": "warm", "channel": "phone", "note": "", **fields}


@pytest.mark.parametrize("address", REAL[:5])
def test_the_new_contact_form_records_a_real_email(as_role, db, address):
    client = as_role("secretary")
    response = client.post("/prospects/new", data=new_contact(email=address))
    assert response.status_code == 201, response.get_data(as_text=True)[:800]
    assert db(lambda: Prospect.get()).email == address.lower()


def test_the_new_contact_form_says_in_french_what_is_wrong_with_an_email(as_role, db):
    client = as_role("secretary")
    response = client.post("/prospects/new", data=new_contact(email="awa@gmail", phone="77 123 45 67"))
    assert response.status_code == 400
    assert "Cet e-mail semble incorrect" in response.get_data(as_text=True)
    assert db(lambda: Prospect.select().count()) == 0


def test_every_error_of_the_new_contact_form_shows_on_the_first_submit(as_role):
    client = as_role("secretary")
    response = client.post("/prospects/new", data=new_contact(last_name="", first_name="", qualification=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Saisissez un nom." in page
    assert "Indiquez un téléphone ou un e-mail" in page
    assert "Choisissez le motif du contact." in page


def test_a_first_name_alone_is_a_name(as_role, db):
    client = as_role("secretary")
    response = client.post("/prospects/new", data=new_contact(last_name="", phone="77 123 45 67"))
    assert response.status_code == 201
    assert db(lambda: Prospect.get()).first_name == "Awa"


@pytest.fixture
def prospect_of(app):
    def factory(owner=None, **fields):
        with app.test_request_context(), database.connection_context():
            return make.prospect(owner, **{"first_name": "Awa", "last_name": "Diop",
                                            "phone_number": fields.pop("phone", "77 123 45 67"), **fields})
    return factory


def edit_form(**fields):
    return {"first_name": "Awa", "last_name": "Diop", "phone": "77 123 45 67", "email": "",
            "birth_date": "", "qualification": "quote", "channel": "phone", "origin_detail": "", **fields}


@pytest.mark.parametrize("role", ["secretary", "lead", "manager"])
def test_each_role_that_edits_saves_a_corrected_name_number_and_email(as_role, prospect_of, db, role):
    client = as_role(role)
    prospect = prospect_of(owner=client.user)
    response = client.post(f"/prospects/{prospect.id}/edit",
                           data=edit_form(first_name="Awa Marie", phone="76 555 44 33",
                                          email="Awa.Diop@Gmail.com"))
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    saved = db(lambda: Prospect.get_by_id(prospect.id))
    assert (saved.first_name, saved.phone, saved.email) == ("Awa Marie", "+221765554433", "awa.diop@gmail.com")
    assert saved.owner_id == client.user.id


def test_a_secretary_edits_a_colleagues_prospect_without_seeing_or_changing_its_owner(
        as_role, make_user, prospect_of, db):
    colleague = make_user("secretary")
    prospect = prospect_of(owner=colleague)
    client = as_role("secretary")
    page = client.get(f"/prospects/{prospect.id}/edit").get_data(as_text=True)
    assert 'name="owner"' not in page
    # A crafted owner value is not read: the field is not hers to change.
    response = client.post(f"/prospects/{prospect.id}/edit", data=edit_form(last_name="Diop Sow",
                                                                         owner=str(client.user.id)))
    assert response.status_code == 302
    saved = db(lambda: Prospect.get_by_id(prospect.id))
    assert saved.last_name == "Diop Sow" and saved.owner_id == colleague.id


def test_a_lead_reassigns_from_the_edit_form(as_role, make_user, prospect_of, db):
    colleague = make_user("secretary")
    prospect = prospect_of()
    client = as_role("lead")
    assert 'name="owner"' in client.get(f"/prospects/{prospect.id}/edit").get_data(as_text=True)
    response = client.post(f"/prospects/{prospect.id}/edit", data=edit_form(owner=str(colleague.id)))
    assert response.status_code == 302
    assert db(lambda: Prospect.get_by_id(prospect.id)).owner_id == colleague.id


def test_the_edit_form_refuses_a_wrong_email_in_french_and_keeps_the_record(as_role, prospect_of, db):
    client = as_role("secretary")
    prospect = prospect_of(email="awa.diop@gmail.com")
    response = client.post(f"/prospects/{prospect.id}/edit", data=edit_form(email="awa.diop@gmail"))
    assert response.status_code == 400
    assert "Cet e-mail semble incorrect" in response.get_data(as_text=True)
    assert db(lambda: Prospect.get_by_id(prospect.id)).email == "awa.diop@gmail.com"


# --- the API -----------------------------------------------------------------------------------------

@pytest.fixture
def api_post(app):
    with app.app_context(), database.connection_context():
        _, token = create_token("tests")
    client = app.test_client()
    return lambda body: client.post("/api/v1/prospects", json=body, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("address", REAL[:5])
def test_the_api_records_a_real_email(api_post, address):
    response = api_post({"last_name": "Diop", "email": address})
    assert response.status_code == 201
    assert response.get_json()["email"] == address.lower()


@pytest.mark.parametrize("address", ["awa@gmail", "awa diop@gmail.com", "awa@@gmail.com"])
def test_the_api_refuses_a_wrong_email_in_json(api_post, db, address):
    response = api_post({"last_name": "Diop", "phone": "77 123 45 67", "email": address})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_field"
    assert db(lambda: Prospect.select().count()) == 0


# --- the web form ------------------------------------------------------------------------------------

@pytest.fixture
def webform(app, db):
    source = db(make.source)
    client = app.test_client()

    def send(**values):
        answer = client.post(f"/intake/{source.slug}", data=values)
        request_id = answer.get_json()["id"]
        with app.test_request_context(), database.connection_context():
            intake.process(request_id)
            return answer, InboundRequest.get_by_id(request_id)
    return send


@pytest.mark.parametrize("address", REAL[:5])
def test_the_web_form_reads_a_real_email(webform, address):
    answer, request = webform(nom="Diop", prenom="Awa", email=address, message="Un devis")
    assert answer.status_code == 202 and request.state == "processed"
    assert request.parsed["email"] == address


def test_the_web_form_keeps_a_wrong_email_for_the_lead_but_calls_back_on_the_phone(webform):
    answer, request = webform(nom="Diop", tel="77 123 45 67", email="awa@gmail")
    assert answer.status_code == 202 and request.state == "processed"
    assert request.parsed["email"] is None and request.parsed["extra"]["email"] == "awa@gmail"


def test_a_web_form_post_with_only_a_wrong_email_is_refused_and_still_stored(webform, db):
    answer, request = webform(nom="Diop", email="awa@gmail")
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "missing_contact"
    assert request.state == "failed"
