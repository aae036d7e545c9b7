"""Prospecting lists (seed 004): unqualified contacts, imported and worked before qualification."""
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from ..timeutil import utcnow
from .base import BaseModel, JSONField
from .prospects import Prospect
from .users import User


class ProspectingList(BaseModel):
    name = CharField()
    owner = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class ListContact(BaseModel):
    list = ForeignKeyField(ProspectingList, backref="contacts", on_delete="CASCADE")
    position = IntegerField(default=0)
    first_name = CharField(default="")
    last_name = CharField(default="")
    phone = CharField(null=True, index=True)
    phone_raw = CharField(default="")
    email = CharField(null=True)
    data = JSONField(default=dict)
    assigned_to = ForeignKeyField(User, null=True, on_delete="SET NULL")
    worked_at = DateTimeField(null=True)
    prospect = ForeignKeyField(Prospect, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
