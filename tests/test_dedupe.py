"""Dedupe, patient first (seed 001), on SQLite and on PostgreSQL."""
from datetime import date

from webapp.models import DuplicateCandidate, Interaction, Patient, Prospect, TemperatureChange
from webapp.services.prospects import ContactInput, record_contact


def call(**fields):
    base = {"first_name": "Awa", "last_name": "Diop", "phone": "77 123 45 67", "qualification": "appointment",
            "temperature": "hot", "note": "Souhaite un RDV"}
    return ContactInput(**{**base, **fields})


def test_new_caller_becomes_a_prospect_with_a_first_interaction(any_ctx):
    outcome = record_contact(call(), None)
    assert outcome.created and outcome.recorded_on == "prospect" and outcome.matched_on == []
    prospect = Prospect.get_by_id(outcome.prospect.id)
    assert prospect.phone == "+221771234567" and prospect.interaction_count == 1
    assert prospect.stage.name == "Nouveau" and prospect.temperature == "hot"
    assert TemperatureChange.select().where(TemperatureChange.prospect == prospect).count() == 1


def test_same_phone_in_another_written_form_records_on_the_existing_prospect(any_ctx):
    first = record_contact(call(), None)
    again = record_contact(call(phone="00221 77-123-45-67", note="Rappel"), None)
    assert not again.created and again.prospect.id == first.prospect.id
    assert again.matched_on == ["phone"] and again.recorded_on == "prospect"
    assert Prospect.select().count() == 1
    assert Prospect.get_by_id(first.prospect.id).interaction_count == 2


def test_email_alone_finds_the_prospect(any_ctx):
    first = record_contact(call(phone="", email="awa.diop@example.sn"), None)
    again = record_contact(call(phone="", email="AWA.DIOP@example.sn"), None)
    assert again.prospect.id == first.prospect.id and again.matched_on == ["email"]


def test_birth_date_matches_only_with_the_same_name(any_ctx):
    born = date(1994, 5, 17)
    first = record_contact(call(phone="", email="a@example.sn", birth_date=born), None)
    same_person = record_contact(call(phone="", email="other@example.sn", birth_date=born), None)
    assert same_person.prospect.id == first.prospect.id and same_person.matched_on == ["birth_date"]
    stranger = record_contact(call(first_name="Fatou", last_name="Sow", phone="", email="f@example.sn",
                                   birth_date=born), None)
    assert stranger.created


def test_known_patient_gets_the_interaction_and_no_prospect_is_created(any_ctx):
    patient = Patient.create(first_name="Awa", last_name="Diop", phone="+221771234567", external_id="P-1")
    outcome = record_contact(call(), None)
    assert not outcome.created and outcome.recorded_on == "patient" and outcome.patient.id == patient.id
    assert outcome.matched_on == ["phone"]
    assert Prospect.select().count() == 0
    assert Interaction.get_by_id(outcome.interaction.id).patient_id == patient.id


def test_when_both_patient_and_prospect_exist_the_patient_wins(any_ctx):
    prospect = record_contact(call(), None).prospect
    patient = Patient.create(first_name="Awa", last_name="Diop", phone="+221771234567", external_id="P-2")
    outcome = record_contact(call(note="Encore"), None)
    assert outcome.recorded_on == "patient" and outcome.patient.id == patient.id
    assert Prospect.get_by_id(prospect.id).interaction_count == 1


def test_two_prospects_matching_different_keys_are_offered_for_merge_not_merged(any_ctx):
    by_phone = record_contact(call(), None).prospect
    by_email = record_contact(call(first_name="Aïssatou", last_name="Ba", phone="70 000 00 01",
                                   email="ab@example.sn"), None).prospect
    outcome = record_contact(call(email="ab@example.sn"), None)
    assert outcome.prospect.id in (by_phone.id, by_email.id)
    assert Prospect.select().count() == 2
    suspect = DuplicateCandidate.get()
    other = by_email if outcome.prospect.id == by_phone.id else by_phone
    assert suspect.other_prospect_id == other.id
    assert suspect.matched_on == ("email" if other.id == by_email.id else "phone")
    assert outcome.suspects
    # The other record's email is not copied onto the one the contact went to.
    assert Prospect.get_by_id(by_phone.id).email is None


def test_unreadable_phone_is_kept_flagged_and_the_prospect_still_created(any_ctx):
    outcome = record_contact(call(phone="77 12"), None)
    prospect = Prospect.get_by_id(outcome.prospect.id)
    assert outcome.created and prospect.phone is None and prospect.phone_raw == "77 12"
    assert prospect.phone_valid is False


def test_an_email_lookup_seeks_an_index_and_never_reads_every_record(ctx, caplog):
    """Emails are compared as LOWER(email) = ? (patient first, duplicates, mail routing): an index on that
    expression (migration 0022) serves it, on prospects and patients alike; without it each contact recorded
    with an email read every prospect and every patient (20 ms at 100,000 prospects)."""
    import logging

    from webapp.models import database
    record_contact(call(phone="", email="awa.diop@example.sn"), None)
    Patient.create(first_name="Awa", last_name="Diop", email="awa.diop@example.sn", external_id="P-1")
    caplog.set_level(logging.DEBUG, logger="peewee")
    record_contact(call(phone="", email="AWA.DIOP@example.sn", note="Encore"), None)
    lookups = [record.msg for record in caplog.records
               if isinstance(record.msg, tuple) and 'LOWER("t1"."email")' in record.msg[0]
               and record.msg[0].startswith("SELECT")]
    assert {'FROM "prospect"' in sql for sql, _ in lookups} == {True, False}    # both tables looked up
    for sql, params in lookups:
        plan = [row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
        assert not any(step.startswith("SCAN") for step in plan), (sql, plan)
