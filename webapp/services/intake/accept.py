"""Acceptance: the web request's part of intake, one durable write and nothing else.

A post is looked at without the database (its source type's `inspect`, or its plugin's reading), then
stored raw in one committed transaction (`intake_store`), then the sender is answered. What cannot be
read is stored too, as failed; what the source's own rule calls spam is stored as spam. This is the
hot path the intake benchmark measures: no query here beyond the store's one write.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from integrations.contract import PluginError
from integrations.plugins import source_type

from ...models import Source
from ...timeutil import utcnow
from ..intake_store import Pending, store
from .reading import config_of, content_of, read_inbound

# What is kept of a request's headers: enough to review and to trace, never cookies or credentials.
KEPT_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "Origin", "Referer", "Accept",
                "Accept-Language", "Idempotency-Key", "X-Relance-Signature", "X-Forwarded-For",
                "X-Real-Ip")
# The same, as WSGI environ keys (PEP 3333: CONTENT_TYPE and CONTENT_LENGTH have no HTTP_ prefix).
_KEPT_ENVIRON = tuple(
    (name if name in ("Content-Type", "Content-Length") else "HTTP_" + name).upper().replace("-", "_")
    for name in KEPT_HEADERS)


def kept_headers(environ: dict) -> dict[str, str]:
    """The kept headers of a WSGI request, read straight from its environ (once per intake post)."""
    return {name: environ[key][:500] for name, key in zip(KEPT_HEADERS, _KEPT_ENVIRON) if environ.get(key)}


@dataclass
class Received:
    """What acceptance did with a post: the stored request's id and state, whether it repeated an
    earlier one, and why it cannot be processed (`error`, a 4xx for the sender) if so."""
    id: int
    state: str
    duplicate: bool = False
    error: PluginError | None = None


def accept(source: Source, *, content_type: str, headers: dict, body: bytes, remote_addr: str,
           idempotency_key: str | None = None, spam_reason: str | None = None,
           now: datetime | None = None, dispatch=None) -> Received:
    """Store a post, raw, in one committed transaction, and say what became of it.

    A post with an `Idempotency-Key` already used returns the request stored under it; the same content
    sent again without one is a new request, which the worker attaches where the first copy went. A post
    that cannot be read is stored as `failed` with its error code; what the source type calls spam (a
    filled honeypot) or a `spam_reason` stores it as `spam`. Nothing sent is thrown away. `dispatch(ids)`,
    if given, is called after the commit with the new requests waiting to be processed.
    """
    now = now or utcnow()
    state, error, content = "received", None, None
    try:
        content, own_spam = _inspect(source, content_type, headers, body)
        spam_reason = spam_reason or own_spam
    except PluginError as exc:
        if exc.status >= 500:  # the plugin's own mistake, not the sender's: the worker retries it
            current_app.logger.error("intake: the plugin of source %s failed: %s", source.slug, exc.code)
        else:
            state, error = "failed", exc
    except Exception:  # a plugin's bug must not lose the post: stored as it came, the worker retries it
        current_app.logger.exception("intake: reading a post to source %s failed", source.slug)
    fingerprint = _digest(source.id, content) if content is not None else _digest(
        source.id, f"{content_type}:".encode() + body)
    if spam_reason:
        state, error = "spam", None
    key = _key(idempotency_key)
    item = store(Pending(
        source_id=source.id, received_at=now, remote_addr=(remote_addr or "")[:64], headers=headers,
        content_type=(content_type or "")[:200], body=body, idempotency_key=key, fingerprint=fingerprint,
        state=state, error=(error.code if error else spam_reason)), dispatch)
    return Received(item.stored_id, item.stored_state, duplicate=item.duplicate,
                    error=None if item.duplicate else error)


def _inspect(source: Source, content_type: str, headers: dict, body: bytes) -> tuple[bytes | None, str | None]:
    """The post's content (what makes two posts the same) and the source's spam verdict, read as
    processing will, without the database. Raises PluginError for what processing could never read."""
    kind = source_type(source.type)
    inspection = kind.inspect(config_of(source), content_type, headers, body) if kind is not None else None
    if inspection is None:
        return content_of(read_inbound(source, content_type, headers, body)), None
    if inspection.spam:
        return None, inspection.spam
    return inspection.content, None


def _digest(source_id: int, content: bytes) -> str:
    return hashlib.sha256(f"{source_id}:".encode() + content).hexdigest()


def _key(idempotency_key: str | None) -> str | None:
    key = (idempotency_key or "").strip()
    if not key:
        return None
    return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()
