"""Reconciliation's decisions: which patient a prospect became, certain or waiting for a person (issue 17).

One row per (patient, prospect) pair that matched. States:
- open: uncertain, waiting in the review queue; the prospect is not converted (the review blocks it);
- converted: certain, converted by reconciliation itself;
- confirmed: uncertain, a person said "same person": converted;
- rejected: a person said "different people": never suggested again;
- undone: a conversion taken back: never converted again by itself.
`detail` keeps what a conversion changed (stage, outcome, follow-ups closed), so that undo restores it.
"""
from peewee import CharField, DateTimeField, ForeignKeyField

from ..timeutil import utcnow
from .base import BaseModel, JSONField
from .patients import Patient
from .prospects import Prospect
from .users import User

MATCH_VERDICTS = ("certain", "uncertain")
MATCH_STATES = ("open", "converted", "confirmed", "rejected", "undone")


class PatientMatch(BaseModel):
    patient = ForeignKeyField(Patient, backref="matches", on_delete="CASCADE", index=False)
    prospect = ForeignKeyField(Prospect, backref="patient_matches", on_delete="CASCADE")
    verdict = CharField(choices=[(v, v) for v in MATCH_VERDICTS])
    reasons = JSONField(default=list)
    state = CharField(default="open", choices=[(s, s) for s in MATCH_STATES], index=True)
    created_at = DateTimeField(default=utcnow)
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+", index=False)   # 0025
    decided_at = DateTimeField(null=True)
    note = CharField(default="")             # why, as the person gave it (or the rule's own words)
    detail = JSONField(null=True)

    class Meta:
        indexes = ((("patient", "prospect"), True),)

    @property
    def converts(self) -> bool:
        return self.state in ("converted", "confirmed")
