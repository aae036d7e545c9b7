"""The lead's triage: the queue of requests waiting for a person, and what she does with each one
(create the prospect, attach to a known record, file as spam, replay, dismiss), each exactly once."""
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from peewee import fn

from ...models import InboundRequest, Interaction, Patient, Prospect, Source, User, database
from ...refusals import Refusal
from ...rules.followups import ProspectFacts
from ...timeutil import utcnow
from ..audit import record as audit
from ..dedupe import Match, find_existing
from ..prospects import ContactOutcome, add_interaction, identity_of
from .process import process
from .reading import config_of
from .recording import contact_input, next_owner, plan_answer, record, stamp
from .retention import holds_raw_data


@dataclass
class TriageItem:
    request: InboundRequest
    fields: dict
    match: Match
    suspects: list = field(default_factory=list)


class TriageError(Refusal):
    """Someone else was quicker (409: already handled), or the form named no record (400)."""
    status = 400
    domain = "triage"


def triage_queue(limit: int = 50, now: datetime | None = None) -> tuple[list[TriageItem], int]:
    """Requests waiting for the lead, oldest first, each with the records it may belong to and its
    first-answer deadline, counted from when it arrived (`request.answer_by`, `request.answer_state`)."""
    from ..followups import answer_deadlines

    now = now or utcnow()
    query = (InboundRequest.select(InboundRequest, Source).join(Source)
             .where((InboundRequest.state == "processed") & (InboundRequest.triage == True))  # noqa: E712
             .order_by(InboundRequest.received_at, InboundRequest.id))
    requests = list(query.limit(limit))
    facts = [ProspectFacts(id=r.id, temperature="warm", first_contact_at=r.received_at, created_at=r.received_at)
             for r in requests]
    items = []
    for request, deadline in zip(requests, answer_deadlines(facts, now, current_app.config["TIMEZONE"])):
        request.answer_by, _, request.answer_state = deadline
        fields = request.parsed or {}
        match = find_existing(identity_of(contact_input(request, fields, None)))
        items.append(TriageItem(request, fields, match, match.other_prospects))
    return items, query.count()


def _waiting(request_id: int) -> InboundRequest:
    """Lock a request still waiting in triage, or refuse: someone else has handled it."""
    taken = (InboundRequest.update(triage=False)
             .where((InboundRequest.id == request_id) & InboundRequest.triage
                    & (InboundRequest.state == "processed")).execute())
    if not taken:
        raise TriageError("already_handled")
    request = InboundRequest.get_by_id(request_id)
    if request.emptied:  # past the retention period: no person to create; the caller's transaction undoes
        raise TriageError("emptied")
    return request


def create_from(request_id: int, user: User, owner: User | None = None,
                now: datetime | None = None) -> ContactOutcome:
    """One click: the request becomes a prospect (or lands on the record the dedupe finds)."""
    now = now or utcnow()
    with database.atomic():
        request = _waiting(request_id)
        fields = request.parsed or {}
        outcome = record(request, fields, user=user, owner=owner or next_owner(config_of(request.source)),
                         now=now)
        request.prospect, request.patient = outcome.prospect, outcome.patient
        request.save()
        audit("intake.create", "inbound_request", request.id, actor=user)
    if outcome.created:
        plan_answer(outcome.prospect, now)
    return outcome


def attach(request_id: int, user: User, *, prospect: Prospect | None = None, patient: Patient | None = None,
           now: datetime | None = None) -> Interaction:
    """The request belongs to a known prospect or patient: it is logged there as an incoming contact."""
    now = now or utcnow()
    if (prospect is None) == (patient is None):
        raise TriageError("choose_one_record")
    with database.atomic():
        request = _waiting(request_id)
        data = contact_input(request, request.parsed or {}, None)
        if prospect is not None:
            interaction = add_interaction(prospect, channel=data.channel, direction="in", note=data.note, user=user,
                                          occurred_at=data.occurred_at, now=now)
            request.prospect = prospect
        else:
            interaction = Interaction.create(patient=patient, channel=data.channel, direction="in", note=data.note,
                                             user=user, occurred_at=data.occurred_at, created_at=now)
            request.patient = patient
        stamp(interaction, (request.parsed or {}).get("message_id"))
        request.save()
        audit("intake.attach", "inbound_request", request.id, actor=user)
    return interaction


def mark_spam(request_id: int, user: User) -> None:
    """Kept apart for review, never deleted; `restore` brings it back."""
    with database.atomic():
        changed = (InboundRequest.update(state="spam", triage=False, error="marked_spam", lease_until=None)
                   .where((InboundRequest.id == request_id)
                          & (InboundRequest.triage | InboundRequest.state.in_(("received", "failed"))))
                   .execute())
        if not changed:
            raise TriageError("already_handled")
        audit("intake.spam", "inbound_request", request_id, actor=user)


def replay(request_id: int, user: User, now: datetime | None = None) -> str:
    """Run a failed, dismissed or spam-filed request again (after a fix); a processed one is left as it is,
    and so is one whose contents were emptied (there is nothing left to read)."""
    now = now or utcnow()
    with database.atomic():
        changed = (InboundRequest.update(state="received", attempts=0, lease_until=None, error=None)
                   .where((InboundRequest.id == request_id)
                          & InboundRequest.state.in_(("failed", "dismissed", "spam")) & holds_raw_data())
                   .execute())
        audit("intake.replay", "inbound_request", request_id, actor=user)
    if not changed:
        return InboundRequest.get_by_id(request_id).state
    return process(request_id, now) or InboundRequest.get_by_id(request_id).state


def dismiss(request_id: int, user: User) -> bool:
    """Take a failed request out of the failed queue for good (nobody can use it: no contact given, a
    test post). It is kept, error included, and the audit log says who; False if it was not failed."""
    with database.atomic():
        changed = (InboundRequest.update(state="dismissed", lease_until=None)
                   .where((InboundRequest.id == request_id) & (InboundRequest.state == "failed")).execute())
        if changed:
            audit("intake.dismiss", "inbound_request", request_id, actor=user)
    return bool(changed)


def counts() -> dict[str, int]:
    """How many requests wait in each queue the lead watches."""
    waiting = (InboundRequest.state.in_(("received", "failed", "spam"))
               | ((InboundRequest.state == "processed") & (InboundRequest.triage == True)))  # noqa: E712
    rows = (InboundRequest.select(InboundRequest.state, InboundRequest.triage, fn.COUNT(InboundRequest.id))
            .where(waiting).group_by(InboundRequest.state, InboundRequest.triage).tuples())
    result = {"triage": 0, "failed": 0, "spam": 0, "received": 0}
    for state, triage, count in rows:
        if state == "processed" and triage:
            result["triage"] += count
        elif state in result:
            result[state] += count
    return result
