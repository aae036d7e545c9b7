"""Patients, as known from the patient system; interactions may be recorded on them (seed 001).

A patient is unique per source on its `external_id` (migration 0017): two patient systems may number their
patients alike. `match_name` and `match_initial` are reconciliation's blocking keys (rules/matching.py),
kept by `save()`; `PatientPhone` holds every number a patient gave, in E.164, for the phone block.
"""
from peewee import CharField, DateField, DateTimeField, ForeignKeyField, TextField

from ..rules.matching import name_block_key, surname_initial
from ..timeutil import utcnow
from .base import BaseModel


class Patient(BaseModel):
    external_id = CharField(null=True)
    source = CharField(null=True)          # the slug of the patient source (intake.Source.slug)
    first_name = CharField(default="")
    last_name = CharField(default="")
    phone = CharField(null=True)           # the first number; every one is in PatientPhone (looked up there)
    phone_raw = CharField(default="")
    email = CharField(null=True)           # indexed as LOWER(email), how it is looked up (migration 0022)
    birth_date = DateField(null=True)      # indexed by (birth_date, match_initial) below (migration 0017)
    provenance = TextField(default="")
    email_undeliverable_at = DateTimeField(null=True)   # migration 0016
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    # Migration 0017: the blocking keys of reconciliation, and the admission date the source gave.
    match_name = CharField(default="")
    match_initial = CharField(default="")
    admission_date = DateField(null=True)
    # Migration 0020: when a sync last named this patient (the retention sweep's clock, issue 17 §5); not
    # indexed (0021): the daily sweep reads every patient, and every sync rewrites it.
    seen_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            (("source", "external_id"), True),
            (("birth_date", "match_initial"), False),
        )

    def save(self, force_insert=False, only=None):
        self.match_name = name_block_key(self.first_name, self.last_name)
        self.match_initial = surname_initial(self.last_name)
        if only is not None:
            only = list(only) + [Patient.match_name, Patient.match_initial]
        saved = super().save(force_insert=force_insert, only=only)
        if self.phone:      # the first number is looked up where the others are
            PatientPhone.insert(patient=self.id, phone=self.phone).on_conflict_ignore().execute()
        return saved

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PatientPhone(BaseModel):
    """One number a patient gave, in E.164 (a patient system may hold several)."""
    patient = ForeignKeyField(Patient, backref="phones", on_delete="CASCADE", index=False)
    phone = CharField(index=True)

    class Meta:
        table_name = "patient_phones"   # "patient_phone" is the name of patient.phone's index
        indexes = ((("patient", "phone"), True),)
