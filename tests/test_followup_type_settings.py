"""The manager's follow-up types (seed 002): add, edit, next types, deactivate, reactivate, and their rules."""
import re

import pytest

from webapp.models import AuditEvent, FollowUpType, FollowUpTypeNext
from webapp.services import followup_types as service

XSS = "<script>alert(1)</script>"
URL = "/settings/followup-types"


def ftype(db, name) -> FollowUpType:
    return db(lambda: FollowUpType.get(FollowUpType.name == name))


def next_names(db, name) -> set[str]:
    def run():
        source = FollowUpType.get(FollowUpType.name == name)
        return {link.to_type.name for link in FollowUpTypeNext.select().where(FollowUpTypeNext.from_type == source)}
    return db(run)


def snapshot(db) -> tuple:
    return db(lambda: (
        list(FollowUpType.select(FollowUpType.id, FollowUpType.name, FollowUpType.description,
                                 FollowUpType.first_step, FollowUpType.action, FollowUpType.position,
                                 FollowUpType.active).order_by(FollowUpType.id).tuples()),
        sorted(FollowUpTypeNext.select(FollowUpTypeNext.from_type, FollowUpTypeNext.to_type).tuples())))


def audits(db) -> int:
    return db(lambda: AuditEvent.select().where(AuditEvent.action.startswith("followup_type.")).count())


def fields(followup_type: FollowUpType, **changes) -> dict:
    """The edit form as the page sends it, with some fields changed."""
    data = {"type_id": followup_type.id, "name": followup_type.name, "description": followup_type.description,
            "action": followup_type.action, "next": []}
    if followup_type.first_step:
        data["first_step"] = "1"
    data.update(changes)
    if data.get("first_step") is False:
        del data["first_step"]
    return data


def refused(response) -> str:
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    return re.search(r'class="flash flash-error" role="alert">([^<]*)<', page).group(1)


def only_one_first_step(db) -> FollowUpType:
    """Leave "Réponse à la demande" as the only first-step type (by the service, as a manager would)."""
    def run():
        for t in FollowUpType.select().where(FollowUpType.first_step & (FollowUpType.name != "Réponse à la demande")):
            service.update_type(t, t.name, t.description, False, t.action,
                                [str(i) for i in service.next_ids().get(t.id, ())])
        return FollowUpType.get(FollowUpType.name == "Réponse à la demande")
    return db(run)


# -- the page -----------------------------------------------------------------------------------

def test_the_manager_sees_each_type_with_its_action_in_words_and_its_next_types(manager, db):
    page = manager.get(URL).get_data(as_text=True)
    assert "Réponse à la demande" in page and "Consultation découverte" in page
    assert ">Trial session</option>" in page and ">Sales appointment</option>" in page and ">None</option>" in page
    card = re.search(rf'<article[^>]*id="type-{ftype(db, "Envoi de documentation").id}".*?</article>', page, re.S)
    checked = re.findall(r'<input type="checkbox" name="next" value="(\d+)" checked>', card.group(0))
    assert {int(i) for i in checked} == {ftype(db, "Rappel après devis / information").id,
                                         ftype(db, "Appel pour proposer un RDV").id}
    assert 'href="/settings/stages"' in page
    assert 'href="/settings/followup-types"' in manager.get("/settings/stages").get_data(as_text=True)


def test_a_hostile_name_is_escaped_on_the_page_and_in_the_flash(manager, db):
    response = manager.post(URL, data={"name": XSS, "action": "none"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert XSS not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert ftype(db, XSS).name == XSS


# -- adding and editing -------------------------------------------------------------------------

def test_the_manager_creates_a_type_and_links_next_types(manager, db):
    trial, rdv = ftype(db, "Consultation découverte"), ftype(db, "Rappel de RDV")
    response = manager.post(URL, data={"name": "  Relance   SMS ", "description": "Un SMS de rappel.",
                                       "first_step": "1", "action": "appointment",
                                       "next": [str(trial.id), str(rdv.id)]})
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)
    added = ftype(db, "Relance SMS")
    assert added.first_step and added.active and added.action == "appointment"
    assert added.description == "Un SMS de rappel."
    assert next_names(db, "Relance SMS") == {"Consultation découverte", "Rappel de RDV"}
    assert db(lambda: AuditEvent.select().where((AuditEvent.action == "followup_type.create")
                                                & (AuditEvent.record_id == added.id)).exists())
    assert "Relance SMS" in manager.get(URL).get_data(as_text=True)


def test_editing_the_next_types_replaces_the_set(manager, db):
    source = ftype(db, "Envoi de documentation")
    trial, rdv = ftype(db, "Consultation découverte"), ftype(db, "Rappel de RDV")
    response = manager.post(f"{URL}/update", data=fields(source, next=[str(trial.id), str(rdv.id)],
                                                         action="trial", description="Brochure PDF"))
    assert response.status_code == 302
    assert next_names(db, "Envoi de documentation") == {"Consultation découverte", "Rappel de RDV"}
    edited = ftype(db, "Envoi de documentation")
    assert edited.action == "trial" and edited.description == "Brochure PDF"
    manager.post(f"{URL}/update", data=fields(edited, next=[]))
    assert next_names(db, "Envoi de documentation") == set()
    assert db(lambda: AuditEvent.select().where((AuditEvent.action == "followup_type.update")
                                                & (AuditEvent.record_id == source.id)).count()) == 2


def test_an_unchanged_form_changes_nothing_and_is_not_audited(manager, db):
    source = ftype(db, "Envoi de documentation")
    current = [str(i) for i in db(service.next_ids)[source.id]]
    before = snapshot(db)
    assert manager.post(f"{URL}/update", data=fields(source, next=current)).status_code == 302
    assert snapshot(db) == before and audits(db) == 0


def test_a_type_cannot_be_its_own_next(manager, db):
    source = ftype(db, "Envoi de documentation")
    before = snapshot(db)
    message = refused(manager.post(f"{URL}/update", data=fields(source, next=[str(source.id)])))
    assert "itself" in message
    assert snapshot(db) == before and audits(db) == 0


def test_next_types_must_be_active_types(manager, db):
    source = ftype(db, "Envoi de documentation")
    db(lambda: service.deactivate_type(FollowUpType.get(FollowUpType.name == "Rappel de RDV")))
    before = snapshot(db)
    for bad in ("9999", "abc", str(ftype(db, "Rappel de RDV").id)):
        refused(manager.post(f"{URL}/update", data=fields(source, next=[bad])))
        refused(manager.post(URL, data={"name": "Autre", "action": "none", "next": [bad]}))
    assert snapshot(db) == before


@pytest.mark.parametrize("name", ["réponse à la DEMANDE", "  Rappel   de RDV "])
def test_duplicate_names_are_refused(manager, db, name):
    before = snapshot(db)
    assert "already called" in refused(manager.post(URL, data={"name": name, "action": "none"}))
    source = ftype(db, "Envoi de documentation")
    assert "already called" in refused(manager.post(f"{URL}/update", data=fields(source, name=name)))
    assert snapshot(db) == before and audits(db) == 0


def test_empty_long_names_and_unknown_actions_are_refused(manager, db):
    before = snapshot(db)
    refused(manager.post(URL, data={"name": "   ", "action": "none"}))
    refused(manager.post(URL, data={"name": "x" * 61, "action": "none"}))
    refused(manager.post(URL, data={"name": "Autre", "action": "visit"}))
    refused(manager.post(f"{URL}/update", data=fields(ftype(db, "Rappel de RDV"), action="visit")))
    assert snapshot(db) == before
    assert manager.post(URL, data={"name": "x" * 60, "action": "none"}).status_code == 302


def test_an_unknown_type_is_not_found(manager):
    assert manager.post(f"{URL}/update", data={"type_id": "9999", "name": "X", "action": "none"}).status_code == 404
    assert manager.post(f"{URL}/deactivate", data={"type_id": "abc"}).status_code == 404


# -- the first step a workflow needs ------------------------------------------------------------

def test_the_last_first_step_type_cannot_be_deactivated_or_unflagged(manager, db):
    last = only_one_first_step(db)
    before, audited = snapshot(db), audits(db)
    message = refused(manager.post(f"{URL}/deactivate", data={"type_id": last.id}))
    assert "first-step type must remain" in message
    message = refused(manager.post(f"{URL}/update", data=fields(last, first_step=False)))
    assert "first-step type must remain" in message
    assert snapshot(db) == before and audits(db) == audited
    fresh = ftype(db, "Réponse à la demande")
    assert fresh.active and fresh.first_step


def test_a_second_first_step_type_lets_the_first_be_deactivated(manager, db):
    last = only_one_first_step(db)
    manager.post(URL, data={"name": "Accueil", "action": "none", "first_step": "1"})
    assert manager.post(f"{URL}/deactivate", data={"type_id": last.id}).status_code == 302
    assert not ftype(db, "Réponse à la demande").active


# -- deactivating and reactivating --------------------------------------------------------------

def test_the_manager_deactivates_a_type_and_reactivates_it(manager, db):
    doc = ftype(db, "Envoi de documentation")
    before_links = db(service.next_ids)
    assert manager.post(f"{URL}/deactivate", data={"type_id": doc.id}).status_code == 302
    assert not ftype(db, "Envoi de documentation").active
    page = manager.get(URL).get_data(as_text=True)
    assert "Reactivate" in page
    assert f'name="next" value="{doc.id}"' not in page  # no longer offered as a next type
    assert manager.post(f"{URL}/reactivate", data={"type_id": doc.id}).status_code == 302
    assert ftype(db, "Envoi de documentation").active
    assert db(service.next_ids) == before_links  # the links were kept
    assert db(lambda: [e.action for e in AuditEvent.select().where(AuditEvent.record_id == doc.id)
                       .where(AuditEvent.action.startswith("followup_type.")).order_by(AuditEvent.id)]) \
        == ["followup_type.deactivate", "followup_type.reactivate"]


def test_editing_keeps_the_links_to_inactive_types(manager, db):
    source, doc = ftype(db, "Rappel de qualification"), ftype(db, "Envoi de documentation")
    manager.post(f"{URL}/deactivate", data={"type_id": doc.id})
    manager.post(f"{URL}/update", data=fields(source, next=[]))
    assert next_names(db, "Rappel de qualification") == {"Envoi de documentation"}


def test_an_inactive_type_whose_name_was_reused_cannot_be_reactivated(manager, db):
    doc = ftype(db, "Envoi de documentation")
    manager.post(f"{URL}/deactivate", data={"type_id": doc.id})
    manager.post(URL, data={"name": "envoi de documentation", "action": "none"})
    before = snapshot(db)
    assert "already called" in refused(manager.post(f"{URL}/reactivate", data={"type_id": doc.id}))
    assert snapshot(db) == before


# -- who may ------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["secretary", "lead", "admin"])
def test_non_managers_get_403_on_every_post_and_nothing_changes(as_role, db, role):
    db(lambda: service.deactivate_type(FollowUpType.get(FollowUpType.name == "Envoi de documentation")))
    client = as_role(role)
    target, inactive = ftype(db, "Rappel de RDV"), ftype(db, "Envoi de documentation")
    before, audited = snapshot(db), audits(db)
    assert client.get(URL).status_code == 403
    for path, data in [("", {"name": "Pirate", "action": "none"}),
                       ("/update", fields(target, name="Pirate")),
                       ("/deactivate", {"type_id": target.id}),
                       ("/reactivate", {"type_id": inactive.id})]:
        assert client.post(f"{URL}{path}", data=data).status_code == 403, path
    assert snapshot(db) == before and audits(db) == audited


# -- the service on each database ---------------------------------------------------------------

def test_the_service_keeps_its_rules_on_each_database(any_ctx):
    added = service.create_type("Relance SMS", "", True, "none", [])
    doc = FollowUpType.get(FollowUpType.name == "Envoi de documentation")
    assert service.update_type(added, "Relance SMS", "", True, "trial", [str(doc.id)])
    assert service.next_ids()[added.id] == {doc.id}
    with pytest.raises(service.FollowUpTypeError) as refusal:
        service.update_type(added, "Relance SMS", "", True, "trial", [str(added.id)])
    assert refusal.value.code == "self_next"
    assert service.deactivate_type(added) and not service.deactivate_type(added)
    assert service.reactivate_type(added)
