"""Inbound requests (web forms now, mail next): stored raw first, processed exactly once, triaged by the lead.

The promise "nothing lost" lives in our table, not in the queue (NOTES.md: Huey deletes a task before
running it). A request is committed before the sender hears 2xx; a worker *claims* it (counting the
attempt and taking a lease), then applies its effect and marks it processed in one transaction whose
first statement is a conditional update, so two workers can never both apply it. A request left
`received` past its lease (a killed worker, a lost task) is picked up by the re-scan; one that fails
`max_attempts` times waits in the failed queue until someone replays it.
"""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from peewee import fn

from integrations.plugins import plugin_manager
from integrations.webform import SOURCE_TYPE as WEBFORM, IntakeError, decode_body, mapping_for, contact_fields

from ..models import InboundRequest, Interaction, Patient, Prospect, Setting, Source, User, database
from ..rules.contact import contact_problems, is_email
from ..rules.followups import ProspectFacts
from ..rules.numbers import parse_id
from ..rules.qualification import read_qualification
from ..security import PERMISSIONS
from ..timeutil import utcnow
from .audit import record as audit
from .dedupe import SUSPECT, Match, find_existing
from .intake_store import Pending, store
from .prospects import ContactInput, ContactOutcome, add_interaction, identity_of, record_contact
from .users import may_own_work

MODES = ("triage", "auto")
OWNER_POLICIES = ("round_robin", "none")
DEFAULT_CONFIG = {
    "preset": "html",
    "fields": {},
    "thank_you_url": "",
    "allowed_origins": [],
    "mode": "triage",
    "owner": "round_robin",
    "honeypot": "website",
    "rate_limit": "20 per minute",
}
# What is kept of a request's headers: enough to review and to trace, never cookies or credentials.
KEPT_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "Origin", "Referer", "Accept",
                "Accept-Language", "Idempotency-Key", "X-Relance-Signature", "X-Forwarded-For",
                "X-Real-Ip")
# The same, as WSGI environ keys (PEP 3333: CONTENT_TYPE and CONTENT_LENGTH have no HTTP_ prefix).
_KEPT_ENVIRON = tuple(
    (name if name in ("Content-Type", "Content-Length") else "HTTP_" + name).upper().replace("-", "_")
    for name in KEPT_HEADERS)
DUPLICATE_WINDOW = timedelta(days=1)
ROUND_ROBIN_KEY = "intake_round_robin_last_owner"


def config_of(source: Source) -> dict:
    return {**DEFAULT_CONFIG, **(source.config or {})}


def kept_headers(environ: dict) -> dict[str, str]:
    """The kept headers of a WSGI request, read straight from its environ (once per intake post)."""
    return {name: environ[key][:500] for name, key in zip(KEPT_HEADERS, _KEPT_ENVIRON) if environ.get(key)}


# --- acceptance: the web request's part, one durable write -------------------------------------------

@dataclass
class Received:
    """What acceptance did with a post: the stored request's id and state, whether it repeated an
    earlier one, and why it cannot be processed (`error`, a 4xx for the sender) if so."""
    id: int
    state: str
    duplicate: bool = False
    error: IntakeError | None = None


def accept(source: Source, *, content_type: str, headers: dict, body: bytes, remote_addr: str,
           idempotency_key: str | None = None, spam_reason: str | None = None,
           now: datetime | None = None, dispatch=None) -> Received:
    """Store a post, raw, in one committed transaction, and say what became of it.

    A post with an `Idempotency-Key` already used returns the request stored under it; the same content
    sent again without one is a new request, which the worker attaches where the first copy went. A post that cannot be read is stored as `failed` with its error code; a filled
    honeypot or a `spam_reason` stores it as `spam`. Nothing sent is thrown away. `dispatch(ids)`, if
    given, is called after the commit with the new requests waiting to be processed.
    """
    now = now or utcnow()
    config = config_of(source)
    state, error, fingerprint = "received", None, None
    try:
        fingerprint, honeypot_hit = _inspect(source, config, content_type, headers, body)
        if honeypot_hit:
            spam_reason = spam_reason or "honeypot"
    except IntakeError as exc:
        state, error = "failed", exc
    except Exception:  # a plugin's bug must not lose the post: stored as it came, the worker retries it
        current_app.logger.exception("intake: reading a post to source %s failed", source.slug)
    if fingerprint is None:
        fingerprint = _digest(source.id, content_type, body)
    if spam_reason:
        state, error = "spam", None
    key = _key(idempotency_key)
    item = store(Pending(
        source_id=source.id, received_at=now, remote_addr=(remote_addr or "")[:64], headers=headers,
        content_type=(content_type or "")[:200], body=body, idempotency_key=key, fingerprint=fingerprint,
        state=state, error=(error.code if error else spam_reason)), dispatch)
    return Received(item.stored_id, item.stored_state, duplicate=item.duplicate,
                    error=None if item.duplicate else error)


def _inspect(source, config, content_type, headers, body) -> tuple[str | None, bool]:
    """Read a post as the processing will, without touching the database: its content fingerprint and
    whether the honeypot was filled. Raises IntakeError for what processing could never read."""
    if source.type != WEBFORM:
        fields = _parse(source, content_type, headers, body)
        return _digest(source.id, "", json.dumps(fields, sort_keys=True).encode()), False
    values = decode_body(content_type, body)
    honeypot = config.get("honeypot") or ""
    if honeypot and values.get(honeypot):
        return None, True
    fields = contact_fields(values, mapping_for(config), honeypot)
    if not fields["phone"] and not fields["email"]:
        raise IntakeError("missing_contact", 422)
    canonical = json.dumps(sorted((k, v) for k, v in values.items() if k != honeypot)).encode()
    return _digest(source.id, "form", canonical), False


def _digest(source_id: int, kind: str, data: bytes) -> str:
    return hashlib.sha256(f"{source_id}:{kind}:".encode() + data).hexdigest()


def _key(idempotency_key: str | None) -> str | None:
    key = (idempotency_key or "").strip()
    if not key:
        return None
    return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


# --- processing: the worker's part ------------------------------------------------------------------

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
        fields = _read(request)
        with database.atomic():
            if not _take(request_id, now):
                return None
            created = _apply(request, fields, now)
            request.save()
    except IntakeError as exc:
        return _failed(request_id, exc.code, final=True)
    except Exception as exc:  # a bug or an outage: counted, retried after the lease, then failed
        current_app.logger.exception("intake: processing request %s failed", request_id)
        return _failed(request_id, f"{type(exc).__name__}: {exc}"[:500], final=False)
    if created is not None:
        plan_first_answer(created, now)
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


MAIL_CONTENT_TYPE = "message/rfc822"   # a mail stored raw by a mailbox poll (services/mailbox.py)


def _parse(source: Source, content_type: str, headers: dict, body: bytes) -> dict:
    if content_type == MAIL_CONTENT_TYPE:
        inbound = plugin_manager().hook.parse_message(source=source, raw=body)
        if inbound is None:
            raise IntakeError("no_plugin_for_source_type", 422)
        return inbound.as_dict() if hasattr(inbound, "as_dict") else dict(inbound)
    fields = plugin_manager().hook.parse_request(source=source, content_type=content_type,
                                                 headers=headers, body=body)
    if fields is None:
        raise IntakeError("no_plugin_for_source_type", 422)
    return fields


def _read(request: InboundRequest) -> dict:
    """The request's contact fields, as its source's plugin reads them, and what it asks for."""
    fields = _parse(request.source, request.content_type, request.headers or {}, bytes(request.body))
    email = fields.get("email")
    if email and not is_email(email):  # kept for the lead to read, not used to reach the person
        fields["extra"] = {**(fields.get("extra") or {}), "email": email}
        fields["email"] = None
    if "contact_required" in contact_problems("", "", fields.get("phone"), fields.get("email"),
                                              name_required=False):
        raise IntakeError("missing_contact", 422)
    fields["qualification"] = read_qualification(fields.get("request"), fields.get("message"))
    return fields


def _apply(request: InboundRequest, fields: dict, now: datetime) -> Prospect | None:
    """The request's effect; returns the prospect it created, if any."""
    request.parsed = fields
    request.state, request.processed_at, request.lease_until, request.error = "processed", now, None, None
    twin = _processed_twin(request)
    if twin is not None:  # two copies accepted at once: the second follows the first
        request.prospect, request.patient, request.triage = twin.prospect_id, twin.patient_id, False
        request.parsed = {**fields, "duplicate_of": twin.id}
        return None
    config = config_of(request.source)
    if config["mode"] != "auto":
        request.triage = True
        return None
    outcome = _record(request, fields, user=None, owner=next_owner(config), now=now)
    request.prospect, request.patient, request.triage = outcome.prospect, outcome.patient, False
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


def contact_input(request: InboundRequest, fields: dict, owner: User | None) -> ContactInput:
    """The request as the staff form would have typed it: a web contact, dated when it arrived."""
    birth = fields.get("birth_date")
    note_lines = [line for line in (fields.get("request"), fields.get("message")) if line]
    note_lines += [f"{key}: {value}" for key, value in (fields.get("extra") or {}).items()]
    return ContactInput(
        first_name=fields.get("first_name", ""), last_name=fields.get("last_name", ""),
        phone=fields.get("phone", ""), email=fields.get("email"),
        birth_date=date.fromisoformat(birth) if birth else None, channel=fields.get("channel") or "webform",
        direction="in",
        qualification=fields.get("qualification"), note="\n".join(note_lines),
        origin_detail=(fields.get("origin") or request.source.name or request.source.slug)[:200],
        owner=owner, occurred_at=request.received_at)


def _record(request: InboundRequest, fields: dict, user, owner, now) -> ContactOutcome:
    # A known phone or email under another name is never merged silently: a new prospect, linked to
    # those records as a suspected duplicate for the lead's review (services/duplicates.py).
    return record_contact(contact_input(request, fields, owner), user, now=now, decision=SUSPECT)


def plan_first_answer(prospect: Prospect, now: datetime) -> None:
    """The new prospect's first-answer deadline now, not at the next sweep, in its own short
    transaction after the request's. If it fails the sweep plans it (same cause key): only logged."""
    from .sweep import plan_rules_for
    try:
        with database.atomic():
            plan_rules_for([prospect.id], now)
    except Exception:
        current_app.logger.exception("intake: planning the first answer of prospect %s failed", prospect.id)


def next_owner(config: dict) -> User | None:
    """Round robin among the active secretaries and leads, or nobody (the lead assigns in triage)."""
    policy = config.get("owner") or "round_robin"
    if policy == "none":
        return None
    if parse_id(policy):
        chosen = User.get_or_none(User.id == parse_id(policy))
        if may_own_work(chosen):
            return chosen
    staff = list(User.select().where(User.active & User.role.in_(PERMISSIONS["prospects.round_robin"]))
                 .order_by(User.id))
    if not staff:
        return None
    row = Setting.get_or_none(Setting.key == ROUND_ROBIN_KEY)
    last = int(row.value) if row is not None and row.value else 0
    chosen = next((user for user in staff if user.id > last), staff[0])
    Setting.insert(key=ROUND_ROBIN_KEY, value=chosen.id).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: chosen.id}).execute()
    return chosen


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


# --- the lead's triage ------------------------------------------------------------------------------

@dataclass
class TriageItem:
    request: InboundRequest
    fields: dict
    match: Match
    suspects: list = field(default_factory=list)


class TriageError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def triage_queue(limit: int = 50, now: datetime | None = None) -> tuple[list[TriageItem], int]:
    """Requests waiting for the lead, oldest first, each with the records it may belong to and its
    first-answer deadline, counted from when it arrived (`request.answer_by`, `request.answer_state`)."""
    from .followups import answer_deadlines

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
        outcome = _record(request, fields, user=user, owner=owner or next_owner(config_of(request.source)),
                          now=now)
        request.prospect, request.patient = outcome.prospect, outcome.patient
        request.save()
        audit("intake.create", "inbound_request", request.id, actor=user)
    if outcome.created:
        plan_first_answer(outcome.prospect, now)
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


# What a request keeps once its raw contents are emptied (retention, or the person's erasure): its
# row, source, times, state, attempts, triage flag and links, so that every count stays the same.
EMPTIED = {"body": b"", "headers": {}, "remote_addr": "", "parsed": None, "fingerprint": None}
# Kept raw until handled: a request still `received` has not been read by anyone yet.
PURGEABLE_STATES = ("processed", "spam", "failed", "dismissed")


def holds_raw_data():
    """Requests whose raw contents are still there (a test may store one without a fingerprint)."""
    return (InboundRequest.fingerprint.is_null(False) | InboundRequest.parsed.is_null(False)
            | (fn.LENGTH(InboundRequest.body) > 0) | (InboundRequest.remote_addr != ""))


def empty_raw(where) -> int:
    """Empty the raw contents of the requests `where` selects; an error that quotes an exception's
    message (which may quote the body) keeps only the exception's name. Returns how many."""
    for row in (InboundRequest.select(InboundRequest.id, InboundRequest.error)
                .where(where & InboundRequest.error.contains(":"))):
        InboundRequest.update(error=row.error.split(":", 1)[0]).where(InboundRequest.id == row.id).execute()
    return InboundRequest.update(**EMPTIED).where(where & holds_raw_data()).execute()


def purge_raw(now: datetime, days: int) -> int:
    """Empty the raw body, headers, address and parsed copy of requests received more than `days` ago
    that someone or the worker has read: processed (attached, or still waiting in triage), spam,
    failed or dismissed. The row and its state stay as the trace of what happened; a request still
    `received` is never touched. Returns how many were emptied."""
    cutoff = now - timedelta(days=days)
    with database.atomic():
        return empty_raw(InboundRequest.state.in_(PURGEABLE_STATES) & (InboundRequest.received_at < cutoff))
