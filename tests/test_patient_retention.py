"""Privacy (issue 17 §5): a sync marks the patients it names as seen; patients no sync has named for the
configured months and that nothing links to are deleted by the nightly sweep."""
from datetime import datetime, timedelta

from integrations.contract import PatientRecord
from webapp.models import AuditEvent, Interaction, Patient, PatientPhone, Source
from webapp.services import patient_sync
from webapp.services.defaults import setting

NOW = datetime(2026, 12, 1, 3, 0)


def push(source, *ids, at):
    records = [PatientRecord(external_id=i, first_name="Awa", last_name=f"Diop {i}", phones=(f"+22177123450{n}",))
               for n, i in enumerate(ids)]
    return patient_sync.push(source, records, now=at)


def test_patients_unseen_for_the_retention_period_and_unlinked_are_deleted(ctx):
    source = Source.create(slug="his", type="patient_push")
    push(source, "old", "linked", "seen-again", at=NOW - timedelta(days=800))
    push(source, "seen-again", at=NOW - timedelta(days=10))
    Interaction.create(patient=Patient.get(Patient.external_id == "linked"), channel="phone", direction="in")
    manual = Patient.create(first_name="Hors", last_name="Synchro")      # never synced: never purged
    assert setting("patient_retention_months") == 24
    old_id = Patient.get(Patient.external_id == "old").id
    assert patient_sync.purge_stale(NOW, 24) == 1
    assert sorted(p.external_id or "-" for p in Patient.select()) == ["-", "linked", "seen-again"]
    assert not PatientPhone.select().where(PatientPhone.patient == old_id).exists()
    assert Patient.get_by_id(manual.id)
    assert AuditEvent.get(AuditEvent.action == "patients.retention").detail.startswith("1 patient")


def test_a_retention_of_zero_keeps_every_patient(ctx):
    source = Source.create(slug="his", type="patient_push")
    push(source, "old", at=NOW - timedelta(days=3000))
    assert patient_sync.purge_stale(NOW, 0) == 0 and Patient.select().count() == 1
