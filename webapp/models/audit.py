"""The append-only audit log: who did what to which record, from where; never health values."""
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from ..timeutil import utcnow
from .base import BaseModel
from .users import ApiToken, User


class AuditEvent(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    actor_label = CharField(default="")
    token = ForeignKeyField(ApiToken, null=True, on_delete="SET NULL")  # a machine acting with it
    action = CharField(index=True)
    record_type = CharField(default="")
    record_id = IntegerField(null=True)
    address = CharField(default="")
    detail = CharField(default="")
