"""Polling a mailbox source (issue 16): every mail in its folder stored raw, once, before anything else.

One poll of one source:

1. connect (TLS by default; STARTTLS; plain only to this machine), log in, EXAMINE the folder (read-only:
   no flag ever changes; `\\Seen` is never read nor relied on, staff change it), read UIDVALIDITY;
2. the cursor keyed `FOLDER:UIDVALIDITY` (a `SourceCursor` row) gives the last UID stored; a new
   UIDVALIDITY (the folder was re-created) is a new key, read from the start;
3. `UID FETCH last+1:* (RFC822.SIZE)` lists what is new (the server answers `n:*` with the last UID
   even when nothing is new: only UIDs above the cursor count), then `UID FETCH … (BODY.PEEK[])` in
   batches. All of this network I/O happens outside any database transaction;
4. each batch is stored in one transaction: each mail as an `InboundRequest` (content type
   `message/rfc822`, the exact bytes, its Message-ID, a fingerprint = SHA-256 of the bytes keyed by the
   source) unless one with the same Message-ID (any mailbox source) or the same bytes (this source) is
   there already, and the cursor advanced to the batch's last UID, in the same transaction;
5. after the commit, the new requests' ids are handed to the worker (`dispatch`), as web-form posts
   are. A lost hand-over is found by the intake's re-scan: the rows are `received`.

A mail seen again — a second poll, two workers at once, moved and moved back (a new UID), a crash
between fetch and processing, a new UIDVALIDITY — is recognised by its Message-ID and its bytes and
gives one request. Nothing in the mailbox is deleted, moved or flagged.

A failure (authentication, unreachable server, TLS, missing folder, no encryption key) is logged without
the password and kept as the source's poll status (cursor key `@poll`), which the settings page shows;
it never raises out of `poll_source`.
"""
import hashlib
import imaplib
import json
import logging
import re
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesParser
from email.policy import compat32

from peewee import IntegrityError

from integrations.contract import MAIL_CONTENT_TYPE, PluginError
from integrations.plugins import source_type

from ..models import Source, SourceCursor, database
from ..rules.web import is_loopback
from ..secrets import SecretsUnavailable, unseal
from ..timeutil import utcnow
from .intake_store import Pending, write, writers_queue

log = logging.getLogger(__name__)

MAILBOX_TYPE = "imap"            # the built-in plugin's type (integrations/imap.py): its settings, this poll
DEFAULT_INTERVAL_MINUTES = 5

STATUS_KEY = "@poll"             # the last poll's outcome (a folder key always holds a colon after it)
STARTED_KEY = "@poll-started"    # when a poll last started (ISO, UTC): the periodic task's claim
BATCH_MESSAGES = 100
BATCH_BYTES = 16 * 1024 * 1024
TIMEOUT_SECONDS = 30
# A mail seen before: the same Message-ID from any mailbox source, or the same bytes in this one. The
# idempotency key (unique per source) makes two pollers of one source unable to store it twice.
_EARLIER_MAIL = ("SELECT id, state FROM inbound_request WHERE (source_id = ? AND idempotency_key = ?)"
                 " OR (source_id = ? AND fingerprint = ?)"
                 " OR (message_id = ? AND content_type = 'message/rfc822')")
_UID = re.compile(rb"UID (\d+)")
# Plain SQL, written once (as intake_store's): Peewee building a statement per mail was most of a batch.
_SET_MESSAGE_ID = "UPDATE inbound_request SET message_id = {p} WHERE id = {p}"
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")

# The errors a poll reports, by code (the settings page words them in French).
ERROR_CODES = ("auth_failed", "unreachable", "timeout", "tls_error", "folder_missing", "protocol_error",
               "no_secrets_key", "secret_unreadable", "settings_invalid", "storage_failed")


class PollError(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code, self.detail = code, detail


@dataclass
class PollResult:
    source: str
    fetched: int = 0                 # mails read from the server this time
    stored: list[int] = field(default_factory=list)   # ids of the new requests
    duplicates: int = 0              # mails already stored (seen again)
    uidvalidity: int | None = None
    last_uid: int | None = None
    error: str | None = None         # a code of ERROR_CODES
    detail: str = ""


# --- the parts of a mail the poll needs -------------------------------------------------------------

def fingerprint(source_id: int, raw: bytes) -> str:
    """SHA-256 of the exact bytes, keyed by the source."""
    return hashlib.sha256(f"{source_id}:mail:".encode() + raw).hexdigest()


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID header as written (whitespace folded), or None; a very long one is hashed."""
    end = raw.find(b"\r\n\r\n")
    head = raw[:end + 2] if end >= 0 else raw[:64 * 1024]   # the header block alone (a body can be large)
    try:
        headers = BytesParser(policy=compat32).parsebytes(head, headersonly=True)
        value = headers.get("Message-ID")
    except Exception:  # noqa: BLE001 (unreadable headers: the bytes' hash still recognises it)
        return None
    value = " ".join(str(value or "").split())
    if not value:
        return None
    return value if len(value) <= 250 else "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def cursor_key(folder: str, uidvalidity: int) -> str:
    return f"{folder}:{uidvalidity}"


# --- the IMAP side (no database) --------------------------------------------------------------------

def _quoted(folder: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    from imap_tools.imap_utf7 import utf7_encode

    encoded = utf7_encode(folder).decode("ascii") if not folder.isascii() else folder
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(config: dict, password: str) -> imaplib.IMAP4:
    """A logged-in connection for a source's settings; PollError on any failure (never the password)."""
    host, port = config["host"], int(config.get("port") or 993)
    security = config.get("security") or "tls"
    if security == "plain" and not is_loopback(host):
        raise PollError("settings_invalid", "plain_needs_loopback")
    context = ssl.create_default_context()
    connection = None
    try:
        if security == "tls":
            connection = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=TIMEOUT_SECONDS)
        else:
            connection = imaplib.IMAP4(host, port, timeout=TIMEOUT_SECONDS)
            if security == "starttls":
                connection.starttls(ssl_context=context)
        user = config["user"]
        if user.isascii() and password.isascii():
            connection.login(user, password)
        else:   # LOGIN takes ASCII only: SASL PLAIN carries UTF-8 (RFC 4616)
            connection.authenticate("PLAIN", lambda _: b"\0" + user.encode() + b"\0" + password.encode())
        return connection
    except Exception as exc:  # noqa: BLE001
        if connection is not None:
            _close(connection)
        raise _poll_error(exc, password) from None


def _poll_error(exc: BaseException, password: str | None = None) -> PollError:
    if isinstance(exc, PollError):
        return exc
    detail = f"{type(exc).__name__}: {exc}"[:300]
    if password:
        detail = detail.replace(password, "***")
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        code = "tls_error"
    elif isinstance(exc, (socket.timeout, TimeoutError)):
        code = "timeout"
    elif isinstance(exc, OSError):
        code = "unreachable"
    elif isinstance(exc, imaplib.IMAP4.error):
        text = str(exc).upper()
        if "AUTHENTICATIONFAILED" in text or "LOGIN" in text or "AUTHENTICATE" in text or "PASSWORD" in text:
            code = "auth_failed"
        elif "STARTTLS" in text or "TLS" in text:
            code = "tls_error"
        else:
            code = "protocol_error"
    else:
        code = "protocol_error"
    return PollError(code, detail)


def _close(connection: imaplib.IMAP4) -> None:
    try:
        connection.logout()
    except Exception:  # noqa: BLE001 (closing a broken connection)
        try:
            connection.shutdown()
        except Exception:  # noqa: BLE001
            pass


def examine(connection: imaplib.IMAP4, folder: str) -> tuple[int, int, int]:
    """EXAMINE the folder (read-only); returns (UIDVALIDITY, UIDNEXT or 0, message count)."""
    typ, data = connection.select(_quoted(folder), readonly=True)
    if typ != "OK":
        raise PollError("folder_missing", (data[0] or b"").decode(errors="replace")[:200] if data else "")
    _, validity = connection.response("UIDVALIDITY")
    _, uidnext = connection.response("UIDNEXT")
    if not validity or validity[0] is None:
        raise PollError("protocol_error", "no UIDVALIDITY")
    exists = int(data[0]) if data and data[0] else 0
    return int(validity[0]), int(uidnext[0]) if uidnext and uidnext[0] else 0, exists


def new_uids(connection: imaplib.IMAP4, after: int) -> list[tuple[int, int]]:
    """(UID, size) of the mails above `after`, in UID order."""
    typ, data = connection.uid("FETCH", f"{after + 1}:*", "(UID RFC822.SIZE)")
    if typ != "OK":
        raise PollError("protocol_error", "UID FETCH failed")
    found = {}
    for line in data or ():
        text = line[0] if isinstance(line, tuple) else line
        if not isinstance(text, bytes):
            continue
        uid, size = _UID.search(text), _SIZE.search(text)
        if uid and int(uid.group(1)) > after:   # `n:*` answers the last UID even when nothing is new
            found[int(uid.group(1))] = int(size.group(1)) if size else 0
    return sorted(found.items())


def batches(listed: list[tuple[int, int]], count: int = BATCH_MESSAGES, size: int = BATCH_BYTES) -> list[list[int]]:
    """UIDs in groups of at most `count` mails and about `size` bytes (one large mail goes alone)."""
    groups, current, total = [], [], 0
    for uid, length in listed:
        if current and (len(current) >= count or total + length > size):
            groups.append(current)
            current, total = [], 0
        current.append(uid)
        total += length
    if current:
        groups.append(current)
    return groups


def fetch(connection: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes]]:
    """(UID, exact bytes) of these mails, with BODY.PEEK[] (no \\Seen set), in UID order."""
    typ, data = connection.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    if typ != "OK":
        raise PollError("protocol_error", "UID FETCH BODY.PEEK[] failed")
    fetched, pending = {}, None
    for item in data or ():
        if isinstance(item, tuple):
            head, raw = item[0], item[1]
            uid = _UID.search(head)
            if uid:
                fetched[int(uid.group(1))] = raw
            else:
                pending = raw            # the UID comes after the literal: `BODY[] {n} … UID 7)`
        elif isinstance(item, bytes) and pending is not None:
            uid = _UID.search(item)
            if uid:
                fetched[int(uid.group(1))] = pending
            pending = None
    return [(uid, fetched[uid]) for uid in sorted(fetched) if uid in uids]


# --- the database side ------------------------------------------------------------------------------

def _pending(source: Source, folder: str, uidvalidity: int, uid: int, raw: bytes, now: datetime) -> Pending:
    message_id = message_id_of(raw)
    digest = fingerprint(source.id, raw)
    key = "mail:" + (hashlib.sha256(message_id.encode()).hexdigest() if message_id else "sha256:" + digest)
    item = Pending(source_id=source.id, received_at=now, remote_addr="",
                   headers={"Folder": folder, "UIDVALIDITY": str(uidvalidity), "UID": str(uid)},
                   content_type=MAIL_CONTENT_TYPE, body=raw, idempotency_key=key, fingerprint=digest,
                   state="received", error=None)
    item.earlier = (_EARLIER_MAIL, (source.id, key, source.id, digest, message_id))
    item.message_id = message_id
    return item


def store_batch(source: Source, folder: str, uidvalidity: int, mails: list[tuple[int, bytes]],
                now: datetime) -> tuple[list[int], int]:
    """Store a fetched batch and advance the cursor past it, in one transaction; returns (new request
    ids, how many were seen before). Two pollers at once: the second finds the first's rows."""
    if not mails:
        return [], 0
    set_message_id = _SET_MESSAGE_ID.format(p=database.param)
    for attempt in range(3):
        items = [_pending(source, folder, uidvalidity, uid, raw, now) for uid, raw in mails]
        try:
            with writers_queue(), database.atomic():
                for item in items:
                    write(item)
                    if not item.duplicate and item.message_id:
                        database.execute_sql(set_message_id, (item.message_id, item.stored_id))
                advance(source, cursor_key(folder, uidvalidity), max(uid for uid, _ in mails), now)
        except IntegrityError:   # PostgreSQL: another poller stored one of them a moment ago
            if attempt == 2:
                raise
            continue
        new = [item.stored_id for item in items if not item.duplicate]
        return new, len(items) - len(new)
    return [], 0  # pragma: no cover


def advance(source: Source, key: str, uid: int, now: datetime) -> None:
    """Move the cursor to `uid`, never back (two pollers may finish in either order)."""
    value = str(uid)
    SourceCursor.insert(source=source.id, key=key, value=value, updated_at=now).on_conflict(
        conflict_target=[SourceCursor.source, SourceCursor.key],
        update={SourceCursor.value: value, SourceCursor.updated_at: now},
        where=(SourceCursor.value.cast("INTEGER") < uid)).execute()


def last_uid(source: Source, key: str) -> int:
    row = SourceCursor.get_or_none((SourceCursor.source == source.id) & (SourceCursor.key == key))
    try:
        return int(row.value) if row is not None else 0
    except ValueError:
        return 0


def _set_cursor(source: Source, key: str, value: str, now: datetime) -> None:
    SourceCursor.insert(source=source.id, key=key, value=value, updated_at=now).on_conflict(
        conflict_target=[SourceCursor.source, SourceCursor.key],
        update={SourceCursor.value: value, SourceCursor.updated_at: now}).execute()


def status_of(source: Source) -> dict | None:
    """The last poll's outcome: `at` (when it ended, ISO UTC), `error` (a code or None), `stored`,
    `fetched`, `duplicates`; None before the first poll."""
    row = SourceCursor.get_or_none((SourceCursor.source == source.id) & (SourceCursor.key == STATUS_KEY))
    if row is None:
        return None
    try:
        status = json.loads(row.value)
    except ValueError:
        return None
    status["at"] = row.updated_at
    return status


def _record_status(source: Source, result: PollResult, now: datetime) -> None:
    value = json.dumps({"error": result.error, "stored": len(result.stored), "fetched": result.fetched,
                        "duplicates": result.duplicates})
    try:
        with database.atomic():
            _set_cursor(source, STATUS_KEY, value, now)
    except Exception:  # noqa: BLE001 (the status is for people; the rows are what counts)
        log.exception("mailbox %s: could not record the poll status", source.slug)


# --- one poll ---------------------------------------------------------------------------------------

def dispatch_to_worker(ids: list[int]) -> None:
    """Hand new requests to the worker's task, in tasks of at most 50 ids (as the web's hand-over)."""
    from ..queue import process_requests

    for start in range(0, len(ids), 50):
        try:
            process_requests(ids[start:start + 50])
        except Exception:  # noqa: BLE001 (the queue down: the re-scan finds the rows)
            log.exception("mailbox: could not hand requests to the worker")


def poll_source(source: Source, dispatch=dispatch_to_worker, now: datetime | None = None,
                on_batch=None) -> PollResult:
    """Read what is new in the source's folder; see the module's docstring. Never raises for the
    mailbox's own failures: they are in the result (`error`) and the source's status."""
    result = PollResult(source=source.slug)
    password = None
    connection = None
    try:
        kind = source_type(source.type)
        if kind is None:
            raise PollError("settings_invalid", "unknown_type")
        try:
            config = kind.validate(dict(source.config or {}, password="*"))
        except PluginError as refusal:
            raise PollError("settings_invalid", refusal.code) from None
        try:
            password = unseal(source.secret)
        except SecretsUnavailable as missing:
            raise PollError(missing.code) from None
        if not password:
            raise PollError("settings_invalid", "no_password")
        folder = config["folder"]
        connection = connect(config, password)
        try:
            result.uidvalidity, uidnext, exists = examine(connection, folder)
            key = cursor_key(folder, result.uidvalidity)
            after = last_uid(source, key)
            result.last_uid = after
            if exists and (not uidnext or uidnext - 1 > after):
                for group in batches(new_uids(connection, after)):
                    mails = fetch(connection, group)
                    result.fetched += len(mails)
                    try:
                        new, seen = store_batch(source, folder, result.uidvalidity, mails, now or utcnow())
                    except Exception as exc:  # noqa: BLE001
                        log.exception("mailbox %s: storing a batch failed", source.slug)
                        raise PollError("storage_failed", type(exc).__name__) from None
                    result.stored += new
                    result.duplicates += seen
                    result.last_uid = max(uid for uid, _ in mails) if mails else result.last_uid
                    if on_batch is not None:
                        on_batch(mails)
                    if new and dispatch is not None:
                        dispatch(new)
        except Exception as exc:  # noqa: BLE001 (the server's failures are the poll's result)
            raise _poll_error(exc, password) from None
    except PollError as failure:
        result.error, result.detail = failure.code, failure.detail
        log.warning("mailbox %s: poll failed (%s) %s", source.slug, failure.code, failure.detail)
    finally:
        if connection is not None:
            _close(connection)
    _record_status(source, result, utcnow())
    if not result.error:
        log.info("mailbox %s: %d mail(s) read, %d new request(s), %d seen before", source.slug,
                 result.fetched, len(result.stored), result.duplicates)
    return result


def mailbox_sources(slug: str | None = None) -> list[Source]:
    query = Source.select().where((Source.type == MAILBOX_TYPE) & Source.active)
    if slug:
        query = Source.select().where((Source.type == MAILBOX_TYPE) & (Source.slug == slug))
    return list(query.order_by(Source.id))


def claim_due(source: Source, now: datetime) -> bool:
    """Take this source's poll if its interval has passed since the last one started (one poller
    wins when several workers' periodic tasks run at once)."""
    minutes = int((source.config or {}).get("interval_minutes") or DEFAULT_INTERVAL_MINUTES)
    stamp, due_before = now.isoformat(), (now - timedelta(minutes=minutes) + timedelta(seconds=5)).isoformat()
    with database.atomic():
        SourceCursor.insert(source=source.id, key=STARTED_KEY, value="", updated_at=now).on_conflict_ignore().execute()
        return bool(SourceCursor.update(value=stamp, updated_at=now)
                    .where((SourceCursor.source == source.id) & (SourceCursor.key == STARTED_KEY)
                           & (SourceCursor.value < due_before)).execute())


def poll_due(now: datetime | None = None, dispatch=dispatch_to_worker) -> list[PollResult]:
    """Poll each active mailbox source whose interval has passed (the periodic task)."""
    now = now or utcnow()
    results = []
    for source in mailbox_sources():
        if claim_due(source, now):
            results.append(poll_source(source, dispatch=dispatch))
    return results
