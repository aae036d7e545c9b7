"""The same phone, two people (issue 12, item 4): the new-contact form asks instead of recording on the
wrong record; suspected duplicates are reviewed by the lead (merge, undo, different people)."""
from datetime import timedelta

import pytest

from tests import factories as make
from webapp.models import (AuditEvent, DuplicateCandidate, FollowUp, InboundRequest, Interaction, Patient,
                           Prospect, TemperatureChange, database)
from webapp.rules.names import same_name
from webapp.services import intake
from webapp.services.duplicates import link
from webapp.services.prospects import ContactInput, record_contact
from webapp.services.sources import create_source
from webapp.timeutil import utcnow

MOTHER_PHONE = "+221771234567"


def add(app, decision=None, **fields):
    with app.test_request_context(), database.connection_context():
        data = {"first_name": "Awa", "last_name": "Diagne", "phone": MOTHER_PHONE, "note": "Premier appel",
                **fields}
        return record_contact(ContactInput(**data), None, decision=decision).prospect


def daughter_calls(**fields):
    """The fast form as the secretary fills it for the daughter, on the family phone."""
    return {"last_name": "Diagne", "first_name": "Fatou", "phone": "77 123 45 67", "qualification": "appointment",
            "temperature": "hot", "note": "Souhaite un RDV de suivi de grossesse", **fields}


def read(app, query):
    with app.test_request_context(), database.connection_context():
        return query()


def audited(app, action) -> list[AuditEvent]:
    return read(app, lambda: list(AuditEvent.select().where(AuditEvent.action == action)))


@pytest.mark.parametrize("typed, stored, same", [
    (("Ndèye", "N'Diaye"), ("Ndeye", "Ndiaye"), True),
    (("NDEYE", "ndiaye"), ("Ndèye", "N'Diaye"), True),
    (("Diaye", "Ndeye N'"), ("Ndèye", "N'Diaye"), False),
    (("Awa", "Diagne"), ("Diagne", "Awa"), True),            # either order
    (("Mame-Diarra", "Sow"), ("Mame Diarra", "Sow"), True),  # hyphen
    (("", "Diagne"), ("Awa", "Diagne"), True),                # one name given: no contradiction
    (("Fatou", "Diagne"), ("Awa", "Diagne"), False),          # the daughter
    (("Awa", "Sène"), ("Awa", "Sané"), False),                # two families
    (("", ""), ("Awa", "Diagne"), True),
])
def test_names_are_compared_without_case_accents_apostrophes_hyphens_and_in_either_order(typed, stored, same):
    assert same_name(*typed, *stored) is same


# --- the staff form asks ----------------------------------------------------------------------------

def test_daughter_calling_from_her_mothers_phone_is_asked_and_nothing_is_recorded(app, as_role):
    mother = add(app)
    client = as_role("secretary")
    response = client.post("/prospects/new", data=daughter_calls())
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Même personne ? Rien n'est encore enregistré." in body
    assert "Vous avez saisi Fatou Diagne" in body and "Awa Diagne" in body and "même numéro de téléphone" in body
    assert "Même personne : noter l'appel sur la fiche de Awa Diagne" in body
    assert "Une autre personne : créer la fiche de Fatou Diagne, qui partage ce numéro" in body
    assert "Déjà connu" not in body
    assert read(app, lambda: Prospect.select().count()) == 1
    assert read(app, lambda: Prospect.get_by_id(mother.id).interaction_count) == 1


def test_another_person_creates_her_record_linked_as_sharing_the_number(app, as_role):
    mother = add(app)
    client = as_role("secretary")
    asked = f"prospect:{mother.id}"
    response = client.post("/prospects/new", data=daughter_calls(identity="new", identity_for=asked))
    body = response.get_data(as_text=True)
    assert response.status_code == 201 and "Nouveau prospect créé" in body
    assert "autre personne, qui partage ces coordonnées avec" in body and "Awa Diagne" in body
    daughter = read(app, lambda: Prospect.get(Prospect.first_name == "Fatou"))
    assert daughter.phone == MOTHER_PHONE and daughter.interaction_count == 1
    assert read(app, lambda: Prospect.get_by_id(mother.id).interaction_count) == 1
    pair = read(app, lambda: DuplicateCandidate.get())
    assert (pair.state, pair.matched_on, pair.decided_by_id) == ("dismissed", "phone", client.user.id)
    assert audited(app, "dedupe.another_person")[0].actor_id == client.user.id
    page = client.get(f"/prospects/{daughter.id}").get_data(as_text=True)
    assert "Partage un numéro de téléphone ou un e-mail avec" in page and f"/prospects/{mother.id}" in page
    # Her next call goes on her own record, without a question; her mother's on her mother's.
    again = client.post("/prospects/new", data=daughter_calls(note="Rappel"))
    assert again.status_code == 200 and "Déjà connu" in again.get_data(as_text=True)
    assert read(app, lambda: Prospect.get_by_id(daughter.id).interaction_count) == 2
    mother_again = client.post("/prospects/new", data=daughter_calls(first_name="Awa", note="La mère"))
    assert "Déjà connu" in mother_again.get_data(as_text=True)
    assert read(app, lambda: Prospect.get_by_id(mother.id).interaction_count) == 2
    assert read(app, lambda: DuplicateCandidate.select().count()) == 1


def test_same_person_records_the_call_on_the_existing_record(app, as_role):
    mother = add(app)
    client = as_role("secretary")
    choice = f"prospect:{mother.id}"
    response = client.post("/prospects/new", data=daughter_calls(identity=choice, identity_for=choice))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Déjà connu" in body and "Vous avez indiqué qu'il s'agit de la même personne." in body
    assert read(app, lambda: Prospect.select().count()) == 1
    saved = read(app, lambda: Prospect.get_by_id(mother.id))
    assert saved.interaction_count == 2 and saved.first_name == "Awa"  # nothing overwritten
    assert audited(app, "dedupe.same_person")[0].record_id == mother.id


def test_an_answer_to_an_older_question_is_asked_again(app, as_role):
    mother = add(app)
    client = as_role("secretary")
    add(app, first_name="Coumba", phone="77 123 45 67", decision="new")   # another person shares it meanwhile
    stale = f"prospect:{mother.id}"
    response = client.post("/prospects/new", data=daughter_calls(identity="new", identity_for=stale))
    assert "Même personne ? Rien n'est encore enregistré." in response.get_data(as_text=True)
    assert read(app, lambda: Prospect.select().where(Prospect.first_name == "Fatou").count()) == 0


def test_a_name_typed_another_way_is_the_same_person_without_a_question(app, as_role):
    known = add(app, first_name="Ndèye", last_name="N'Diaye")
    client = as_role("secretary")
    body = client.post("/prospects/new", data=daughter_calls(first_name="NDIAYE", last_name="ndeye")).get_data(
        as_text=True)
    assert "Déjà connu" in body
    assert read(app, lambda: Prospect.get_by_id(known.id).interaction_count) == 2


def test_a_different_birth_date_on_the_same_phone_asks_too(app, as_role):
    from datetime import date
    known = add(app, birth_date=date(1970, 1, 2))
    client = as_role("secretary")
    data = daughter_calls(first_name="Awa", birth_date="2001-06-30")
    body = client.post("/prospects/new", data=data).get_data(as_text=True)
    assert "Même personne ?" in body and "né(e) le" in body
    assert read(app, lambda: Prospect.get_by_id(known.id).interaction_count) == 1


def test_on_a_patients_phone_same_person_records_on_the_patient(app, as_role):
    patient = read(app, lambda: Patient.create(first_name="Awa", last_name="Diagne", phone=MOTHER_PHONE,
                                               external_id="NEST-1"))
    client = as_role("secretary")
    asked = client.post("/prospects/new", data=daughter_calls()).get_data(as_text=True)
    assert "Patient" in asked and f"patient:{patient.id}" in asked
    choice = f"patient:{patient.id}"
    body = client.post("/prospects/new", data=daughter_calls(identity=choice, identity_for=choice)).get_data(
        as_text=True)
    assert "Cette personne a déjà un dossier patient" in body
    assert read(app, lambda: Prospect.select().count()) == 0
    assert read(app, lambda: Interaction.get().patient_id) == patient.id


def test_all_errors_show_on_the_first_submit(as_role):
    client = as_role("secretary")
    response = client.post("/prospects/new", data=daughter_calls(last_name="", first_name="", phone="",
                                                                  qualification=""))
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert body.count('aria-invalid="true"') == 3
    for message in ("Saisissez un nom.", "Choisissez le motif du contact.",
                    "Indiquez un téléphone ou un e-mail"):
        assert message in body, message


def test_phone_and_email_fields_bring_the_phone_and_email_keyboards(as_role):
    body = as_role("secretary").get("/prospects/new").get_data(as_text=True)
    assert 'id="phone"' in body and 'type="tel"' in body and 'inputmode="tel"' in body
    assert 'autocomplete="tel"' in body
    assert 'type="email"' in body and 'inputmode="email"' in body and 'autocomplete="email"' in body


# --- machines: the API and the web-form intake never merge silently ---------------------------------

@pytest.fixture
def api(app):
    from webapp.services.tokens import create_token
    _, token = read(app, lambda: create_token("tests"))
    client = app.test_client()
    return lambda body: client.post("/api/v1/prospects", json=body, headers={"Authorization": f"Bearer {token}"})


def test_api_name_mismatch_on_a_shared_phone_creates_a_new_prospect_recorded_as_a_suspect(app, api):
    mother = add(app)
    response = api({"first_name": "Fatou", "last_name": "Diagne", "phone": "77 123 45 67"})
    body = response.get_json()
    assert response.status_code == 201 and body["id"] != mother.id
    assert body["matched_on"] == [] and body["recorded_on"] == "prospect"
    assert body["suspected_duplicates"] == [{"kind": "prospect", "id": mother.id, "matched_on": ["phone"]}]
    pair = read(app, lambda: DuplicateCandidate.get())
    assert pair.state == "open" and {pair.prospect_id, pair.other_prospect_id} == {mother.id, body["id"]}
    same = api({"first_name": "Awa", "last_name": "Diagne", "phone": "77 123 45 67"})
    assert same.status_code == 200 and same.get_json()["id"] == mother.id
    assert same.get_json()["matched_on"] == ["phone"] and same.get_json()["suspected_duplicates"] == []


def test_web_form_request_under_another_name_becomes_a_linked_suspect(app, db):
    mother = add(app)
    read(app, lambda: create_source("site-web", "webform", "Site web", config={"mode": "auto"}))
    answer = app.test_client().post("/intake/site-web", data={"prenom": "Fatou", "nom": "Diagne",
                                                              "tel": "77 123 45 67", "message": "Un devis"})
    assert answer.status_code in (202, 303)
    request_id = read(app, lambda: InboundRequest.get().id)
    read(app, lambda: intake.process(request_id))
    fatou = read(app, lambda: Prospect.get(Prospect.first_name == "Fatou"))
    assert read(app, lambda: Prospect.get_by_id(mother.id).interaction_count) == 1
    pair = read(app, lambda: DuplicateCandidate.get())
    assert pair.state == "open" and {pair.prospect_id, pair.other_prospect_id} == {mother.id, fatou.id}


# --- the lead's review ------------------------------------------------------------------------------

def suspected_pair(app):
    """Two records for one woman (a web form gave another phone), and the pair the dedupe offered."""
    now = utcnow()
    with app.test_request_context(), database.connection_context():
        kept = record_contact(ContactInput(first_name="Awa", last_name="Diagne", phone=MOTHER_PHONE,
                                           email="awa@example.sn", note="Appel"), None,
                              now=now - timedelta(days=3)).prospect
        other = record_contact(ContactInput(first_name="Awa", last_name="Diagne", phone="70 000 00 09",
                                            note="Formulaire du site", temperature="cold"), None,
                               now=now - timedelta(days=2)).prospect
        FollowUp.create(prospect=other.id, due_at=now + timedelta(days=2))
        [pair] = link(kept, [(other, ["phone"])], state="open")
    return kept, other, pair


def test_the_lead_sees_pending_suspects_and_both_records_side_by_side(app, as_role):
    kept, other, pair = suspected_pair(app)
    client = as_role("lead")
    listing = client.get("/duplicates").get_data(as_text=True)
    assert "Doublons suspectés" in listing and "1 paire à examiner" in listing
    assert f"/duplicates/{pair.id}" in listing
    assert "Doublons" in client.get("/board").get_data(as_text=True)  # the nav link
    page = client.get(f"/duplicates/{pair.id}").get_data(as_text=True)
    assert "Même personne ?" in page and "77 123 45 67" in page and "70 000 00 09" in page
    assert "Formulaire du site" in page and "Appel" in page
    assert f"Fusionner : garder Awa Diagne" in page and "Personnes différentes" in page
    assert len(audited(app, "prospect.view")) == 2


def test_a_merge_moves_the_history_to_the_kept_record_and_undo_restores_it(app, as_role):
    kept, other, pair = suspected_pair(app)
    client = as_role("lead")
    answer = client.post(f"/duplicates/{pair.id}/merge", data={"keep": kept.id})
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Fusion faite" in page and "Annuler la fusion" in page and client.user.name in page

    def state():
        return (Prospect.get_by_id(kept.id), Prospect.get_by_id(other.id),
                Interaction.select().where(Interaction.prospect == kept.id).count(),
                FollowUp.select().where(FollowUp.prospect == kept.id).count(),
                TemperatureChange.select().where(TemperatureChange.prospect == kept.id).count())
    merged_kept, tombstone, interactions, followups, temperatures = read(app, state)
    assert (interactions, followups, temperatures) == (2, 1, 2)
    assert merged_kept.interaction_count == 2 and merged_kept.next_action_at is not None
    assert tombstone.outcome == "lost" and tombstone.lost_reason.code == "duplicate"
    assert tombstone.interaction_count == 0      # a tombstone, not deleted
    saved = read(app, lambda: DuplicateCandidate.get_by_id(pair.id))
    assert (saved.state, saved.kept_id, saved.merged_id, saved.decided_by_id) == (
        "merged", kept.id, other.id, client.user.id)
    tomb_page = client.get(f"/prospects/{other.id}").get_data(as_text=True)
    assert "Fusionnée dans la fiche de Awa Diagne" in tomb_page
    kept_page = client.get(f"/prospects/{kept.id}").get_data(as_text=True)
    assert "Contient l'historique de Awa Diagne" in kept_page and f"/duplicates/{pair.id}" in kept_page
    assert audited(app, "prospect.merge")[0].actor_id == client.user.id
    # The tombstone's phone leads to the record kept.
    read(app, lambda: record_contact(ContactInput(first_name="Awa", last_name="Diagne", phone="70 000 00 09"),
                                     None))
    assert read(app, lambda: Prospect.get_by_id(kept.id).interaction_count) == 3

    assert client.post(f"/duplicates/{pair.id}/undo").status_code == 302
    restored_kept, restored, interactions, followups, temperatures = read(app, state)
    assert (interactions, followups, temperatures) == (2, 0, 1)   # the new call stays where it went
    assert restored.outcome == "open" and restored.stage.name == "Nouveau" and restored.interaction_count == 1
    assert restored.next_action_at is not None and restored_kept.interaction_count == 2
    assert read(app, lambda: DuplicateCandidate.get_by_id(pair.id).state) == "open"
    assert audited(app, "prospect.unmerge")[0].record_id == other.id


def test_different_people_stops_the_suggestion(app, as_role):
    kept, other, pair = suspected_pair(app)
    client = as_role("lead")
    page = client.get(client.post(f"/duplicates/{pair.id}/dismiss").headers["Location"]).get_data(as_text=True)
    assert "cette paire ne sera plus proposée" in page
    assert "Aucun doublon suspecté" in client.get("/duplicates").get_data(as_text=True)
    # A contact matching both records again offers nothing new.
    read(app, lambda: record_contact(ContactInput(first_name="Awa", last_name="Diagne", phone="70 000 00 09",
                                                  email="awa@example.sn"), None))
    assert read(app, lambda: DuplicateCandidate.select().count()) == 1
    assert read(app, lambda: DuplicateCandidate.get().state) == "dismissed"
    assert audited(app, "dedupe.different_people")[0].actor_id == client.user.id


def test_a_pair_is_decided_once(app, as_role):
    kept, other, pair = suspected_pair(app)
    client = as_role("manager")
    client.post(f"/duplicates/{pair.id}/dismiss")
    again = client.post(f"/duplicates/{pair.id}/dismiss", follow_redirects=True).get_data(as_text=True)
    assert "Quelqu&#39;un a déjà décidé pour cette paire" in again


@pytest.mark.parametrize("role", ["secretary", "admin"])
def test_only_the_lead_and_the_manager_review_and_merge(app, as_role, role):
    kept, other, pair = suspected_pair(app)
    client = as_role(role)
    assert client.get("/duplicates").status_code == 403
    assert client.get(f"/duplicates/{pair.id}").status_code == 403
    assert client.post(f"/duplicates/{pair.id}/merge", data={"keep": kept.id}).status_code == 403
    assert client.post(f"/duplicates/{pair.id}/dismiss").status_code == 403
    assert read(app, lambda: DuplicateCandidate.get_by_id(pair.id).state) == "open"
    assert read(app, lambda: Prospect.get_by_id(other.id).outcome) == "open"


def test_a_secretary_has_no_duplicates_link(as_role):
    assert "/duplicates" not in as_role("secretary").get("/prospects").get_data(as_text=True)


# --- the caller lookup (item 5) ---------------------------------------------------------------------

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def test_the_lookup_names_a_known_caller_once_the_number_is_whole(app, as_role):
    awa = add(app)
    client = as_role("secretary")
    assert client.get("/prospects/new/lookup?phone=77 123 4", headers=HTMX).get_data(as_text=True).strip() == ""
    body = client.get("/prospects/new/lookup", query_string={"phone": "77 123 45 67"}, headers=HTMX).get_data(
        as_text=True)
    assert "Awa Diagne" in body and "prospect, Nouveau" in body and "noter l'appel sur sa fiche ?" in body
    assert "<html" not in body
    assert [e.record_id for e in audited(app, "prospect.lookup")] == [awa.id]


def test_the_lookup_shows_patients_as_patients_first(app, as_role):
    add(app)
    read(app, lambda: Patient.create(first_name="Awa", last_name="Diagne", phone=MOTHER_PHONE, external_id="P-9"))
    body = as_role("secretary").get("/prospects/new/lookup?phone=%2B221771234567").get_data(as_text=True)
    assert body.index("Patient") < body.index("prospect, Nouveau") and "Patient d'abord" in body


def test_the_lookup_is_behind_login_and_permission(app, client, as_role):
    assert client.get("/prospects/new/lookup?phone=771234567").status_code == 302
    assert as_role("admin").get("/prospects/new/lookup?phone=771234567").status_code == 403


def test_logging_the_call_from_the_lookup_is_one_step(app, as_role):
    awa = add(app)
    client = as_role("secretary")
    response = client.post("/prospects/new/known-call", data={
        "record": f"prospect:{awa.id}", "phone": "77 123 45 67", "note": "Rappelle pour le RDV", "channel": "phone"},
        headers=HTMX)
    assert response.status_code == 200 and "Déjà connu" in response.get_data(as_text=True)
    assert "board-changed" in response.headers["HX-Trigger"]
    latest = read(app, lambda: Interaction.select().order_by(Interaction.id.desc()).get())
    assert (latest.prospect_id, latest.note, latest.direction, latest.user_id) == (
        awa.id, "Rappelle pour le RDV", "in", client.user.id)
    # A record that this phone does not lead to is refused.
    other = add(app, first_name="Binta", last_name="Fall", phone="78 000 00 01")
    refused = client.post("/prospects/new/known-call", data={"record": f"prospect:{other.id}",
                                                             "phone": "77 123 45 67"})
    assert refused.status_code == 409
    assert read(app, lambda: Prospect.get_by_id(other.id).interaction_count) == 1


def test_triage_shows_a_known_phone_under_another_name_and_create_links_them_for_review(app, as_role):
    mother = add(app)
    read(app, lambda: create_source("site-web", "webform", "Site web"))
    app.test_client().post("/intake/site-web", data={"prenom": "Fatou", "nom": "Diagne", "tel": "77 123 45 67",
                                                     "message": "Un devis"})
    request_id = read(app, lambda: InboundRequest.get().id)
    read(app, lambda: intake.process(request_id))
    lead = as_role("lead")
    page = lead.get("/requests").get_data(as_text=True)
    assert "Awa Diagne" in page and "autre nom : même personne ?" in page
    lead.post(f"/requests/{request_id}/create", data={})
    fatou = read(app, lambda: Prospect.get(Prospect.first_name == "Fatou"))
    assert read(app, lambda: Prospect.get_by_id(mother.id).interaction_count) == 1
    assert read(app, lambda: DuplicateCandidate.get().state) == "open"
    assert "1 paire à examiner" in lead.get("/duplicates").get_data(as_text=True)
    assert fatou.id != mother.id


def test_merge_and_undo_work_on_each_database(any_ctx):
    from webapp.services.duplicates import merge, undo_merge
    lead = make.user("lead", email="lead@clinic.test", name="Fatou Diallo")
    kept = record_contact(ContactInput(first_name="Awa", last_name="Diagne", phone="77 123 45 67"), None).prospect
    other = record_contact(ContactInput(first_name="Awa", last_name="Diagne", phone="70 000 00 09",
                                        email="awa@example.sn"), None).prospect
    [pair] = link(kept, [(other, ["birth_date"])], state="open")
    merge(pair.id, kept.id, lead)
    assert Prospect.get_by_id(kept.id).interaction_count == 2 and Prospect.get_by_id(kept.id).email == "awa@example.sn"
    assert Prospect.get_by_id(other.id).outcome == "lost"
    undo_merge(pair.id, lead)
    assert Prospect.get_by_id(kept.id).interaction_count == 1 and Prospect.get_by_id(kept.id).email is None
    assert Prospect.get_by_id(other.id).outcome == "open" and Prospect.get_by_id(other.id).interaction_count == 1
    assert DuplicateCandidate.get_by_id(pair.id).detail["undone_by"] == lead.id
