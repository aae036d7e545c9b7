"""Conversion (issue 17, §3): a patient from the patient system converts the prospect it was, with its date,
the patient and the stated provenance; follow-ups closed with history; everything audited and undoable;
later contacts go on the patient (seed 001)."""
from datetime import date, datetime, timedelta

import pytest

from integrations.contract import PatientRecord
from webapp.models import (AuditEvent, FollowUp, Interaction, LostReason, Patient, PatientMatch, PatientPhone,
                           Prospect, Stage, StageChange)
from webapp.services import reconcile
from webapp.services.board import move
from webapp.services.prospects import ContactInput, record_contact

NOW = datetime(2026, 12, 1, 10, 0)


def stage(kind="open", n=0):
    return list(Stage.select().where(Stage.kind == kind).order_by(Stage.position))[n]


def prospect(first="Ndèye", last="N'Diaye", phone="+221771234567", birth=None, email=None, kind="open",
             followups=1, **fields):
    p = Prospect.create(first_name=first, last_name=last, phone=phone, phone_raw=phone or "", email=email,
                        birth_date=birth, stage=stage(kind, 1 if kind == "open" else 0), outcome=kind,
                        created_at=NOW - timedelta(days=20), **fields)
    for n in range(followups):
        FollowUp.create(prospect=p, due_at=NOW + timedelta(days=n + 1), created_at=NOW - timedelta(days=3))
    if followups:
        from webapp.services.next_action import refresh_next_action
        refresh_next_action([p.id])
    return Prospect.get_by_id(p.id)


def record(external_id="P-1", first="Ndeye", last="Ndiaye", phones=("77 123 45 67",), **fields):
    phones = phones if isinstance(phones, str) else tuple(phones)   # a source may give one number as a string
    return PatientRecord(external_id=external_id, first_name=first, last_name=last, phones=phones, **fields)


def sync(*records, **kwargs):
    return reconcile.apply("dossiers", list(records), now=NOW, **kwargs)


def test_a_certain_match_converts_the_prospect_with_date_patient_provenance_and_history(any_ctx):
    p = prospect(followups=2)
    result = sync(record(provenance="facebook", admission_date=date(2026, 11, 28)))
    assert (result.rows_read, result.patients_created, result.converted, result.to_review, result.unmatched) == \
        (1, 1, 1, 0, 0)
    row = result.rows[0]
    assert (row.action, row.outcome, row.converted) == ("created", "converted", [p.id])
    patient = Patient.get(Patient.external_id == "P-1")
    after = Prospect.get_by_id(p.id)
    assert after.outcome == "won" and after.stage.kind == "won"
    assert after.patient_id == patient.id
    assert after.provenance == "Facebook"                     # the configured spelling
    assert after.converted_at == datetime(2026, 11, 28, 12, 0)  # the admission date
    assert after.next_action_at is None
    assert after.version == p.version + 1
    assert [f.state for f in FollowUp.select().where(FollowUp.prospect == p.id)] == ["cancelled", "cancelled"]
    change = StageChange.get(StageChange.prospect == p.id)
    assert (change.from_outcome, change.to_outcome, change.to_stage.kind) == ("open", "won", "won")
    match = PatientMatch.get()
    assert (match.state, match.verdict, match.note) == ("converted", "certain", "automatic")
    assert AuditEvent.select().where(AuditEvent.action == "patient.convert",
                                     AuditEvent.record_id == p.id).exists()
    assert [pp.phone for pp in PatientPhone.select()] == ["+221771234567"]
    assert reconcile.converted_prospect_ids(patient.id) == [p.id]


def test_apply_is_idempotent_and_a_dry_run_writes_nothing(any_ctx):
    p = prospect()
    preview = sync(record(), dry_run=True)
    assert (preview.patients_created, preview.converted, preview.rows[0].outcome) == (1, 1, "converted")
    assert preview.rows[0].converted == [p.id] and preview.rows[0].patient_id is None
    assert Patient.select().count() == 0 and PatientMatch.select().count() == 0
    assert Prospect.get_by_id(p.id).outcome == "open"
    first = sync(record())
    second = sync(record())
    assert (first.patients_created, first.converted) == (1, 1)
    assert (second.patients_created, second.patients_updated, second.patients_unchanged, second.converted,
            second.rows[0].outcome) == (0, 0, 1, 0, "known")
    changed = sync(record(email="ndeye@example.sn", phones=("77 123 45 67", "+33 6 12 34 56 78")))
    assert (changed.patients_updated, changed.converted) == (1, 0)
    assert {pp.phone for pp in PatientPhone.select()} == {"+221771234567", "+33612345678"}
    assert Patient.select().count() == 1 and StageChange.select().count() == 1


def test_undo_on_either_database(any_ctx):
    """The same undo on PostgreSQL too (the batch conversion writes raw SQL on both)."""
    p = prospect(followups=1)
    sync(record())
    reconcile.undo(PatientMatch.get().id, None, NOW + timedelta(hours=1))
    after = Prospect.get_by_id(p.id)
    assert (after.outcome, after.patient_id, after.next_action_at) == ("open", None, p.next_action_at)


def test_the_same_external_id_in_another_source_is_another_patient(ctx):
    sync(record(phones=()))
    reconcile.apply("autre-logiciel", [record(phones=())], now=NOW)
    assert Patient.select().count() == 2


def test_undo_restores_stage_outcome_and_followups_and_never_converts_again(ctx, make_user):
    lead = make_user("lead")
    p = prospect(followups=2)
    sync(record())
    match = PatientMatch.get()
    reconcile.undo(match.id, lead, NOW + timedelta(hours=1), note="erreur")
    after = Prospect.get_by_id(p.id)
    assert (after.outcome, after.stage_id, after.patient_id, after.converted_at, after.provenance) == \
        ("open", p.stage_id, None, None, "")
    assert after.next_action_at == p.next_action_at
    assert [f.state for f in FollowUp.select().where(FollowUp.prospect == p.id)] == ["planned", "planned"]
    assert PatientMatch.get_by_id(match.id).state == "undone"
    assert AuditEvent.select().where(AuditEvent.action == "patient.conversion_undo").exists()
    outcomes = [(c.from_outcome, c.to_outcome) for c in StageChange.select().order_by(StageChange.id)]
    assert outcomes == [("open", "won"), ("won", "open")]
    sync(record(email="x@y.sn"))    # the patient changes: matched again, the undone pair is not redone
    assert Prospect.get_by_id(p.id).outcome == "open"


def test_a_lost_prospect_converts_and_undo_puts_it_back_lost_with_its_reason(ctx, make_user):
    lead = make_user("lead")
    reason = LostReason.get(LostReason.code == "unreachable")
    p = prospect(kind="lost", followups=0, lost_reason=reason)
    sync(record())
    assert Prospect.get_by_id(p.id).outcome == "won"
    reconcile.undo(PatientMatch.get().id, lead, NOW)
    after = Prospect.get_by_id(p.id)
    assert (after.outcome, after.lost_reason_id) == ("lost", reason.id)


def test_the_batch_conversion_writes_what_the_boards_move_writes(ctx, make_user):
    lead = make_user("lead")
    a = prospect(followups=2)
    b = prospect(first="Awa", last="Sarr", phone="+221781112233", followups=2)
    sync(record())
    move(b.id, stage("won"), None, version=b.version, confirmed=True, now=NOW)
    pa, pb = Prospect.get_by_id(a.id), Prospect.get_by_id(b.id)
    for field in ("stage_id", "outcome", "lost_reason_id", "version", "next_action_at", "updated_at"):
        assert getattr(pa, field) == getattr(pb, field), field
    fa = [(f.state, f.done_at) for f in FollowUp.select().where(FollowUp.prospect == a.id)]
    fb = [(f.state, f.done_at) for f in FollowUp.select().where(FollowUp.prospect == b.id)]
    assert fa == fb
    ca, cb = (StageChange.get(StageChange.prospect == x.id) for x in (a, b))
    assert (ca.from_stage_id, ca.to_stage_id, ca.from_outcome, ca.to_outcome, ca.changed_at) == \
        (cb.from_stage_id, cb.to_stage_id, cb.from_outcome, cb.to_outcome, cb.changed_at)


def test_confirm_converts_through_the_board_and_reject_never_suggests_again(ctx, make_user):
    lead = make_user("lead")
    mother = prospect(first="Awa", last="Diallo", birth=date(1990, 3, 2))
    child = record(first="Fatou", last="Diallo", birth_date=date(2024, 5, 1))
    result = sync(child)
    assert (result.converted, result.to_review, result.rows[0].outcome) == (0, 1, "review")
    assert Prospect.get_by_id(mother.id).outcome == "open"        # the review blocks the conversion
    match = PatientMatch.get()
    assert match.state == "open" and "names_differ" in match.reasons
    reconcile.reject(match.id, lead, NOW, note="sa fille")
    sync(record(first="Fatou", last="Diallo", birth_date=date(2024, 5, 1), email="f@x.sn"))
    assert PatientMatch.select().count() == 1 and PatientMatch.get().state == "rejected"
    reconcile.undo(match.id, lead, NOW)                              # the rejection taken back
    assert PatientMatch.get().state == "open"
    reconcile.confirm(match.id, lead, NOW, note="vérifié au téléphone")
    after = Prospect.get_by_id(mother.id)
    assert after.outcome == "won" and after.patient_id == match.patient_id
    assert StageChange.get(StageChange.prospect == mother.id).user_id == lead.id
    with pytest.raises(reconcile.ReconcileError):
        reconcile.confirm(match.id, lead, NOW)
    for action in ("patient.reject", "patient.reject_undo", "patient.confirm"):
        assert AuditEvent.get(AuditEvent.action == action).actor_id == lead.id


def test_a_converted_prospect_who_calls_again_is_recorded_on_the_patient(ctx):
    p = prospect()
    sync(record(phones=("00221 77 123 45 67", "+33 6 12 34 56 78")))
    patient = Patient.get()
    result = record_contact(ContactInput(first_name="Ndèye", last_name="Ndiaye", phone="771234567",
                                         note="Demande un devis pour le programme"), None)
    assert result.recorded_on == "patient" and result.patient.id == patient.id
    assert Prospect.select().count() == 1
    assert Interaction.get().patient_id == patient.id and Interaction.get().prospect_id is None
    # her other number, known only to the patient system, leads to her too
    again = record_contact(ContactInput(first_name="Ndeye", last_name="Ndiaye", phone="+33612345678",
                                        note="Rappelle depuis la France"), None)
    assert again.recorded_on == "patient" and Prospect.select().count() == 1
    assert Prospect.get_by_id(p.id).outcome == "won"


def test_a_converted_prospect_leaves_every_rule_and_the_boards_open_columns(ctx):
    from webapp.services.sweep import run_sweep, sweep_rules

    p = prospect(temperature="hot", first_contact_at=NOW - timedelta(days=5), followups=0)
    q = prospect(first="Awa", last="Sarr", phone="+221781112233", temperature="hot",
                 first_contact_at=NOW - timedelta(days=5), followups=0)
    sync(record())
    assert Prospect.get_by_id(p.id).outcome == "won"
    run_sweep(NOW + timedelta(days=3))
    assert not FollowUp.select().where(FollowUp.prospect == p.id).exists()
    assert FollowUp.select().where(FollowUp.prospect == q.id).exists()   # the other one is still followed


def test_the_prospect_page_says_which_patient_it_became(app, as_role, db):
    p = db(lambda: prospect(followups=0))
    db(lambda: sync(record(provenance="site web")))
    client = as_role("lead")
    client.post("/language", data={"locale": "en"})
    html = client.get(f"/prospects/{p.id}").data.decode()
    patient = db(lambda: Patient.get())
    assert f"/patients/{patient.id}" in html and "Site web" in html
    assert "/reconciliation/" in html
    secretary = as_role("secretary")
    assert "/reconciliation/" not in secretary.get(f"/prospects/{p.id}").data.decode()


def test_the_preview_says_row_by_row_what_will_happen(ctx):
    p = prospect()
    mother = prospect(first="Awa", last="Diallo", phone="+221781112233")
    records = [record("A"), record("B", first="Fatou", last="Diallo", phones="78 111 22 33"),
               record("C", first="Yacine", last="Thiam", phones=("70 123 45 67",)), record("A")]
    preview = sync(*records, dry_run=True)
    assert [(r.row, r.external_id, r.action, r.outcome) for r in preview.rows] == [
        (1, "A", "superseded", "known"), (2, "B", "created", "review"), (3, "C", "created", "unmatched"),
        (4, "A", "created", "converted")]       # the last record of an external_id is the one applied
    assert preview.rows[1].review == [mother.id] and "names_differ" in preview.rows[1].reasons[mother.id]
    assert (preview.rows_read, preview.patients_created, preview.converted, preview.to_review,
            preview.unmatched) == (4, 3, 1, 1, 1)
    assert preview.summary()["to_review"] == 1 and "rows" not in preview.summary()
    applied = sync(*records)
    assert [(r.action, r.outcome) for r in applied.rows] == [(r.action, r.outcome) for r in preview.rows]
    assert Prospect.get_by_id(p.id).outcome == "won" and Prospect.get_by_id(mother.id).outcome == "open"


def test_a_record_without_external_id_is_refused(ctx):
    with pytest.raises(reconcile.ReconcileError):
        sync(record(" "))
    assert Patient.select().count() == 0


def test_a_whole_export_builds_the_patient_indexes_after_its_rows_and_converts_the_same(ctx, monkeypatch):
    """Above SCAN_ABOVE rows (SQLite) the patient tables' indexes, unique ones too, are dropped for the bulk
    insert and built again in the same transaction: the same conversions, and every index back."""
    def indexes():
        return sorted(ctx_row for ctx_row in reconcile.database.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('patient', 'patient_phones')"))
    before = indexes()
    p = prospect()
    monkeypatch.setattr(reconcile, "SCAN_ABOVE", 0)
    result = sync(record(), record("P-2", "Awa", "Sarr", phones=("78 000 11 22",)))
    assert (result.patients_created, result.converted, result.unmatched) == (2, 1, 1)
    assert Prospect.get_by_id(p.id).outcome == "won"
    assert indexes() == before
    assert Patient.select().where(Patient.phone == "+221771234567").count() == 1


def test_a_whole_export_checks_its_foreign_keys_once_and_converts_the_same(ctx, monkeypatch):
    """Above BULK_ABOVE rows (SQLite) foreign keys are checked once for the whole batch, before its commit,
    instead of row by row: the same conversions, every reference checked, enforcement back on after."""
    checks = []
    real_check = reconcile._check_foreign_keys
    monkeypatch.setattr(reconcile, "_check_foreign_keys", lambda user: checks.append(1) or real_check(user))
    monkeypatch.setattr(reconcile, "BULK_ABOVE", 0)
    p = prospect(followups=2)
    result = sync(record(), record("P-2", "Awa", "Sarr", phones=("78 000 11 22",)))
    assert (result.patients_created, result.converted, result.unmatched) == (2, 1, 1)
    assert checks == [1]
    assert Prospect.get_by_id(p.id).patient_id == Patient.get(Patient.external_id == "P-1").id
    assert StageChange.select().where(StageChange.prospect == p.id).count() == 1
    assert reconcile.database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_whole_export_with_a_broken_reference_is_refused_whole(ctx, monkeypatch):
    """A reference to nothing (here a won stage that does not exist) fails the final check: the batch is
    rolled back, no patient written, the prospect untouched, enforcement back on."""
    monkeypatch.setattr(reconcile, "BULK_ABOVE", 0)
    monkeypatch.setattr(reconcile, "won_stage", lambda: Stage(id=999_999, kind="won"))
    p = prospect()
    with pytest.raises(reconcile.IntegrityError):
        sync(record(), record("P-2", "Awa", "Sarr", phones=("78 000 11 22",)))
    assert Patient.select().count() == 0
    assert Prospect.get_by_id(p.id).outcome == "open"
    assert reconcile.database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_sync_marks_every_patient_it_names_as_seen(ctx):
    """The retention clock: created, updated and unchanged patients are all seen at the sync's time."""
    sync(record(), record("P-2", "Awa", "Sarr", phones=("78 000 11 22",)))
    later = NOW + timedelta(days=3)
    reconcile.apply("dossiers", [record(), record("P-2", "Awa", "Sarr", phones=("78 000 11 23",))], now=later)
    assert {p.external_id: p.seen_at for p in Patient.select()} == {"P-1": later, "P-2": later}


def test_a_namesake_in_a_later_sync_puts_a_conversion_on_names_alone_in_review(ctx, make_user):
    """A prospect known only by her names and birth date converts by itself; a later sync brings a second
    patient with the same names and birth date: the pair goes to review (several patients), nothing changes
    by itself, and "same person" moves the prospect to the new patient, undoing the first conversion."""
    born = date(1990, 5, 1)
    p = prospect("Awa", "Diop", phone=None, birth=born, followups=1)
    first = sync(record("P-1", "Awa", "Diop", phones=("78 000 11 22",), birth_date=born))
    assert first.rows[0].converted == [p.id]
    second = reconcile.apply("dossiers", [record("P-2", "AWA", "DIOP", phones=("76 555 44 33",), birth_date=born)],
                             now=NOW + timedelta(days=10))
    assert (second.rows[0].outcome, second.rows[0].review) == ("review", [p.id])
    assert "several_patients" in second.rows[0].reasons[p.id]
    p1, p2 = Patient.get(Patient.external_id == "P-1"), Patient.get(Patient.external_id == "P-2")
    assert Prospect.get_by_id(p.id).patient_id == p1.id                     # nothing changed by itself
    lead = make_user("lead")
    review = PatientMatch.get((PatientMatch.patient == p2.id) & (PatientMatch.state == "open"))
    assert reconcile.replaced_conversion(review).patient_id == p1.id
    reconcile.confirm(review.id, lead, NOW + timedelta(days=11))
    after = Prospect.get_by_id(p.id)
    assert (after.patient_id, after.outcome) == (p2.id, "won")
    assert PatientMatch.get((PatientMatch.patient == p1.id) & (PatientMatch.prospect == p.id)).state == "undone"
    assert reconcile.converted_prospect_ids(p2.id) == [p.id] and reconcile.converted_prospect_ids(p1.id) == []
    # the same sync again brings nothing new to review
    again = reconcile.apply("dossiers", [record("P-2", "AWA", "DIOP", phones=("76 555 44 33",), birth_date=born)],
                            now=NOW + timedelta(days=12))
    assert again.to_review == 0 and again.converted == 0


def test_a_namesake_rejected_leaves_the_first_conversion(ctx, make_user):
    born = date(1990, 5, 1)
    p = prospect("Awa", "Diop", phone=None, birth=born)
    sync(record("P-1", "Awa", "Diop", phones=("78 000 11 22",), birth_date=born))
    sync(record("P-2", "Awa", "Diop", phones=("76 555 44 33",), birth_date=born))
    review = PatientMatch.get(PatientMatch.state == "open")
    reconcile.reject(review.id, make_user("lead"), NOW)
    assert Prospect.get_by_id(p.id).patient_id == Patient.get(Patient.external_id == "P-1").id


def test_a_conversion_backed_by_a_phone_is_not_put_in_doubt_by_a_namesake(ctx):
    born = date(1990, 5, 1)
    p = prospect("Awa", "Diop", phone="+221771234567", birth=born)
    sync(record("P-1", "Awa", "Diop", phones=("77 123 45 67",), birth_date=born))
    later = sync(record("P-2", "Awa", "Diop", phones=("76 555 44 33",), birth_date=born))
    assert (later.to_review, later.rows[0].outcome) == (0, "unmatched")
    assert Prospect.get_by_id(p.id).patient_id == Patient.get(Patient.external_id == "P-1").id


def test_the_review_says_which_conversion_confirming_would_replace(app, as_role, db):
    born = date(1990, 5, 1)
    db(lambda: prospect("Awa", "Diop", phone=None, birth=born))
    db(lambda: sync(record("P-1", "Awa", "Diop", phones=("78 000 11 22",), birth_date=born)))
    db(lambda: sync(record("P-2", "Awa", "Diop", phones=("76 555 44 33",), birth_date=born)))
    html = as_role("lead").get("/reconciliation").get_data(as_text=True)
    assert "Déjà converti par le rapprochement automatique en Awa Diop" in html
    assert "le prospect correspond à plusieurs patients" in html
