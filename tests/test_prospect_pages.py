"""The staff's prospect pages: list and search, the fast form, the record, edits and their rights."""
import re
from datetime import timedelta

from tests import factories as make
from webapp.models import ConsentChange, FollowUp, OwnerChange, Prospect, TemperatureChange, database
from webapp.timeutil import utcnow


def add(app, **fields):
    with app.test_request_context(), database.connection_context():
        return make.prospect(**{"last_name": "Diop", "phone_number": fields.pop("phone", ""), **fields})


def fast_form(**fields):
    return {"last_name": "Ndiaye", "first_name": "Rokhaya", "phone": "76 222 33 44",
            "qualification": "programme", "temperature": "warm", "note": "Programme fertilité", **fields}


def test_list_is_a_full_page_and_its_results_a_fragment_for_htmx(app, as_role):
    add(app, phone="77 000 00 01")
    client = as_role("secretary")
    page = client.get("/prospects?q=diop")
    fragment = client.get("/prospects?q=diop", headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert b"<html" in page.data and b"<html" not in fragment.data
    assert b"Diop" in fragment.data and "HX-Request" in fragment.headers["Vary"]
    boosted = client.get("/prospects?q=diop", headers={"HX-Request": "true", "HX-Request-Type": "full"})
    assert b"<html" in boosted.data


def test_search_finds_names_without_accents_and_phones_in_any_form(app, as_role):
    add(app, first_name="Aïssatou", last_name="Sène", phone="77 123 45 67")
    add(app, first_name="Binta", last_name="Kane", email="binta@example.sn")
    client = as_role("secretary")
    for query in ("aissatou", "SENE", "aïssatou sène", "+221771234567", "00221 77 123 45 67", "1234567"):
        body = client.get("/prospects", query_string={"q": query}).data.decode()
        assert "Sène" in body and "Kane" not in body, query
    assert "Kane" in client.get("/prospects?q=binta@example.sn").data.decode()


def test_filters_combine_and_mine_means_the_signed_in_user(app, as_role):
    client = as_role("lead")
    add(app, last_name="Chaude", phone="77 000 00 02", temperature="hot")
    add(app, last_name="Froide", phone="77 000 00 03", temperature="cold")
    with app.app_context(), database.connection_context():
        Prospect.update(owner=client.user.id).where(Prospect.last_name == "Froide").execute()
    hot = client.get("/prospects?temperature=hot").data.decode()
    assert "Chaude" in hot and "Froide" not in hot
    mine = client.get("/prospects?owner=me").data.decode()
    assert "Froide" in mine and "Chaude" not in mine


def test_the_list_is_paginated(app, as_role):
    app.config["PAGE_SIZE"] = 5
    for n in range(12):
        add(app, last_name=f"Personne{n:02d}", phone=f"77 100 00 {n:02d}")
    client = as_role("secretary")
    first = client.get("/prospects?sort=name").data.decode()
    third = client.get("/prospects?sort=name&page=3").data.decode()
    assert "12 prospects" in first and "Personne00" in first and "Personne05" not in first
    assert "Personne10" in third and "Personne11" in third and "Personne09" not in third


def test_fast_form_creates_and_says_so(app, as_role):
    client = as_role("secretary")
    response = client.post("/prospects/new", data=fast_form())
    assert response.status_code == 201 and "Nouveau prospect créé" in response.data.decode()
    with app.app_context(), database.connection_context():
        prospect = Prospect.get()
        assert prospect.owner_id == client.user.id and prospect.qualification == "programme"


def test_fast_form_for_a_known_caller_says_what_matched_and_where_it_went(app, as_role):
    existing = add(app, last_name="Ndiaye", phone="+221762223344")
    client = as_role("secretary")
    body = client.post("/prospects/new", data=fast_form(phone="00221762223344")).data.decode()
    assert "Déjà connu" in body and "numéro de téléphone" in body
    assert f"/prospects/{existing.id}" in body


def test_fast_form_needs_a_name_a_reason_and_a_way_to_call_back(app, as_role):
    client = as_role("secretary")
    response = client.post("/prospects/new", data=fast_form(last_name="", phone="", qualification=""))
    assert response.status_code == 400
    body = response.data.decode()
    assert 'aria-invalid="true"' in body
    with app.app_context(), database.connection_context():
        assert Prospect.select().count() == 0


def test_a_phone_that_does_not_parse_is_kept_and_flagged_not_refused(app, as_role):
    client = as_role("secretary")
    assert client.post("/prospects/new", data=fast_form(phone="77 12")).status_code == 201
    body = client.get("/prospects").data.decode()
    assert "77 12" in body and "à vérifier" in body


def test_temperature_change_needs_a_reason_and_is_kept_in_history(app, as_role):
    prospect = add(app, phone="77 000 00 04", temperature="cold")
    client = as_role("lead")
    client.post(f"/prospects/{prospect.id}/temperature", data={"temperature": "hot", "reason": ""})
    with app.app_context(), database.connection_context():
        assert Prospect.get_by_id(prospect.id).temperature == "cold"
    client.post(f"/prospects/{prospect.id}/temperature", data={"temperature": "hot", "reason": "A rappelé"})
    with app.app_context(), database.connection_context():
        change = TemperatureChange.select().order_by(TemperatureChange.id.desc()).get()
        assert (change.old, change.new, change.reason, change.user_id) == ("cold", "hot", "A rappelé", client.user.id)
    assert "A rappelé" in client.get(f"/prospects/{prospect.id}").data.decode()


def test_secretary_cannot_change_temperature_after_creation(app, as_role):
    prospect = add(app, phone="77 000 00 05", temperature="cold")
    client = as_role("secretary")
    response = client.post(f"/prospects/{prospect.id}/temperature", data={"temperature": "hot", "reason": "x"})
    assert response.status_code == 403
    with app.app_context(), database.connection_context():
        assert Prospect.get_by_id(prospect.id).temperature == "cold"


def test_do_not_contact_cancels_planned_follow_ups_with_a_history_entry(app, as_role):
    prospect = add(app, phone="77 000 00 06")
    with app.app_context(), database.connection_context():
        FollowUp.create(prospect=prospect.id, due_at=utcnow() + timedelta(days=2))
    client = as_role("secretary")
    client.post(f"/prospects/{prospect.id}/consent", data={"do_not_contact": "y", "reason": "Demande de la patiente"})
    with app.app_context(), database.connection_context():
        assert Prospect.get_by_id(prospect.id).do_not_contact
        assert FollowUp.get().state == "cancelled"
        assert ConsentChange.get().reason == "Demande de la patiente"


def test_secretary_edits_identity_but_cannot_reassign_the_owner(app, as_role, make_user):
    other = make_user("secretary")
    prospect = add(app, phone="77 000 00 07")
    client = as_role("secretary")
    form = {"last_name": "Diop-Fall", "first_name": "", "phone": "77 000 00 07", "email": "",
            "qualification": "", "channel": "phone", "origin_detail": "", "owner": ""}
    assert client.post(f"/prospects/{prospect.id}/edit", data=form).status_code == 302
    # The owner is not hers to change: a crafted value is not read (issue 12: not shown, not read).
    crafted = client.post(f"/prospects/{prospect.id}/edit", data={**form, "owner": str(other.id)})
    assert crafted.status_code == 302
    with app.app_context(), database.connection_context():
        saved = Prospect.get_by_id(prospect.id)
        assert saved.last_name == "Diop-Fall" and saved.owner_id is None and "diop fall" in saved.search_text


def test_lead_reassigns_the_owner(app, as_role, make_user):
    other = make_user("secretary")
    prospect = add(app, phone="77 000 00 08")
    client = as_role("lead")
    form = {"last_name": "Diop", "phone": "77 000 00 08", "channel": "phone", "owner": str(other.id)}
    assert client.post(f"/prospects/{prospect.id}/edit", data=form).status_code == 302
    assert client.post(f"/prospects/{prospect.id}/edit", data=form).status_code == 302   # no change: not logged
    with app.app_context(), database.connection_context():
        assert Prospect.get_by_id(prospect.id).owner_id == other.id
        change = OwnerChange.get()
        assert (change.old_id, change.new_id, change.user_id) == (None, other.id, client.user.id)
    page = client.get(f"/prospects/{prospect.id}").data.decode()
    assert re.search(rf"Responsable</span>\s*Non attribué → {re.escape(other.name)}</p>", page), page


def test_unknown_prospect_is_a_french_404_page(as_role):
    response = as_role("secretary").get("/prospects/999999")
    assert response.status_code == 404 and "Cette page n&#39;existe pas" in response.data.decode()


def test_search_text_with_quotes_and_fts_syntax_is_plain_text(app, as_role):
    add(app, last_name="N'Diaye", phone="77 000 00 09")
    client = as_role("secretary")
    for query in ('"', 'n"di', "NEAR(a b)", "diop OR", "a*", "'; DROP TABLE prospect; --", "%", "_"):
        assert client.get("/prospects", query_string={"q": query}).status_code == 200, query
    assert "N&#39;Diaye" in client.get("/prospects", query_string={"q": "n'diaye"}).data.decode()


def test_a_spent_action_budget_asks_to_classify_the_prospect(app, as_role):
    prospect = add(app, last_name="Budget", phone="77 000 00 10")
    with app.app_context(), database.connection_context():
        Prospect.update(actions_used=15).where(Prospect.id == prospect.id).execute()
    body = as_role("secretary").get(f"/prospects/{prospect.id}").data.decode()
    assert "0 / 15" in body and "Budget épuisé : à classer" in body


def test_search_ignores_apostrophes_hyphens_and_spaces_as_it_ignores_accents(app, as_role):
    add(app, first_name="Ndèye", last_name="N'Diaye", phone="77 000 00 21")
    add(app, first_name="Modou", last_name="M’Bengue", phone="77 000 00 22")
    add(app, first_name="Mame Diarra", last_name="Diop-Fall", phone="77 000 00 23")
    add(app, first_name="Awa", last_name="Sarr", phone="77 000 00 24")
    client = as_role("secretary")
    for query, name in [("ndiaye", "Ndèye"), ("NDIAYE", "Ndèye"), ("n'diaye", "Ndèye"),
                        ("ndeye ndiaye", "Ndèye"), ("n diaye", "Ndèye"), ("mbengue", "Modou"),
                        ("m'bengue", "Modou"), ("diop fall", "Mame Diarra"), ("diopfall", "Mame Diarra"),
                        ("mamediarra", "Mame Diarra"), ("diop-fall", "Mame Diarra")]:
        body = client.get("/prospects", query_string={"q": query}).get_data(as_text=True)
        assert name in body and "Sarr" not in body, query
        assert "1 prospect" in body, query
