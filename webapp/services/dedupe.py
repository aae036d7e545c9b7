"""Dedupe, patient first (seed 001): the one place that decides whether a person is already known.

Phone (E.164) and email match on their own; a birth date matches only with the same first or last
name, since many people share one. A patient found wins over a prospect found. A record sharing the
phone or email whose name or birth date contradicts the caller's is not "found": it is a conflict,
since family phones are shared (a daughter calling from her mother's number). A person decides
(the staff form asks), or a machine records a new prospect linked to it as a suspect; never silently.
"""
from dataclasses import dataclass, field
from datetime import date

from peewee import fn

from ..models import DuplicateCandidate, Patient, PatientPhone, Prospect
from ..rules.names import same_person
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
    # Records sharing the phone or email whose name or birth date differs, each with its keys
    # (patients first): the same number, maybe another person.
    conflicts: list[tuple[object, list[str]]] = field(default_factory=list)
    # How a conflict was answered (see `resolve`), None when there was none.
    decision: str | None = None

    @property
    def needs_decision(self) -> bool:
        """Only contradicting records share a key: someone must say whether it is the same person."""
        return not self.found and bool(self.conflicts) and self.decision is None

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
    other_phone = set()
    if identity.phone.e164:
        if model is Patient:
            # every number the patient system gave for the patient (migration 0017), the first one included
            other_phone = {pid for (pid,) in PatientPhone.select(PatientPhone.patient)
                           .where(PatientPhone.phone == identity.phone.e164).tuples()}
            if other_phone:
                clauses.append(Patient.id.in_(sorted(other_phone)))
        else:
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
        if identity.phone.e164 and (record.phone == identity.phone.e164 or record.id in other_phone):
            keys.append("phone")
        if identity.email and (record.email or "").lower() == identity.email:
            keys.append("email")
        if identity.birth_date and record.birth_date == identity.birth_date and _names_agree(identity, record):
            keys.append("birth_date")
        if keys:
            found.append((record, keys))
    return follow_merges(found) if model is Prospect else found


def follow_merges(found: list[tuple[object, list[str]]]) -> list[tuple[object, list[str]]]:
    """A merged record (a tombstone) is found as the record it was merged into, which keeps its
    history: the person's other phone or email still leads to her. Keys are combined per record."""
    by_id: dict[int, tuple[object, list[str]]] = {}
    pending = list(found)
    for _ in range(5):  # a merge of a merge of a merge…
        kept = dict(DuplicateCandidate.select(DuplicateCandidate.merged, DuplicateCandidate.kept)
                    .where((DuplicateCandidate.state == "merged")
                           & DuplicateCandidate.merged.in_([record.id for record, _ in pending]))
                    .tuples()) if pending else {}
        later = []
        for record, keys in pending:
            if kept.get(record.id):
                target = Prospect.get_or_none(Prospect.id == kept[record.id])
                if target is not None:
                    later.append((target, keys))
                continue
            have = by_id.setdefault(record.id, (record, []))[1]
            have.extend(key for key in keys if key not in have)
        pending = later
    return list(by_id.values())


def _best(candidates, prefer_open: bool = False):
    def rank(item):
        record, keys = item
        open_first = prefer_open and getattr(record, "outcome", "open") == "open"
        return (len(keys), open_first, record.id)
    return sorted(candidates, key=rank, reverse=True)


def merged_ids():
    """Prospects merged into another (tombstones): found only as the record kept (`follow_merges`),
    never offered for review again."""
    return (DuplicateCandidate.select(DuplicateCandidate.merged)
            .where((DuplicateCandidate.state == "merged") & DuplicateCandidate.merged.is_null(False)))


def agrees(identity: Identity, record) -> bool:
    """The record's name and birth date do not contradict the caller's."""
    return same_person(identity.first_name, identity.last_name, identity.birth_date,
                       record.first_name, record.last_name, record.birth_date)


def find_existing(identity: Identity) -> Match:
    """Patient first, then prospect, among the records whose identity agrees; the record that shares
    most keys wins, ties to the newest. The others sharing a key are suspects; if none agrees, the
    ones sharing a key are conflicts for a person to decide."""
    patients = _best(_candidates(Patient, identity))
    prospects = _best(_candidates(Prospect, identity), prefer_open=True)
    agreeing_patients = [c for c in patients if agrees(identity, c[0])]
    agreeing_prospects = [c for c in prospects if agrees(identity, c[0])]
    others = [c for c in prospects if c not in agreeing_prospects]
    if agreeing_patients:
        patient, keys = agreeing_patients[0]
        prospect = agreeing_prospects[0][0] if agreeing_prospects else None
        return Match(patient=patient, prospect=prospect, matched_on=keys,
                     suspects=agreeing_prospects + others)
    if agreeing_prospects:
        prospect, keys = agreeing_prospects[0]
        return Match(prospect=prospect, matched_on=keys, suspects=agreeing_prospects[1:] + others)
    return Match(conflicts=patients + prospects)


def conflict_key(match: Match) -> str:
    """Names the records a decision was taken against ("patient:3,prospect:12"): the server
    re-checks that a posted choice answers the question it is asked now."""
    return ",".join(f"{kind_of(record)}:{record.id}" for record, _ in match.conflicts)


def kind_of(record) -> str:
    return "patient" if isinstance(record, Patient) else "prospect"


class NeedsDecision(Exception):
    """The phone or email belongs to someone whose name or birth date differs: a person must say
    whether it is the same person. Nothing has been recorded."""

    def __init__(self, match: Match):
        super().__init__("needs_decision")
        self.match = match


# A machine cannot ask: it records the caller as a new prospect and offers the pair for review.
SUSPECT = "suspect"
# A person answered "another person": she is created, and the pair is known to share the number.
ANOTHER_PERSON = "new"


def resolve(match: Match, decision: str | None, asked: str | None = None) -> Match:
    """Apply the answer to a conflict (`match.needs_decision`): "patient:ID" or "prospect:ID" (same
    person: record on it), ANOTHER_PERSON or SUSPECT (create, linked to the conflicts). A choice that
    names no record of the conflict (the phone changed meanwhile) asks again."""
    if not match.needs_decision:
        return match
    if asked is not None and asked != conflict_key(match):
        raise NeedsDecision(match)  # the question changed since it was asked (the phone was edited)
    if decision in (ANOTHER_PERSON, SUSPECT):
        return Match(conflicts=match.conflicts, decision=decision)
    for record, keys in match.conflicts:
        if decision == f"{kind_of(record)}:{record.id}":
            others = [(r, k) for r, k in match.conflicts if r is not record and isinstance(r, Prospect)]
            if isinstance(record, Patient):
                return Match(patient=record, matched_on=keys, suspects=others, decision=decision)
            return Match(prospect=record, matched_on=keys, suspects=others, decision=decision)
    raise NeedsDecision(match)
