"""Patients, as known from the patient system; interactions may be recorded on them (seed 001)."""
from peewee import CharField, DateField, DateTimeField, TextField

from ..timeutil import utcnow
from .base import BaseModel


class Patient(BaseModel):
    external_id = CharField(null=True, unique=True)
    source = CharField(null=True)
    first_name = CharField(default="")
    last_name = CharField(default="")
    phone = CharField(null=True, index=True)
    phone_raw = CharField(default="")
    email = CharField(null=True, index=True)
    birth_date = DateField(null=True, index=True)
    provenance = TextField(default="")
    search_text = TextField(default="")
    email_undeliverable_at = DateTimeField(null=True)   # migration 0016
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
