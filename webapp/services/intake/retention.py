"""Retention: a request's raw contents (body, headers, address, parsed copy) are emptied once handled
and old enough, or at the person's erasure; the row stays as the trace of what happened."""
from datetime import datetime, timedelta

from peewee import fn

from ...models import InboundRequest, database


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
