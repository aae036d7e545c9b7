"""Recording contacts and keeping a prospect's record: the use cases behind the staff form and the API."""
from dataclasses import dataclass, field
from datetime import date, datetime

import phonenumbers
from flask import current_app

from ..models import (ActivityStatusChange, ConsentChange, FollowUp, Interaction, OwnerChange,
                      Patient, Prospect, Stage, TemperatureChange, User, database)
from ..models.config import ActionCode
from ..rules.contact import normalise_email
from ..rules.numbers import parse_id
from ..rules.phones import Phone, normalise_phone
from ..rules.text import search_text
from ..timeutil import utcnow
from .audit import record as audit
from . import duplicates
from .dedupe import ANOTHER_PERSON, SUSPECT, Identity, Match, find_existing, kind_of, resolve
from .defaults import setting
from .next_action import refresh_next_action


@dataclass
class ContactInput:
    """A contact as the staff form, the API or an integration reports it."""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    email: str | None = None
    birth_date: date | None = None
    channel: str = "phone"
    direction: str = "in"
    qualification: str | None = None
    temperature: str = "warm"
    note: str = ""
    origin_detail: str = ""
    owner: User | None = None
    action_code: ActionCode | None = None
    occurred_at: datetime | None = None


@dataclass
class ContactOutcome:
    """Where a contact went: a new prospect, an existing prospect, or a patient (seed 001)."""
    created: bool
    prospect: Prospect | None
    patient: Patient | None
    interaction: Interaction
    matched_on: list[str] = field(default_factory=list)
    suspects: list[Prospect] = field(default_factory=list)
    # A new prospect sharing a phone or email with these records (patients or prospects): another
    # person, as a person answered (ANOTHER_PERSON) or as a machine supposes (SUSPECT, to review).
    shares_with: list = field(default_factory=list)
    decision: str | None = None

    @property
    def recorded_on(self) -> str:
        return "patient" if self.interaction.patient_id else "prospect"


def outcome_ref(outcome: ContactOutcome) -> str:
    """Where a recorded contact went, as a short reference ("prospect:12", "patient:3")."""
    if outcome.interaction.patient_id:
        return f"patient:{outcome.interaction.patient_id}"
    return f"prospect:{outcome.prospect.id}"


@dataclass
class RecordRef:
    kind: str  # "prospect" or "patient"
    record: Prospect | Patient | None


def record_of(ref: str | None) -> RecordRef:
    """The record an `outcome_ref` names (None if it no longer exists)."""
    kind, _, ident = (ref or "").partition(":")
    model = {"prospect": Prospect, "patient": Patient}.get(kind)
    record = model.get_or_none(model.id == parse_id(ident)) if model and parse_id(ident) else None
    return RecordRef(kind if model else "prospect", record)


def prospect_search_text(prospect: Prospect) -> str:
    phone = normalise_phone(prospect.phone, current_app.config["PHONE_REGION"]) if prospect.phone else None
    national = ""
    if phone and phone.e164:
        national = str(phonenumbers.parse(phone.e164).national_number)
    return search_text(prospect.first_name, prospect.last_name, prospect.email,
                       prospect.phone and prospect.phone.lstrip("+"), national, prospect.phone_raw)


def identity_of(data: ContactInput) -> Identity:
    return Identity(first_name=data.first_name.strip(), last_name=data.last_name.strip(),
                    phone=normalise_phone(data.phone, current_app.config["PHONE_REGION"]),
                    email=normalise_email(data.email), birth_date=data.birth_date)


def record_contact(data: ContactInput, user: User | None, now: datetime | None = None,
                   decision: str | None = None, asked: str | None = None) -> ContactOutcome:
    """Dedupe, patient first, then record the contact where it belongs, creating a prospect if new.
    When the phone or email is known only for someone whose name or birth date differs, `decision`
    says what to do (dedupe.resolve); without one, dedupe.NeedsDecision is raised, nothing recorded.
    `asked` names the records the person was asked about: if they changed meanwhile, she is asked again."""
    now = now or utcnow()
    identity = identity_of(data)
    with database.atomic():
        match = resolve(find_existing(identity), decision, asked)
        if match.decision and match.decision not in (ANOTHER_PERSON, SUSPECT):
            audit("dedupe.same_person", kind_of(match.patient or match.prospect),
                  (match.patient or match.prospect).id, actor=user)
        if match.patient is not None:
            interaction = _log(data, user, now, patient=match.patient)
            return ContactOutcome(False, match.prospect, match.patient, interaction, match.matched_on,
                                  decision=match.decision)
        if match.prospect is not None:
            prospect = match.prospect
            _fill_blanks(prospect, identity, match)
            interaction = add_interaction(prospect, channel=data.channel, direction=data.direction,
                                          note=data.note, user=user, action_code=data.action_code,
                                          occurred_at=data.occurred_at or now, now=now)
            _suspect(prospect, match)
            return ContactOutcome(False, prospect, None, interaction, match.matched_on,
                                  match.other_prospects, decision=match.decision)
        prospect = _create(data, identity, user, now)
        interaction = add_interaction(prospect, channel=data.channel, direction=data.direction,
                                      note=data.note, user=user, action_code=data.action_code,
                                      occurred_at=data.occurred_at or now, now=now)
        if match.conflicts:
            duplicates.link(prospect, match.conflicts, user=user, now=now,
                            state="dismissed" if match.decision == ANOTHER_PERSON else "open")
        return ContactOutcome(True, prospect, None, interaction, shares_with=match.conflicts,
                              decision=match.decision)


def _create(data: ContactInput, identity: Identity, user: User | None, now: datetime) -> Prospect:
    first_stage = (Stage.select().where((Stage.kind == "open") & ~Stage.retired)
                   .order_by(Stage.position).first())
    prospect = Prospect(
        first_name=identity.first_name, last_name=identity.last_name,
        phone=identity.phone.e164, phone_raw=identity.phone.raw,
        phone_valid=identity.phone.valid or not identity.phone.raw,
        email=identity.email, birth_date=identity.birth_date, channel=data.channel,
        origin_detail=data.origin_detail.strip(), qualification=data.qualification or None,
        temperature=data.temperature, stage=first_stage, owner=data.owner or user, created_by=user,
        action_budget=setting("action_budget"), first_contact_at=data.occurred_at or now,
        created_at=now, updated_at=now)
    prospect.search_text = prospect_search_text(prospect)
    prospect.save()
    TemperatureChange.create(prospect=prospect, old=None, new=prospect.temperature, user=user,
                             reason="", changed_at=now)
    audit("prospect.create", "prospect", prospect.id, actor=user)
    return prospect


def _fill_blanks(prospect: Prospect, identity: Identity, match: Match) -> None:
    """A known person's record gains what it lacked; nothing stored is overwritten, and a phone or
    email that belongs to another suspected record is not copied (that is for the merge to decide)."""
    taken = {key for _, keys in match.suspects for key in keys}
    changed = False
    for name, value in (("email", identity.email), ("birth_date", identity.birth_date),
                        ("first_name", identity.first_name), ("last_name", identity.last_name)):
        if value and not getattr(prospect, name) and name not in taken:
            setattr(prospect, name, value)
            changed = True
    if identity.phone.e164 and not prospect.phone and "phone" not in taken:
        prospect.phone, prospect.phone_raw, prospect.phone_valid = identity.phone.e164, identity.phone.raw, True
        changed = True
    if changed:
        prospect.search_text = prospect_search_text(prospect)
        prospect.save()


def _suspect(prospect: Prospect, match: Match) -> None:
    """Other prospects sharing a key are offered for merge, never merged silently."""
    duplicates.link(prospect, match.suspects, state="open")


def _log(data: ContactInput, user, now, patient: Patient) -> Interaction:
    interaction = Interaction.create(patient=patient, channel=data.channel, direction=data.direction,
                                     action_code=data.action_code, note=data.note.strip(), user=user,
                                     occurred_at=data.occurred_at or now, created_at=now)
    audit("patient.interaction", "patient", patient.id, actor=user)
    return interaction


def add_interaction(prospect: Prospect, *, channel: str, direction: str, note: str = "", user=None,
                    action_code: ActionCode | None = None, occurred_at: datetime | None = None,
                    now: datetime | None = None, reached: bool = True) -> Interaction:
    """Log a contact; it brings the prospect back to normal activity and may spend the action budget.
    An attempt that did not reach the person (`reached=False`) spends the budget only."""
    now = now or utcnow()
    occurred_at = occurred_at or now
    with database.atomic():
        interaction = Interaction.create(prospect=prospect, channel=channel, direction=direction,
                                         action_code=action_code, note=note.strip(), user=user,
                                         occurred_at=occurred_at, created_at=now, reached=reached)
        prospect.interaction_count += 1
        # Seed 003: each outbound action (call, message, SMS, mail) costs one of the budget.
        if direction == "out" and (action_code is None or action_code.counts_toward_budget):
            prospect.actions_used += 1
        if not reached:
            _touch(prospect, now)
            return interaction
        if prospect.last_interaction_at is None or occurred_at > prospect.last_interaction_at:
            prospect.last_interaction_at = occurred_at
        if prospect.first_contact_at is None or occurred_at < prospect.first_contact_at:
            prospect.first_contact_at = occurred_at
        # Seed 000: any new interaction brings the prospect back to normal.
        if prospect.activity_status != "normal":
            ActivityStatusChange.create(prospect=prospect, old=prospect.activity_status, new="normal",
                                        changed_at=now)
            prospect.activity_status = "normal"
        _touch(prospect, now)
    return interaction


def _touch(prospect: Prospect, now: datetime) -> None:
    prospect.updated_at = now
    prospect.version += 1
    prospect.save()


def change_temperature(prospect: Prospect, new: str, reason: str, user, now=None) -> None:
    """Temperature is the lead's judgement (seed 000); each change is kept with who, when and why."""
    now = now or utcnow()
    reason = reason.strip()
    if not reason:
        raise ValueError("reason_required")
    if new == prospect.temperature:
        return
    with database.atomic():
        TemperatureChange.create(prospect=prospect, old=prospect.temperature, new=new, reason=reason,
                                 user=user, changed_at=now)
        prospect.temperature = new
        _touch(prospect, now)


def set_do_not_contact(prospect: Prospect, flag: bool, reason: str, user, now=None) -> int:
    """Consent: setting the flag cancels every planned follow-up. Returns how many were cancelled."""
    now = now or utcnow()
    if flag == prospect.do_not_contact:
        return 0
    with database.atomic():
        ConsentChange.create(prospect=prospect, do_not_contact=flag, reason=reason.strip(), user=user,
                             changed_at=now)
        prospect.do_not_contact = flag
        cancelled = 0
        if flag:
            cancelled = (FollowUp.update(state="cancelled", done_at=now)
                         .where((FollowUp.prospect == prospect) & (FollowUp.state == "planned"))
                         .execute())
            refresh_next_action([prospect.id])
        _touch(prospect, now)
    audit("prospect.consent", "prospect", prospect.id, detail="do_not_contact" if flag else "may_contact",
          actor=user)
    return cancelled


EDITABLE = ("first_name", "last_name", "email", "birth_date", "channel", "origin_detail", "qualification")
TEXT_FIELDS = ("first_name", "last_name", "origin_detail")


def update_identity(prospect: Prospect, changes: dict, user, now=None) -> None:
    """Apply an edit of the identity fields; the phone is normalised, the search text rebuilt."""
    now = now or utcnow()
    for name in EDITABLE:
        if name in changes:
            value = changes[name]
            if name in TEXT_FIELDS:
                value = (value or "").strip()
            elif name == "email":
                value = normalise_email(value)
            setattr(prospect, name, value)
    if "phone" in changes:
        phone: Phone = normalise_phone(changes["phone"], current_app.config["PHONE_REGION"])
        prospect.phone, prospect.phone_raw = phone.e164, phone.raw
        prospect.phone_valid = phone.valid or not phone.raw
    if "owner" in changes:
        before, after = prospect.owner_id, (changes["owner"].id if changes["owner"] else None)
        prospect.owner = changes["owner"]
        if before != after:    # the cohort's figures read an owner as it was (services/cohort.py)
            OwnerChange.create(prospect=prospect, old=before, new=after, user=user, changed_at=now)
    prospect.search_text = prospect_search_text(prospect)
    _touch(prospect, now)
    audit("prospect.update", "prospect", prospect.id, actor=user)
