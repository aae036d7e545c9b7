"""The request pages' reads: the failed and spam queues, one request's candidates, its raw text, counts.

The triage itself (create, attach, spam, replay) is `services.intake`; this module only reads, so the
pages can show a request as the lead decides about it.
"""
from dataclasses import dataclass

from flask import g
from peewee import fn

from ..models import InboundRequest, Source
from .dedupe import Match, find_existing, kind_of
from .intake import TriageItem, contact_input, counts
from .prospects import identity_of

QUEUES = ("triage", "failed", "spam")
PAGE = 50
RAW_DISPLAY_BYTES = 20_000
MAX_CANDIDATES = 6


@dataclass
class Candidate:
    """A record the request may belong to: `kind` is `patient` or `prospect`, `keys` what matched."""
    kind: str
    record: object
    keys: list[str]
    other_name: bool = False   # shares the phone or email under another name or birth date


def candidates(match: Match) -> list[Candidate]:
    """Patient first, then the prospect the dedupe chose, then the other prospects sharing a key."""
    found = []
    if match.patient is not None:
        found.append(Candidate("patient", match.patient, list(match.matched_on)))
        found += [Candidate("prospect", prospect, keys) for prospect, keys in match.suspects]
    elif match.prospect is not None:
        found.append(Candidate("prospect", match.prospect, list(match.matched_on)))
        found += [Candidate("prospect", prospect, keys) for prospect, keys in match.suspects]
    # Same phone or email, another name: shown too (attach if it is her; "create" links them for review).
    found += [Candidate(kind_of(record), record, keys, other_name=True) for record, keys in match.conflicts]
    return found[:MAX_CANDIDATES]


def triage_item(request: InboundRequest) -> TriageItem:
    """One waiting request as `intake.triage_queue` shows it (to show it again after a refusal)."""
    fields = request.parsed or {}
    match = find_existing(identity_of(contact_input(request, fields, None)))
    return TriageItem(request, fields, match, match.other_prospects)


def listed(queue: str, limit: int = PAGE) -> tuple[list[InboundRequest], int]:
    """The failed (oldest first: they wait for a fix) or spam (newest first) requests, and how many."""
    query = (InboundRequest.select(InboundRequest, Source).join(Source)
             .where(InboundRequest.state == queue))
    order = ((InboundRequest.received_at, InboundRequest.id) if queue == "failed"
             else (InboundRequest.received_at.desc(), InboundRequest.id.desc()))
    return list(query.order_by(*order).limit(limit)), query.count()


def page_of_requests(state: str | None, source_slug: str | None, page: int,
                     per_page: int) -> tuple[list[InboundRequest], int]:
    """The API's list: requests newest first, in one state and from one source when given, and how many."""
    query = InboundRequest.select(InboundRequest, Source).join(Source)
    if state:
        query = query.where(InboundRequest.state == state)
    if source_slug:
        query = query.where(Source.slug == source_slug)
    return list(query.order_by(InboundRequest.id.desc()).paginate(page, per_page)), query.count()


def with_source(request_id: int) -> InboundRequest | None:
    """One request with its source, read in one query."""
    return (InboundRequest.select(InboundRequest, Source).join(Source)
            .where(InboundRequest.id == request_id).first())


def waiting_counts() -> dict[str, int]:
    """`intake.counts()`, once per web request however many places show it (nav, tabs, my day)."""
    if "request_counts" not in g:
        g.request_counts = counts()
    return g.request_counts


def forget_counts() -> None:
    """After a change: the next `waiting_counts()` reads the database again."""
    g.pop("request_counts", None)


def raw_text(body: bytes | memoryview | None, limit: int = RAW_DISPLAY_BYTES) -> tuple[str, int, bool]:
    """The body as text for a person to read (UTF-8, undecodable bytes replaced), its size, and
    whether the text was cut at `limit` bytes."""
    data = bytes(body or b"")
    return data[:limit].decode("utf-8", errors="replace"), len(data), len(data) > limit


def source_counts() -> dict[int, dict[str, int]]:
    """Per source id, how many requests it delivered in each state (one GROUP BY)."""
    rows = (InboundRequest.select(InboundRequest.source, InboundRequest.state, fn.COUNT(InboundRequest.id))
            .group_by(InboundRequest.source, InboundRequest.state).tuples())
    result: dict[int, dict[str, int]] = {}
    for source_id, state, count in rows:
        result.setdefault(source_id, {})[state] = count
    return result
