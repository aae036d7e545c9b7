"""Dedupe, patient first (seed 001): the one place that decides whether a person is already known.

Phone (E.164) and email match on their own; a birth date matches only with the same first or last
name, since many people share one. A patient found wins over a prospect found.
"""
from dataclasses import dataclass, field
from datetime import date

from peewee import fn

from ..models import Patient, Prospect
from ..rules.phones import Phone
from ..rules.text import fold_name


@dataclass(frozen=True)
class Identity:
    first_name: str = ""
    last_name: str = ""
    phone: Phone = Phone(raw="", e164=None)
    email: str | None = None
    birth_date: date | None = None


@dataclass
class Match:
    """What was found for an identity: the record to use, on which keys, and other suspects."""
    patient: Patient | None = None
    prospect: Prospect | None = None
    matched_on: list[str] = field(default_factory=list)
    # Other prospects sharing a key, each with the keys it shares: suspects to offer for merge.
    suspects: list[tuple[Prospect, list[str]]] = field(default_factory=list)

    @property
    def other_prospects(self) -> list[Prospect]:
        return [prospect for prospect, _ in self.suspects]

    @property
    def found(self) -> bool:
        return self.patient is not None or self.prospect is not None


def _names_agree(identity: Identity, record) -> bool:
    wanted = {fold_name(identity.first_name), fold_name(identity.last_name)} - {""}
    have = {fold_name(record.first_name), fold_name(record.last_name)} - {""}
    return bool(wanted & have)


def _candidates(model, identity: Identity) -> list[tuple[object, list[str]]]:
    """Records of `model` sharing a key with the identity, each with the keys it shares."""
    clauses = []
    if identity.phone.e164:
        clauses.append(model.phone == identity.phone.e164)
    if identity.email:
        clauses.append(fn.LOWER(model.email) == identity.email)
    if identity.birth_date:
        clauses.append(model.birth_date == identity.birth_date)
    if not clauses:
        return []
    condition = clauses[0]
    for clause in clauses[1:]:
        condition |= clause
    found = []
    for record in model.select().where(condition).limit(50):
        keys = []
        if identity.phone.e164 and record.phone == identity.phone.e164:
            keys.append("phone")
        if identity.email and (record.email or "").lower() == identity.email:
            keys.append("email")
        if identity.birth_date and record.birth_date == identity.birth_date and _names_agree(identity, record):
            keys.append("birth_date")
        if keys:
            found.append((record, keys))
    return found


def _best(candidates, prefer_open: bool = False):
    def rank(item):
        record, keys = item
        open_first = prefer_open and getattr(record, "outcome", "open") == "open"
        return (len(keys), open_first, record.id)
    return sorted(candidates, key=rank, reverse=True)


def find_existing(identity: Identity) -> Match:
    """Patient first, then prospect; the record that shares most keys wins, ties to the newest."""
    patients = _best(_candidates(Patient, identity))
    prospects = _best(_candidates(Prospect, identity), prefer_open=True)
    if patients:
        patient, keys = patients[0]
        return Match(patient=patient, prospect=prospects[0][0] if prospects else None, matched_on=keys,
                     suspects=prospects)
    if prospects:
        prospect, keys = prospects[0]
        return Match(prospect=prospect, matched_on=keys, suspects=prospects[1:])
    return Match()
