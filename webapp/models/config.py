"""Configuration as data (STYLE 8): stages, lost reasons, action codes, follow-up types, settings, holidays."""
from peewee import (BooleanField, CharField, CompositeKey, DateField, ForeignKeyField, IntegerField,
                    TextField)

from ..vocabulary import FOLLOWUP_ACTIONS, STAGE_KINDS
from .base import BaseModel, JSONField


class Stage(BaseModel):
    """A pipeline stage, a kanban column."""
    name = CharField()
    position = IntegerField(default=0, index=True)
    kind = CharField(default="open", choices=[(k, k) for k in STAGE_KINDS])
    retired = BooleanField(default=False)


class LostReason(BaseModel):
    code = CharField(unique=True)
    label = CharField()
    position = IntegerField(default=0)
    active = BooleanField(default=True)


class ActionCode(BaseModel):
    """The lexicon of seed 003 (APL, MSG, SMS, MAIL, RLC…); outbound ones spend the action budget.

    `sends_information`: an outbound contact with this code carries the quote, prices or programme
    information asked for (DEVIS, DOC): seed 001's callback is counted from it (migration 0012).
    """
    code = CharField(unique=True)
    label = CharField()
    channel = CharField(null=True)
    counts_toward_budget = BooleanField(default=True)
    active = BooleanField(default=True)
    sends_information = BooleanField(default=False)


class FollowUpType(BaseModel):
    """Seed 002: a configurable step of the follow-up workflow.

    `code` is stable (the rules find their type by it: a manager may rename "Rappel de RDV" freely);
    null for the types a manager adds (migration 0012).
    """
    name = CharField()
    code = CharField(null=True, unique=True)
    description = TextField(default="")
    first_step = BooleanField(default=False)
    action = CharField(default="none", choices=[(a, a) for a in FOLLOWUP_ACTIONS])
    position = IntegerField(default=0)
    active = BooleanField(default=True)


class FollowUpTypeNext(BaseModel):
    """Which follow-up types may come after which."""
    from_type = ForeignKeyField(FollowUpType, backref="next_links", on_delete="CASCADE")
    to_type = ForeignKeyField(FollowUpType, backref="previous_links", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("from_type", "to_type")


class Setting(BaseModel):
    """One business setting (thresholds, budget, working hours…), JSON-valued."""
    key = CharField(primary_key=True)
    value = JSONField()


class Holiday(BaseModel):
    """An admin's override of the public-holiday calendar (Islamic holidays are estimates)."""
    day = DateField(index=True)
    name = CharField()
    closed = BooleanField(default=True)
