"""Integration sources and the raw inbound requests they deliver, stored before any processing."""
from peewee import (BlobField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField,
                    TextField)

from ..timeutil import utcnow
from .base import BaseModel, JSONField
from .patients import Patient
from .prospects import Prospect

SOURCE_TYPES = ("webform", "imap", "patients")
REQUEST_STATES = ("received", "processed", "failed", "spam", "dismissed")  # dismissed: a failed one set aside


class Source(BaseModel):
    slug = CharField(unique=True)
    type = CharField(choices=[(t, t) for t in SOURCE_TYPES])
    name = CharField(default="")
    config = JSONField(default=dict)
    secret = TextField(null=True)   # write-only: never rendered, serialised or logged (migration 0018)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)


class InboundRequest(BaseModel):
    # Indexes are few on purpose (migrations 0006, 0007): each intake post pays for every one of them.
    source = ForeignKeyField(Source, backref="requests", on_delete="RESTRICT", index=False)
    received_at = DateTimeField(default=utcnow)
    remote_addr = CharField(default="")
    headers = JSONField(default=dict)
    content_type = CharField(default="")
    body = BlobField()
    idempotency_key = CharField(null=True)
    fingerprint = CharField(null=True, index=True)
    state = CharField(default="received")
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    lease_until = DateTimeField(null=True)
    processed_at = DateTimeField(null=True)
    parsed = JSONField(null=True)
    triage = BooleanField(default=False)
    prospect = ForeignKeyField(Prospect, null=True, on_delete="SET NULL", index=False)
    patient = ForeignKeyField(Patient, null=True, on_delete="SET NULL", index=False)
    message_id = CharField(null=True, index=True)   # a mail's Message-ID (migration 0016)

    class Meta:
        indexes = ((("source", "idempotency_key"), True), (("state", "triage"), False))

    @property
    def emptied(self) -> bool:
        """Its raw contents were emptied (after the retention period, or by the person's erasure)."""
        return self.state != "received" and not self.fingerprint and self.parsed is None and not self.body


class SourceCursor(BaseModel):
    """How far a source has been read, per key (an IMAP folder and its UIDVALIDITY, a FHIR server's
    last `_lastUpdated`): written in the same transaction as what was read with it (migration 0016)."""
    source = ForeignKeyField(Source, backref="cursors", on_delete="CASCADE", index=False)
    key = CharField()
    value = TextField(default="")
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("source", "key"), True),)
