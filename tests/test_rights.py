"""A person's rights over their data (issue 14 item 4): the manager's export of everything held on a
person, erasure that anonymises while keeping the figures, both audited; raw requests' retention."""
import json
from datetime import datetime, timedelta

import pytest

from tests.conftest import login, make_app
from webapp.models import (AuditEvent, ConsentChange, DuplicateCandidate, FollowUp, FollowUpType, InboundRequest,
                           Interaction, Patient, Prospect, TemperatureChange, database)
from webapp.services import intake, rights
from webapp.services.prospects import ContactInput, add_interaction, change_temperature, record_contact
from webapp.services.search import Criteria, search
from webapp.services.sources import create_source
from webapp.timeutil import utcnow

NOW = datetime(2026, 12, 3, 10, 0)
AWA = {"first_name": "Awa", "last_name": "Ndiaye", "phone": "77 123 45 67", "email": "awa.ndiaye@example.sn",
       "message": "Je voudrais un devis pour un suivi de grossesse"}


def _person():
    """A prospect who wrote from the website, was called, has a follow-up done and one planned, and a
    temperature change with a reason; beside her, someone else and a patient who must stay as they are."""
    source = create_source("site", "webform", "Site web", {"mode": "auto"})
    received = intake.accept(source, content_type="application/json", headers={"User-Agent": "Firefox"},
                             body=json.dumps(AWA).encode(), remote_addr="10.0.0.7", now=NOW - timedelta(days=3))
    intake.process(received.id, NOW - timedelta(days=3))
    prospect = InboundRequest.get_by_id(received.id).prospect
    prospect.birth_date = datetime(1994, 5, 2).date()
    prospect.save()
    add_interaction(prospect, channel="phone", direction="out", note="Rappelée : enceinte de 8 semaines", now=NOW)
    change_temperature(prospect, "hot", "Veut un RDV avec le Dr Sarr", None, now=NOW)
    kind = FollowUpType.get(FollowUpType.first_step)
    FollowUp.create(prospect=prospect, type=kind, due_at=NOW, state="done", outcome="next_step", done_at=NOW,
                    comment="Lui parler de l'échographie", outcome_note="Préfère être appelée le soir")
    FollowUp.create(prospect=prospect, type=kind, due_at=NOW + timedelta(days=2), comment="Rappeler Awa")
    other = record_contact(ContactInput(first_name="Fatou", last_name="Sow", phone="77 999 88 77",
                                        note="Question sur les tarifs"), None, now=NOW).prospect
    patient = Patient.create(first_name="Awa", last_name="Ndiaye", phone="+221771234567")
    Interaction.create(patient=patient, channel="phone", direction="in", note="Note du dossier patient",
                       occurred_at=NOW)
    return Prospect.get_by_id(prospect.id), other, patient, received.id


def _counts():
    return {
        "prospects": Prospect.select().count(),
        "interactions": Interaction.select().count(),
        "followups": FollowUp.select().count(),
        "temperature_changes": TemperatureChange.select().count(),
        "requests": sorted((r.state, r.triage) for r in InboundRequest.select()),
        "per_channel": sorted((p.channel, p.stage_id, p.outcome, p.interaction_count) for p in Prospect.select()),
    }


def _found(text):
    return [p.id for p in search(Criteria(q=text), 1, 50)[0]]


# --- the export -------------------------------------------------------------------------------------

def test_the_export_holds_the_record_interactions_followups_history_and_the_raw_request(any_ctx):
    prospect, other, _, request_id = _person()

    data = rights.export_person(prospect, NOW)

    assert data["prospect"]["id"] == prospect.id and data["prospect"]["last_name"] == "Ndiaye"
    assert data["prospect"]["phone"] == "+221771234567" and data["prospect"]["birth_date"] == "1994-05-02"
    notes = [item["note"] for item in data["interactions"]]
    assert "Rappelée : enceinte de 8 semaines" in notes and len(notes) == 2
    assert {f["outcome_note"] for f in data["followups"]} >= {"Préfère être appelée le soir"}
    assert {f["comment"] for f in data["followups"]} >= {"Rappeler Awa", "Lui parler de l'échographie"}
    kinds = {entry["kind"] for entry in data["history"]}
    assert {"interaction", "followup", "temperature"} <= kinds
    assert [c["reason"] for c in data["temperature_changes"]][-1] == "Veut un RDV avec le Dr Sarr"
    [raw] = data["inbound_requests"]
    assert raw["id"] == request_id and raw["body"]["encoding"] == "text"
    assert json.loads(raw["body"]["text"])["email"] == "awa.ndiaye@example.sn"
    assert raw["headers"] == {"User-Agent": "Firefox"}
    assert "Fatou" not in json.dumps(data)                                     # nobody else's data
    assert data["exported_at"].endswith("+00:00")


def test_a_binary_raw_body_is_exported_as_base64(any_ctx):
    assert rights._body(b"\xff\xfe\x00a") == {"encoding": "base64", "text": "//4AYQ=="}


def test_a_manager_downloads_the_export_as_a_json_attachment_and_it_is_audited(as_role, db):
    client = as_role("manager")
    prospect, *_ = db(_person)

    answer = client.get(f"/prospects/{prospect.id}/export")

    assert answer.status_code == 200 and answer.mimetype == "application/json"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"prospect-{prospect.id}-" in disposition
    assert "no-store" in answer.headers["Cache-Control"]
    assert answer.json["prospect"]["first_name"] == "Awa"
    event = db(lambda: AuditEvent.get(AuditEvent.action == "prospect.export"))
    assert (event.record_id, event.actor_id) == (prospect.id, client.user.id)
    assert "Awa" not in event.detail and "77" not in event.detail


def test_the_record_page_shows_the_personal_data_section_to_managers_only(as_role, db, app, make_user):
    prospect, *_ = db(_person)
    manager = as_role("manager")
    page = manager.get(f"/prospects/{prospect.id}").get_data(as_text=True)
    assert f"/prospects/{prospect.id}/export" in page and f"/prospects/{prospect.id}/erase" in page

    lead = app.test_client()
    login(lead, make_user("lead"))
    page = lead.get(f"/prospects/{prospect.id}").get_data(as_text=True)
    assert "/export" not in page and "/erase" not in page


@pytest.mark.parametrize("role", ["secretary", "lead", "admin"])
def test_other_roles_get_403_on_export_and_erase_and_nothing_changes(role, as_role, db):
    client = as_role(role)
    prospect, *_ = db(_person)

    assert client.get(f"/prospects/{prospect.id}/export").status_code == 403
    assert client.get(f"/prospects/{prospect.id}/erase").status_code == 403
    assert client.post(f"/prospects/{prospect.id}/erase", data={"confirm": "y"}).status_code == 403

    again = db(lambda: Prospect.get_by_id(prospect.id))
    assert (again.last_name, again.erased_at) == ("Ndiaye", None)
    rights_events = AuditEvent.action.in_(("prospect.export", "prospect.erase"))
    assert db(lambda: AuditEvent.select().where(rights_events).count()) == 0


# --- erasure ----------------------------------------------------------------------------------------

def test_erasure_removes_names_contacts_notes_and_the_raw_body_and_keeps_every_count(any_ctx):
    prospect, other, patient, request_id = _person()
    before = _counts()
    planned = FollowUp.select().where((FollowUp.prospect == prospect.id) & (FollowUp.state == "planned")).count()
    assert planned == 2                                     # the first answer's deadline and "Rappeler Awa"
    assert _found("Ndiaye") and _found("771234567")

    result = rights.erase_person(prospect, None, NOW)

    erased = Prospect.get_by_id(prospect.id)
    assert erased.full_name == "Personne effacée" and erased.erased_at == NOW
    assert (erased.phone, erased.phone_raw, erased.email, erased.birth_date) == (None, "", None, None)
    assert erased.do_not_contact and "ndiaye" not in erased.search_text
    assert prospect.id not in _found("Ndiaye") and prospect.id not in _found("77 123 45 67")
    assert prospect.id not in _found("awa.ndiaye@example.sn")
    assert {i.note for i in Interaction.select().where(Interaction.prospect == prospect.id)} == {""}
    followups = list(FollowUp.select().where(FollowUp.prospect == prospect.id))
    assert {(f.comment, f.outcome_note) for f in followups} == {("", "")}
    assert sorted(f.state for f in followups) == ["cancelled", "cancelled", "done"]  # nothing left planned
    assert {c.reason for c in TemperatureChange.select().where(TemperatureChange.prospect == prospect.id)} == {""}
    raw = InboundRequest.get_by_id(request_id)
    assert (bytes(raw.body), raw.headers, raw.parsed, raw.remote_addr) == (b"", {}, None, "")
    assert (raw.state, raw.prospect_id) == ("processed", prospect.id) and raw.emptied
    assert (result.interactions, result.followups, result.requests, result.cancelled) == (2, 2, 1, 2)

    after = _counts()
    assert {k: v for k, v in after.items() if k != "per_channel"} == \
        {k: v for k, v in before.items() if k != "per_channel"}
    assert after["per_channel"] == before["per_channel"]
    # Only the prospect's own data: the other prospect and the patient of the same phone keep theirs.
    assert Prospect.get_by_id(other.id).full_name == "Fatou Sow"
    assert Interaction.get(Interaction.patient == patient.id).note == "Note du dossier patient"
    assert Patient.get_by_id(patient.id).phone == "+221771234567"


def test_erasure_is_audited_without_personal_data_and_a_second_run_changes_nothing(any_ctx):
    prospect, *_ = _person()

    rights.erase_person(prospect, None, NOW)
    first = rights.export_person(Prospect.get_by_id(prospect.id), NOW)
    again = rights.erase_person(prospect, None, NOW + timedelta(days=1))

    assert not again.first and (again.interactions, again.followups, again.requests, again.cancelled) == (0, 0, 0, 0)
    assert Prospect.get_by_id(prospect.id).erased_at == NOW
    second = rights.export_person(Prospect.get_by_id(prospect.id), NOW)
    for key in ("interactions", "followups", "inbound_requests", "temperature_changes", "consent_changes"):
        assert first[key] == second[key], key
    assert ConsentChange.select().where(ConsentChange.prospect == prospect.id).count() == 1
    events = list(AuditEvent.select().where(AuditEvent.action == "prospect.erase").order_by(AuditEvent.id))
    assert [e.record_id for e in events] == [prospect.id, prospect.id]
    text = " ".join(e.detail for e in AuditEvent.select().where(AuditEvent.at >= NOW))
    for secret in ("Awa", "Ndiaye", "771234567", "example.sn", "enceinte", "Sarr"):
        assert secret not in text
    assert "Ndiaye" not in json.dumps(second)


def test_a_record_merged_into_the_erased_one_is_erased_with_it(any_ctx):
    from webapp.services.duplicates import merge

    prospect, *_ = _person()
    twin = record_contact(ContactInput(first_name="Awa", last_name="Ndiaye", email="awa.n@example.sn",
                                       note="Second formulaire"), None, now=NOW).prospect
    pair = DuplicateCandidate.create(prospect=prospect, other_prospect=twin, matched_on="name")
    merge(pair.id, prospect.id, None, NOW)

    result = rights.erase_person(prospect, None, NOW)

    assert result.prospect_ids == [prospect.id, twin.id]
    tombstone = Prospect.get_by_id(twin.id)
    assert (tombstone.email, tombstone.erased_at) == (None, NOW)
    assert "awa.n@example.sn" not in json.dumps(DuplicateCandidate.get_by_id(pair.id).detail)


def test_a_manager_erases_after_confirming_and_the_refused_confirmation_changes_nothing(as_role, db):
    client = as_role("manager")
    client.post("/language", data={"locale": "en"})  # the neutral name is stored in the business's language
    prospect, *_ = db(_person)

    assert client.get(f"/prospects/{prospect.id}/erase").status_code == 200
    refused = client.post(f"/prospects/{prospect.id}/erase", data={})
    assert refused.status_code == 400
    assert db(lambda: Prospect.get_by_id(prospect.id).erased_at) is None

    done = client.post(f"/prospects/{prospect.id}/erase", data={"confirm": "y"})
    assert done.status_code == 302 and done.location.endswith(f"/prospects/{prospect.id}")
    erased = db(lambda: Prospect.get_by_id(prospect.id))
    assert erased.erased_at is not None and erased.phone is None
    event = db(lambda: AuditEvent.get(AuditEvent.action == "prospect.erase"))
    assert (event.record_id, event.actor_id) == (prospect.id, client.user.id)
    assert erased.full_name == "Personne effacée"
    page = client.get(f"/prospects/{prospect.id}").get_data(as_text=True)
    assert "Personne effacée" in page and "Data erased" in page and "Awa" not in page


def test_the_erase_form_needs_its_csrf_token_and_works_with_it(sqlite_url):
    from tests.test_security import _login_with_csrf, _token, _user

    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    client = _login_with_csrf(app, _user(app, "manager"))
    with app.test_request_context(), database.connection_context():
        prospect, *_ = _person()

    assert client.post(f"/prospects/{prospect.id}/erase", data={"confirm": "y"}).status_code == 400
    with app.app_context(), database.connection_context():
        assert Prospect.get_by_id(prospect.id).erased_at is None
    token = _token(client.get(f"/prospects/{prospect.id}/erase").data)
    answer = client.post(f"/prospects/{prospect.id}/erase", data={"confirm": "y", "csrf_token": token})
    assert answer.status_code == 302
    with app.app_context(), database.connection_context():
        assert Prospect.get_by_id(prospect.id).erased_at is not None


def test_the_cli_erases_a_prospect_by_id(runner, db):
    prospect, *_ = db(_person)

    result = runner.invoke(args=["erase", "--prospect", str(prospect.id), "--yes"])

    assert result.exit_code == 0, result.output
    erased = db(lambda: Prospect.get_by_id(prospect.id))
    assert erased.erased_at is not None and erased.full_name == "Personne effacée"
    assert db(lambda: AuditEvent.get(AuditEvent.action == "prospect.erase").actor_label) == "cli"
    assert runner.invoke(args=["erase", "--prospect", "999999", "--yes"]).exit_code != 0


# --- retention --------------------------------------------------------------------------------------

def test_failed_dismissed_and_triage_raw_bodies_are_purged_after_the_retention_period(any_ctx):
    triage = create_source("triage", "webform", "Site web")                  # waits for the lead
    now, old = utcnow(), utcnow() - timedelta(days=200)

    def accept(body: bytes, when=old):
        return intake.accept(triage, content_type="application/json", headers={"User-Agent": "x"}, body=body,
                             remote_addr="10.0.0.9", now=when).id

    waiting = accept(json.dumps(AWA).encode())
    intake.process(waiting, old)
    failed = accept(b'{"first_name": "Awa"}')                                 # no phone nor email: failed
    dismissed = accept(b'{"first_name": "Fatou"}')
    intake.dismiss(dismissed, None)
    unread = InboundRequest.create(source=triage, content_type="application/json", body=b'{"phone": "771112233"}',
                                   received_at=old)
    recent = accept(json.dumps(AWA).encode(), when=now - timedelta(days=2))
    intake.process(recent, now)
    states = {i: InboundRequest.get_by_id(i).state for i in (waiting, failed, dismissed)}
    assert states == {waiting: "processed", failed: "failed", dismissed: "dismissed"}

    assert intake.purge_raw(now, days=180) == 3
    assert intake.purge_raw(now, days=180) == 0

    for request_id, state in states.items():
        item = InboundRequest.get_by_id(request_id)
        assert (bytes(item.body), item.parsed, item.headers, item.remote_addr) == (b"", None, {}, "")
        assert item.state == state and item.emptied
    assert InboundRequest.get_by_id(waiting).triage                           # still waits, as it was
    assert bytes(InboundRequest.get_by_id(unread.id).body)                    # never read: kept
    assert bytes(InboundRequest.get_by_id(recent).body)                       # not old enough


def test_a_purged_triage_request_still_waits_in_the_queue_but_makes_no_empty_prospect(as_role, db):
    client = as_role("lead")

    def setup():
        source = create_source("triage", "webform", "Site web")
        received = intake.accept(source, content_type="application/json", headers={}, body=json.dumps(AWA).encode(),
                                 remote_addr="", now=utcnow() - timedelta(days=200))
        intake.process(received.id)
        intake.purge_raw(utcnow(), 180)
        return received.id
    request_id = db(setup)

    page = client.get("/requests")
    assert page.status_code == 200 and f"request-{request_id}" in page.get_data(as_text=True)
    assert f"/requests/{request_id}/create" not in page.get_data(as_text=True)
    assert client.get(f"/requests/{request_id}").status_code == 200
    # Nobody is left to create: refused, and the request still waits (the lead may file it as spam).
    assert client.post(f"/requests/{request_id}/create").status_code == 400
    assert db(lambda: (Prospect.select().count(), InboundRequest.get_by_id(request_id).triage)) == (0, True)


def test_a_failed_request_emptied_by_the_retention_is_not_replayed(as_role, db):
    client = as_role("lead")

    def setup():
        source = create_source("triage", "webform", "Site web")
        received = intake.accept(source, content_type="application/json", headers={}, body=b'{"first_name": "Awa"}',
                                 remote_addr="", now=utcnow() - timedelta(days=200))
        intake.purge_raw(utcnow(), 180)
        return received.id
    request_id = db(setup)
    assert db(lambda: InboundRequest.get_by_id(request_id).state) == "failed"

    assert "/replay" not in client.get("/requests?queue=failed").get_data(as_text=True)
    assert client.post(f"/requests/{request_id}/replay").status_code == 400
    assert db(lambda: intake.replay(request_id, None)) == "failed"
    item = db(lambda: InboundRequest.get_by_id(request_id))
    assert (item.state, item.error, item.attempts) == ("failed", "missing_contact", 0)
