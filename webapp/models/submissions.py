"""Form submissions already applied: a double click or a resent form records once."""
from datetime import datetime

from peewee import CharField, DateTimeField, ForeignKeyField

from ..timeutil import utcnow
from .base import BaseModel
from .users import User


class Submission(BaseModel):
    """The key a staff form carried when its effect was applied, and where that effect can be seen."""
    key = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, null=True, on_delete="CASCADE")
    result = CharField(max_length=200, default="")
    created_at: datetime = DateTimeField(default=utcnow, index=True)
