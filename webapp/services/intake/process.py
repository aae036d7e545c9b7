"""Processing: the worker's part. Claim a stored request, read it through its plugin, route it, apply
its effect and mark it processed, exactly once.

The promise "nothing lost" lives in our table, not in the queue (NOTES.md: Huey deletes a task before
running it). A worker *claims* a request (counting the attempt and taking a lease), then applies its
effect and marks it processed in one transaction whose first statement is a conditional update, so two
workers can never both apply it. A request left `received` past its lease (a killed worker, a lost
task) is picked up by the re-scan; one that fails `max_attempts` times waits in the failed queue until
someone replays it.
"""
from datetime import datetime, timedelta

from flask import current_app

from integrations.contract import Inbound, PluginError

from ...models import InboundRequest, Prospect, Source, database
from ...rules.contact import contact_problems, is_email
from ...rules.qualification import read_qualification
from ...timeutil import utcnow
from .reading import config_of, read_inbound
from .recording import next_owner, plan_answer, record
from .routing import is_mail_like, is_our_own, mark_undeliverable, route

DUPLICATE_WINDOW = timedelta(days=1)


def lease_seconds() -> int:
    return int(current_app.config.get("INTAKE_LEASE_SECONDS", 120))


def max_attempts() -> int:
    return int(current_app.config.get("INTAKE_MAX_ATTEMPTS", 5))


def claim(request_id: int, now: datetime) -> bool:
    """Count an attempt and hold the request for one lease; False if it is done or someone holds it."""
    lease_until = now + timedelta(seconds=lease_seconds())
    return bool(InboundRequest.update(attempts=InboundRequest.attempts + 1, lease_until=lease_until)
                .where((InboundRequest.id == request_id) & (InboundRequest.state == "received")
                       & (InboundRequest.lease_until.is_null() | (InboundRequest.lease_until < now)))
                .execute())


def process(request_id: int, now: datetime | None = None) -> str | None:
    """Process one stored request if it still waits; returns its state afterwards (None: not ours now)."""
    now = now or utcnow()
    if not claim(request_id, now):
        return None
    try:
        # Read and parsed before the write transaction: the database's one writer is held only for
        # the effect and the mark (the web's posts queue behind it).
        request = InboundRequest.select(InboundRequest, Source).join(Source).where(
            InboundRequest.id == request_id).get()
        inbound, fields = read(request)
        with database.atomic():
            if not _take(request_id, now):
                return None
            owed_answer = apply(request, inbound, fields, now)
            request.save()
    except PluginError as exc:
        return _failed(request_id, exc.code, final=True)
    except Exception as exc:  # a bug or an outage: counted, retried after the lease, then failed
        current_app.logger.exception("intake: processing request %s failed", request_id)
        return _failed(request_id, f"{type(exc).__name__}: {exc}"[:500], final=False)
    if owed_answer is not None:
        plan_answer(owed_answer, now)
    return request.state


def _take(request_id: int, now: datetime) -> bool:
    """The transaction's first write: it locks the row (PostgreSQL) or the database (SQLite), so of two
    workers holding the same request only the first applies it; the second finds it done."""
    return bool(InboundRequest.update(processed_at=now)
                .where((InboundRequest.id == request_id) & (InboundRequest.state == "received"))
                .execute())


def _failed(request_id: int, error: str, final: bool) -> str:
    with database.atomic():
        request = InboundRequest.get_by_id(request_id)
        if request.state != "received":
            return request.state
        request.error = error
        if final or request.attempts >= max_attempts():
            request.state = "failed"
            request.lease_until = None
        request.save()
        return request.state


def read(request: InboundRequest) -> tuple[Inbound, dict]:
    """The request as its source's plugin reads it, and its fields as stored (`parsed`): the contact,
    what it asks for (the qualification), and for a mail its identity and automated kind."""
    inbound = read_inbound(request.source, request.content_type, request.headers or {}, bytes(request.body))
    fields = inbound.as_dict()
    email = fields.get("email")
    if email and not is_email(email):  # kept for the lead to read, not used to reach the person
        fields["extra"] = {**(fields.get("extra") or {}), "email": email}
        fields["email"] = None
    if inbound.automated is None and "contact_required" in contact_problems(
            "", "", fields.get("phone"), fields.get("email"), name_required=False):
        raise PluginError("missing_contact", 422)
    fields["qualification"] = read_qualification(fields.get("request"), fields.get("message"))
    return inbound, fields


def apply(request: InboundRequest, inbound: Inbound, fields: dict, now: datetime) -> Prospect | None:
    """The request's effect, in the order issue 16 gives: a copy follows its first; automated mail and
    copies of our own answers are kept out; a mail of a known thread or sender lands on its record; the
    rest waits in triage or, in automatic mode, becomes a contact. Returns the open prospect now owed an
    answer, if any."""
    request.parsed = fields
    request.state, request.processed_at, request.lease_until, request.error = "processed", now, None, None
    request.triage = False
    if inbound.message_id:
        request.message_id = inbound.message_id[:255]
    twin = _processed_twin(request) or _same_message(request)
    if twin is not None:  # two copies accepted (two posts at once, a mail fetched twice): one effect
        request.prospect, request.patient = twin.prospect_id, twin.patient_id
        request.parsed = {**fields, "duplicate_of": twin.id}
        return None
    if inbound.automated is not None:  # never a request, never answered
        if inbound.automated == "bounce":
            mark_undeliverable(inbound.bounced, now)
        return None
    if is_our_own(inbound):  # our own answer, copied back into the mailbox
        request.parsed = {**fields, "own_mail": True}
        return None
    if is_mail_like(inbound):
        routed = route(inbound, request.received_at, now)
        if routed is not None:
            request.prospect, request.patient = routed.prospect, routed.patient
            return routed.prospect if routed.prospect is not None and routed.prospect.outcome == "open" else None
    config = config_of(request.source)
    if config.get("mode") != "auto":
        request.triage = True
        return None
    outcome = record(request, fields, user=None, owner=next_owner(config), now=now)
    request.prospect, request.patient = outcome.prospect, outcome.patient
    return outcome.prospect if outcome.created else None


def _processed_twin(request: InboundRequest) -> InboundRequest | None:
    """Another copy of the same content within a day, already processed (the fingerprint names the
    source). Either copy may be processed first (two workers, a retry): the first one applied makes
    the record, the other follows it."""
    if not request.fingerprint:
        return None
    since, until = request.received_at - DUPLICATE_WINDOW, request.received_at + DUPLICATE_WINDOW
    # Filtered in Python so that the query is a plain lookup on the fingerprint index.
    copies = InboundRequest.select().where(InboundRequest.fingerprint == request.fingerprint).order_by(
        InboundRequest.id)
    return next((twin for twin in copies if twin.id != request.id and twin.state == "processed"
                 and since <= twin.received_at <= until and not (twin.parsed or {}).get("duplicate_of")),
                None)


def _same_message(request: InboundRequest) -> InboundRequest | None:
    """The same mail (its Message-ID) from the same source, already processed: a second poll, a
    message moved and moved back, re-encoded by a server so its bytes differ. Whenever it came."""
    if not request.message_id:
        return None
    copies = (InboundRequest.select().where(InboundRequest.message_id == request.message_id)
              .order_by(InboundRequest.id))
    return next((twin for twin in copies if twin.id != request.id and twin.source_id == request.source_id
                 and twin.state == "processed" and not (twin.parsed or {}).get("duplicate_of")), None)


def due_for_rescan(now: datetime, limit: int = 1000) -> list[int]:
    """Requests still `received` whose lease ran out, or never taken a lease after a grace period:
    their task was lost (a killed worker or web process). The re-scan enqueues them again."""
    grace = now - timedelta(seconds=lease_seconds())
    query = (InboundRequest.select(InboundRequest.id)
             .where((InboundRequest.state == "received")
                    & ((InboundRequest.lease_until < now)
                       | (InboundRequest.lease_until.is_null() & (InboundRequest.received_at < grace))))
             .order_by(InboundRequest.id).limit(limit))
    return [row.id for row in query]
