"""The prospect aggregate: the person, their interactions, and the history of their classification."""
from peewee import (BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField,
                    TextField)

from ..rules.matching import name_block_key, surname_initial
from ..timeutil import utcnow
from ..vocabulary import (ACTIVITY_STATUSES, CHANNELS, DIRECTIONS, PROSPECT_OUTCOMES, QUALIFICATIONS,
                          TEMPERATURES)
from .base import BaseModel, JSONField
from .config import ActionCode, LostReason, Stage
from .patients import Patient
from .users import User

def _choices(values):
    return [(v, v) for v in values]


class Prospect(BaseModel):
    first_name = CharField(default="")
    last_name = CharField(default="")
    phone = CharField(null=True, index=True)          # E.164 when it parsed
    phone_raw = CharField(default="")                 # as typed, always kept
    phone_valid = BooleanField(default=True)          # False: kept as typed and flagged
    email = CharField(null=True, index=True)          # also indexed as LOWER(email), as lookups compare it
    birth_date = DateField(null=True)      # indexed by (birth_date, match_initial) below (migration 0024)
    channel = CharField(default="phone", choices=_choices(CHANNELS))
    origin_detail = CharField(default="")
    qualification = CharField(null=True, choices=_choices(QUALIFICATIONS))
    temperature = CharField(default="warm", choices=_choices(TEMPERATURES), index=True)
    activity_status = CharField(default="normal", choices=_choices(ACTIVITY_STATUSES), index=True)
    # Indexed by the board's (stage_id, …) indexes of migrations 0004 and 0005, not on its own (0024).
    stage = ForeignKeyField(Stage, backref="prospects", on_delete="RESTRICT", index=False)
    outcome = CharField(default="open", choices=_choices(PROSPECT_OUTCOMES))   # not indexed (0024)
    lost_reason = ForeignKeyField(LostReason, null=True, on_delete="SET NULL")
    owner = ForeignKeyField(User, null=True, backref="prospects", on_delete="SET NULL")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    do_not_contact = BooleanField(default=False)
    action_budget = IntegerField(default=15)
    actions_used = IntegerField(default=0)
    interaction_count = IntegerField(default=0)
    first_contact_at = DateTimeField(null=True)
    last_interaction_at = DateTimeField(null=True, index=True)
    patient = ForeignKeyField(Patient, null=True, backref="prospects", on_delete="SET NULL")
    converted_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)   # the board's "changed since", by stage (migrations 0004, 0026)
    version = IntegerField(default=1)                 # optimistic concurrency for moves and edits
    search_text = TextField(default="")               # accent-folded names, email, phone digits
    # The earliest planned follow-up's due time; null when nothing is planned ("à faire"). Kept by
    # services.next_action.refresh_next_action wherever follow-ups change; the board orders by it
    # through the (stage_id, next_action_at, id) index of migration 0005.
    next_action_at = DateTimeField(null=True)
    # When the person's data was erased on their request (migration 0015, services/rights.py): the row,
    # its dates, stage and counts stay for the figures; names, contacts and notes are gone.
    erased_at = DateTimeField(null=True)
    email_undeliverable_at = DateTimeField(null=True)   # a bounce said the address fails (migration 0016)
    # Migration 0017: the provenance the person stated when they became a patient (a configurable list,
    # setting "patient_provenances"), and reconciliation's blocking keys (rules/matching.py), kept by save().
    provenance = CharField(default="")
    match_name = CharField(default="")
    match_initial = CharField(default="")

    class Meta:
        indexes = (
            (("match_name", "birth_date"), False),
            (("birth_date", "match_initial"), False),
        )

    def save(self, force_insert=False, only=None):
        """An update never writes next_action_at: it is derived from the follow-ups (refresh_next_action),
        and a record loaded before they changed must not put its old value back. The blocking keys follow
        the names."""
        self.match_name = name_block_key(self.first_name, self.last_name)
        self.match_initial = surname_initial(self.last_name)
        if only is None and not force_insert and self._pk is not None:
            only = [f for f in self._meta.sorted_fields if f.name not in ("id", "next_action_at")]
        elif only is not None:
            only = list(only) + [Prospect.match_name, Prospect.match_initial]
        return super().save(force_insert=force_insert, only=only)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def actions_left(self) -> int:
        return max(self.action_budget - self.actions_used, 0)


class Interaction(BaseModel):
    """One contact with a person, on a prospect or, patient first (seed 001), on a patient."""
    prospect = ForeignKeyField(Prospect, null=True, backref="interactions", on_delete="CASCADE")
    patient = ForeignKeyField(Patient, null=True, backref="interactions", on_delete="CASCADE")
    occurred_at = DateTimeField(default=utcnow, index=True)
    channel = CharField(choices=_choices(CHANNELS))
    direction = CharField(choices=_choices(DIRECTIONS))
    action_code = ForeignKeyField(ActionCode, null=True, on_delete="SET NULL")
    note = TextField(default="")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    # False: an attempt that did not reach the person (no answer, voicemail). It spends the action
    # budget (seed 003) but is not an interaction *with* them, so the activity clock keeps running.
    reached = BooleanField(default=True)
    # A mail's Message-ID (migration 0016): ours for what we sent, theirs for what we received, so a
    # reply (In-Reply-To / References) threads onto this record.
    message_id = CharField(null=True, index=True)


class TemperatureChange(BaseModel):
    prospect = ForeignKeyField(Prospect, backref="temperature_changes", on_delete="CASCADE")
    old = CharField(null=True)
    new = CharField()
    reason = TextField(default="")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    changed_at = DateTimeField(default=utcnow)


class OwnerChange(BaseModel):
    """Who a prospect was given to, and when (migration 0023): the cohort's figures read an owner as it
    was, as they read a temperature. None is "nobody"."""
    prospect = ForeignKeyField(Prospect, backref="owner_changes", on_delete="CASCADE")
    old = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    new = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    changed_at = DateTimeField(default=utcnow)


class ActivityStatusChange(BaseModel):
    prospect = ForeignKeyField(Prospect, backref="activity_changes", on_delete="CASCADE")
    old = CharField(null=True)
    new = CharField()
    changed_at = DateTimeField(default=utcnow)


class StageChange(BaseModel):
    prospect = ForeignKeyField(Prospect, backref="stage_changes", on_delete="CASCADE")
    from_stage = ForeignKeyField(Stage, null=True, on_delete="SET NULL", backref="+")
    to_stage = ForeignKeyField(Stage, on_delete="CASCADE", backref="+")
    # Not indexed (migration 0025): users and lost reasons are never deleted.
    lost_reason = ForeignKeyField(LostReason, null=True, on_delete="SET NULL", index=False)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL", index=False)
    changed_at = DateTimeField(default=utcnow)
    # The prospect's outcome before and after (migration 0013): a stage's kind may change later, the
    # history must still say "converted" or "reopened" as it was then.
    from_outcome = CharField(null=True)
    to_outcome = CharField(null=True)

    @property
    def outcome_before(self) -> str | None:
        """from_outcome; for a move recorded without it (the demo loader), its stage's kind."""
        return self.from_outcome or (self.from_stage.kind if self.from_stage_id else None)

    @property
    def outcome_after(self) -> str:
        return self.to_outcome or self.to_stage.kind

    @property
    def reopened(self) -> bool:
        """A closed prospect (converted or lost) taken out of its outcome."""
        return self.outcome_before in ("won", "lost") and self.outcome_after != self.outcome_before


class ConsentChange(BaseModel):
    """Do-not-contact set or lifted, by whom and why."""
    prospect = ForeignKeyField(Prospect, backref="consent_changes", on_delete="CASCADE")
    do_not_contact = BooleanField()
    reason = TextField(default="")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    changed_at = DateTimeField(default=utcnow)


class DuplicateCandidate(BaseModel):
    """A pair of records sharing a phone, email or birth date: a suspected duplicate offered for merge,
    never merged silently (DESIGN: dedupe), or two people known to share a number (services/duplicates).
    States: open (to review), merged (reversible), dismissed ("different people": never suggested again)."""
    prospect = ForeignKeyField(Prospect, on_delete="CASCADE", backref="+")
    other_prospect = ForeignKeyField(Prospect, null=True, on_delete="CASCADE", backref="+")
    patient = ForeignKeyField(Patient, null=True, on_delete="CASCADE")
    matched_on = CharField()
    state = CharField(default="open", index=True)  # open, merged, dismissed (index: migration 0008)
    created_at = DateTimeField(default=utcnow)
    # Migration 0008: who decided, when, and for a merge what moved (to undo it exactly).
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    decided_at = DateTimeField(null=True)
    kept = ForeignKeyField(Prospect, null=True, on_delete="SET NULL", backref="+")
    merged = ForeignKeyField(Prospect, null=True, on_delete="SET NULL", backref="+")
    detail = JSONField(null=True)
