"""Suspected duplicates and shared numbers: the pairs the dedupe records, and the lead's decisions on
them (DESIGN: "a suspected duplicate is offered for merge, never silently merged").

A pair is open (to review), merged (one record kept, the other a tombstone: reversible) or dismissed
("different people": never suggested again; two people sharing a family phone are such a pair).
Every decision says who and when, and goes to the audit log.
"""
from dataclasses import dataclass
from datetime import datetime

from flask import g, has_request_context
from peewee import JOIN, fn

from ..models import (ActivityStatusChange, ConsentChange, DuplicateCandidate, FollowUp, InboundRequest,
                      Interaction, LostReason, Patient, Prospect, Stage, StageChange, TemperatureChange,
                      User, database)
from ..refusals import Refusal
from ..timeutil import utcnow
from .audit import record as audit
from .dedupe import merged_ids
from .next_action import refresh_next_action
from .search import next_actions

# What a merge moves from the merged record to the kept one (and an undo moves back). inbound_request
# has no index on prospect_id (migration 0007, for intake's speed): a merge scans it, and merges are rare.
MOVED = (Interaction, FollowUp, TemperatureChange, ActivityStatusChange, StageChange, ConsentChange,
         InboundRequest)
# Identity fields a kept record gains from the merged one when it lacks them.
FILLED = ("first_name", "last_name", "email", "birth_date", "phone", "phone_raw")


class DuplicateError(Refusal):
    """A merge decision refused: decided already, gone, or not a pair of prospects."""
    domain = "duplicate"
    status = 409


def _pair_clause(prospect_id: int, other_id: int | None = None, patient_id: int | None = None):
    P = DuplicateCandidate
    if patient_id is not None:
        return (P.prospect == prospect_id) & (P.patient == patient_id)
    return (((P.prospect == prospect_id) & (P.other_prospect == other_id))
            | ((P.prospect == other_id) & (P.other_prospect == prospect_id)))


def link(prospect: Prospect, records: list, *, state: str, user: User | None = None,
         now: datetime | None = None) -> list[DuplicateCandidate]:
    """Record `prospect` as sharing keys with each of `records` ((record, keys) pairs, patients or
    prospects), unless the pair is known already in either order and whatever its state: a pair
    decided once is never suggested again."""
    now = now or utcnow()
    created = []
    for record, keys in records:
        if record.id == prospect.id and isinstance(record, Prospect):
            continue
        is_patient = isinstance(record, Patient)
        clause = (_pair_clause(prospect.id, patient_id=record.id) if is_patient
                  else _pair_clause(prospect.id, other_id=record.id))
        if DuplicateCandidate.select().where(clause).exists():
            continue
        decided = state != "open"
        pair = DuplicateCandidate.create(
            prospect=prospect, other_prospect=None if is_patient else record,
            patient=record if is_patient else None, matched_on=",".join(keys), state=state,
            created_at=now, decided_by=user if decided else None, decided_at=now if decided else None)
        created.append(pair)
        action = "dedupe.another_person" if decided else "dedupe.suspect"
        audit(action, "duplicate_candidate", pair.id, detail=f"prospect {prospect.id}", actor=user)
    return created


def _open_pairs():
    """Open pairs; pairs touching a merged record (a tombstone) are left out."""
    return ((DuplicateCandidate.state == "open")
            & DuplicateCandidate.prospect.not_in(merged_ids())
            & (DuplicateCandidate.other_prospect.is_null()
               | DuplicateCandidate.other_prospect.not_in(merged_ids())))


def pending(limit: int = 100) -> tuple[list[DuplicateCandidate], int]:
    """Open pairs, newest first, with both records, and how many there are."""
    Other = Prospect.alias()
    query = (DuplicateCandidate.select(DuplicateCandidate, Prospect, Other, Patient)
             .join(Prospect, on=(DuplicateCandidate.prospect == Prospect.id))
             .switch(DuplicateCandidate)
             .join(Other, JOIN.LEFT_OUTER, on=(DuplicateCandidate.other_prospect == Other.id))
             .switch(DuplicateCandidate)
             .join(Patient, JOIN.LEFT_OUTER, on=(DuplicateCandidate.patient == Patient.id))
             .where(_open_pairs())
             .order_by(DuplicateCandidate.created_at.desc(), DuplicateCandidate.id.desc()))
    return list(query.limit(limit)), query.count()


def decided(limit: int = 30) -> list[DuplicateCandidate]:
    """The latest decisions (merges first to find for an undo), newest first."""
    return list(DuplicateCandidate.select().where(DuplicateCandidate.state != "open")
                .order_by(DuplicateCandidate.decided_at.desc(nulls="LAST"), DuplicateCandidate.id.desc())
                .limit(limit))


def pending_count() -> int:
    """How many pairs wait for a decision: one COUNT, once per request (the nav shows it on every page)."""
    if has_request_context() and "duplicates_waiting" in g:
        return g.duplicates_waiting
    count = DuplicateCandidate.select().where(_open_pairs()).count()
    if has_request_context():
        g.duplicates_waiting = count
    return count


def get(pair_id: int) -> DuplicateCandidate | None:
    return DuplicateCandidate.get_or_none(DuplicateCandidate.id == pair_id)


def merged_into(prospect: Prospect) -> DuplicateCandidate | None:
    """The merge that made this prospect a tombstone, if it is one."""
    return (DuplicateCandidate.select()
            .where((DuplicateCandidate.state == "merged") & (DuplicateCandidate.merged == prospect.id))
            .first())


def merged_here(prospect: Prospect) -> list[DuplicateCandidate]:
    """The merges this prospect kept (each can be undone from its pair's page)."""
    return list(DuplicateCandidate.select()
                .where((DuplicateCandidate.state == "merged") & (DuplicateCandidate.kept == prospect.id))
                .order_by(DuplicateCandidate.decided_at.desc()))


def shares_with(prospect: Prospect) -> list[dict]:
    """Other records known to share a phone or email with this prospect (open or dismissed pairs)."""
    rows = (DuplicateCandidate.select()
            .where(((DuplicateCandidate.prospect == prospect.id)
                    | (DuplicateCandidate.other_prospect == prospect.id))
                   & DuplicateCandidate.state.in_(("open", "dismissed"))))
    found = []
    for pair in rows:
        if pair.patient_id:
            found.append({"kind": "patient", "record": pair.patient, "pair": pair})
        else:
            other = pair.other_prospect if pair.prospect_id == prospect.id else pair.prospect
            found.append({"kind": "prospect", "record": other, "pair": pair})
    return found


def sides(pair: DuplicateCandidate) -> list[dict]:
    """The pair's two records as the review page compares them: each with its kind, latest interactions
    and (for a prospect) next action."""
    records = [("prospect", pair.prospect)]
    records.append(("prospect", pair.other_prospect) if pair.other_prospect_id else ("patient", pair.patient))
    found = []
    for kind, record in records:
        owner = Interaction.patient if kind == "patient" else Interaction.prospect
        interactions = list(Interaction.select().where(owner == record.id)
                            .order_by(Interaction.occurred_at.desc()).limit(5))
        next_action = next_actions([record.id]).get(record.id) if kind == "prospect" else None
        found.append({"kind": kind, "record": record, "interactions": interactions, "next_action": next_action})
    return found


@dataclass
class Decision:
    pair: DuplicateCandidate
    kept: Prospect | None = None
    merged: Prospect | None = None


def _take(pair_id: int, states: tuple[str, ...], new_state: str, user, now) -> DuplicateCandidate:
    """Claim the pair for one decision: two leads clicking at once decide once."""
    taken = (DuplicateCandidate.update(state=new_state, decided_by=user, decided_at=now)
             .where((DuplicateCandidate.id == pair_id) & DuplicateCandidate.state.in_(states)).execute())
    if not taken:
        raise DuplicateError("already_decided")
    return DuplicateCandidate.get_by_id(pair_id)


def dismiss(pair_id: int, user: User, now: datetime | None = None) -> Decision:
    """"Different people": the pair is kept as decided and never suggested again."""
    now = now or utcnow()
    with database.atomic():
        pair = _take(pair_id, ("open",), "dismissed", user, now)
        audit("dedupe.different_people", "duplicate_candidate", pair.id, actor=user)
    return Decision(pair)


def merge(pair_id: int, keep_id: int, user: User, now: datetime | None = None) -> Decision:
    """Merge two prospects: the merged one's interactions, follow-ups and history move to the kept one,
    which gains the identity details it lacked; the merged one stays as a tombstone (lost, reason
    "duplicate"). What moved is written on the pair, so that `undo_merge` restores it exactly."""
    now = now or utcnow()
    with database.atomic():
        pair = get(pair_id)
        if pair is None:
            raise DuplicateError("not_found")
        if pair.other_prospect_id is None:
            raise DuplicateError("not_two_prospects")
        if keep_id not in (pair.prospect_id, pair.other_prospect_id):
            raise DuplicateError("keep_one_of_the_pair")
        pair = _take(pair_id, ("open", "dismissed"), "merged", user, now)
        kept = Prospect.get_by_id(keep_id)
        gone = Prospect.get_by_id(pair.other_prospect_id if keep_id == pair.prospect_id else pair.prospect_id)
        moved = {}
        for model in MOVED:
            ids = [row.id for row in model.select(model.id).where(model.prospect == gone.id)]
            if ids:
                model.update(prospect=kept.id).where(model.id.in_(ids)).execute()
            moved[model._meta.table_name] = ids
        detail = {"moved": moved, "filled": _fill(kept, gone),
                  "kept_before": {"actions_used": kept.actions_used,
                                  "first_contact_at": _iso(kept.first_contact_at)},
                  "merged_before": {"stage_id": gone.stage_id, "outcome": gone.outcome,
                                    "lost_reason_id": gone.lost_reason_id}}
        kept.actions_used += gone.actions_used
        if gone.first_contact_at and (kept.first_contact_at is None or gone.first_contact_at < kept.first_contact_at):
            kept.first_contact_at = gone.first_contact_at
        _recount(kept, now)
        _close_as_duplicate(gone, user, now)
        pair.kept, pair.merged, pair.detail = kept.id, gone.id, detail
        pair.save()
        refresh_next_action([kept.id, gone.id])
        audit("prospect.merge", "prospect", kept.id, detail=f"merged prospect {gone.id} (pair {pair.id})",
              actor=user)
    return Decision(pair, kept, gone)


def undo_merge(pair_id: int, user: User, now: datetime | None = None) -> Decision:
    """Put a merge back: what moved goes back to the merged record (what was added to the kept record
    since stays there), the details it gave are taken back, and it is open again; the pair returns
    to the review list."""
    now = now or utcnow()
    with database.atomic():
        pair = get(pair_id)
        if pair is None:
            raise DuplicateError("not_found")
        kept_id, gone_id, detail = pair.kept_id, pair.merged_id, pair.detail or {}
        pair = _take(pair_id, ("merged",), "open", user, now)
        kept, gone = Prospect.get_by_id(kept_id), Prospect.get_by_id(gone_id)
        by_table = {model._meta.table_name: model for model in MOVED}
        for table, ids in detail.get("moved", {}).items():
            model = by_table[table]
            if ids:
                model.update(prospect=gone.id).where(model.id.in_(ids) & (model.prospect == kept.id)).execute()
        for name, value in detail.get("filled", {}).items():
            if _plain(getattr(kept, name)) == value:
                setattr(kept, name, None if name in ("email", "birth_date", "phone") else "")
        before = detail.get("kept_before", {})
        kept.actions_used = max(kept.actions_used - gone.actions_used, before.get("actions_used", 0))
        first = before.get("first_contact_at")
        kept.first_contact_at = datetime.fromisoformat(first) if first else None
        _recount(kept, now)
        _reopen(gone, detail.get("merged_before", {}), user, now)
        pair.kept, pair.merged = None, None
        pair.detail = {**detail, "undone_at": _iso(now), "undone_by": user.id if user else None}
        pair.save()
        refresh_next_action([kept.id, gone.id])
        audit("prospect.unmerge", "prospect", gone.id, detail=f"out of prospect {kept.id} (pair {pair.id})",
              actor=user)
    return Decision(pair, kept, gone)


def _fill(kept: Prospect, gone: Prospect) -> dict:
    filled = {}
    for name in FILLED:
        value = getattr(gone, name)
        if value and not getattr(kept, name):
            setattr(kept, name, value)
            filled[name] = _plain(value)
    if "phone" in filled:
        kept.phone_valid = gone.phone_valid
    return filled


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _iso(value):
    return value.isoformat() if value else None


def _recount(prospect: Prospect, now: datetime) -> None:
    """Interaction count and last interaction from the interactions the record holds now."""
    count, last = (Interaction.select(fn.COUNT(Interaction.id), fn.MAX(Interaction.occurred_at))
                   .where(Interaction.prospect == prospect.id).scalar(as_tuple=True))
    prospect.interaction_count = count or 0
    prospect.last_interaction_at = Interaction.occurred_at.python_value(last) if last else None
    _touch(prospect, now)


def _touch(prospect: Prospect, now: datetime) -> None:
    from .prospects import prospect_search_text  # prospects imports this module
    prospect.search_text = prospect_search_text(prospect)
    prospect.updated_at = now
    prospect.version += 1
    prospect.save()


def _close_as_duplicate(gone: Prospect, user, now) -> None:
    """The tombstone: lost, reason "duplicate", so that no rule, board column or count takes it as open."""
    stage = (Stage.select().where((Stage.kind == "lost") & ~Stage.retired).order_by(Stage.position).first())
    reason = LostReason.get_or_none(LostReason.code == "duplicate")
    if stage is not None:
        StageChange.create(prospect=gone.id, from_stage=gone.stage_id, to_stage=stage.id, lost_reason=reason,
                           user=user, changed_at=now)
        gone.stage, gone.outcome, gone.lost_reason = stage.id, "lost", reason
    _recount(gone, now)


def _reopen(gone: Prospect, before: dict, user, now) -> None:
    stage_id = before.get("stage_id")
    if stage_id and stage_id != gone.stage_id:
        StageChange.create(prospect=gone.id, from_stage=gone.stage_id, to_stage=stage_id, user=user,
                           changed_at=now)
        gone.stage = stage_id
    gone.outcome = before.get("outcome", "open")
    gone.lost_reason = before.get("lost_reason_id")
    _recount(gone, now)
