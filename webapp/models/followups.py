"""Follow-ups: planned actions on a prospect, by hand or by a rule (seeds 000, 001, 002)."""
from peewee import CharField, DateTimeField, ForeignKeyField, TextField

from ..timeutil import utcnow
from .base import BaseModel, JSONField
from .config import FollowUpType
from .prospects import Interaction, Prospect
from .users import User

class FollowUp(BaseModel):
    prospect = ForeignKeyField(Prospect, backref="followups", on_delete="CASCADE")
    type = ForeignKeyField(FollowUpType, null=True, on_delete="SET NULL")
    owner = ForeignKeyField(User, null=True, backref="followups", on_delete="SET NULL")
    due_at = DateTimeField(index=True)
    value = CharField(default="warm")      # the prospect's value: hot, warm, cold, lost
    comment = TextField(default="")
    rule = CharField(null=True)            # the rule that made it; null when planned by hand
    rule_reason = TextField(default="")   # free text, as older rule follow-ups carry it
    reason_code = CharField(null=True)     # the rule's reason, translated when shown (webapp/reasons.py)
    reason_params = JSONField(null=True)   # its parameters: hours, dates (ISO, UTC), planned_for…
    cause_key = CharField(null=True, unique=True)  # a rule never plans twice for one cause
    state = CharField(default="planned", index=True)
    outcome = CharField(null=True)
    done_at = DateTimeField(null=True)
    done_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    previous = ForeignKeyField("self", null=True, on_delete="SET NULL", backref="+")
    # What completing it recorded (migration 0013): the person's note, and the contact it was, logged
    # in the same step so that nobody logs the same call twice (null: no contact, e.g. a no-show).
    outcome_note = TextField(default="")
    interaction = ForeignKeyField(Interaction, null=True, unique=True, on_delete="SET NULL", backref="+")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        # Created by migration 0003: a prospect's planned follow-ups, soonest first.
        indexes = ((("prospect", "state", "due_at"), False),)
