"""Patient-system reconciliation (issue 17): patients in, prospects converted, uncertain pairs to review.

`apply(source, records, now=…)` is the one entry every patient source calls (file import, push API, FHIR
pull): it upserts the patients on (source, external_id), idempotently, then matches the patients it created
or changed against the prospects not yet linked to a patient, and

- converts a prospect on a certain match (rules/matching.py): won stage, conversion date, the patient, the
  provenance the patient stated; its planned follow-ups closed; one history entry; audited;
- sends an uncertain pair to the review queue (a `PatientMatch` left open): the prospect is not converted
  until a person confirms (`confirm`), and a pair rejected (`reject`) is never suggested again;
- leaves everyone else alone.

`dry_run=True` writes nothing and returns the same per-row outcomes: the import preview.

Blocking (never every patient against every prospect): the patients' keys go into a temporary table, then
one indexed join per key kind — phone (E.164), email, folded names + birth date, birth date + the surname's
initial — brings the candidate prospects; the rules judge only those pairs. A whole export on SQLite
(more than SCAN_ABOVE patients) reads the unlinked prospects' keys once and joins them in dicts instead,
and builds the patient tables' indexes after its rows; a batch of more than BULK_ABOVE checks its
foreign keys once before its commit rather than row by row (`_bulk`).

A batch conversion writes what `board.move` writes for one card (the stage and outcome, a StageChange with
outcomes, planned follow-ups cancelled, the next action cleared, an audit event), set-based; a person's
confirmation and an undo go through `board.move` itself.
"""
import gc
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import NamedTuple

from flask import current_app, g, has_app_context, has_request_context
from peewee import IntegrityError, PostgresqlDatabase
from integrations.contract import PatientRecord

from ..models import (AuditEvent, FollowUp, JSONField, LostReason, Patient, PatientMatch, PatientPhone,
                      Prospect, Stage, StageChange, User, database)
from ..rules import matching
from ..rules.contact import normalise_email
from ..timeutil import to_storage
from .audit import record as audit
from . import provenances
from .next_action import refresh_next_action

CHUNK = 500
KEY_TABLE = "reconcile_keys"
SCAN_ABOVE = 20 * CHUNK      # patients in a batch above which blocking reads the prospects once (SQLite)
BULK_ABOVE = 10 * CHUNK      # and above which the batch runs in bulk mode (see _bulk)

# Row outcomes (SyncResult.rows[i].outcome)
CONVERTED = "converted"      # at least one prospect converted by this patient
REVIEW = "review"            # sent to the review queue (and nothing converted)
UNMATCHED = "unmatched"      # no prospect matched: a new patient
KNOWN = "known"              # nothing new: the patient was matched before, or did not change


class ReconcileError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class RowResult:
    """What happened (or, in a dry run, will happen) to one record of the batch."""
    row: int                                  # 1-based position in the batch
    external_id: str
    action: str                               # created, updated, unchanged; superseded: a later row has
                                              # the same external_id, and that row is the one applied
    outcome: str                              # converted, review, unmatched, known
    patient_id: int | None = None             # None for a patient a dry run would create
    converted: list[int] = field(default_factory=list)    # prospect ids converted
    review: list[int] = field(default_factory=list)       # prospect ids sent to review
    reasons: dict = field(default_factory=dict)           # prospect id -> reason codes


@dataclass
class SyncResult:
    rows_read: int = 0
    patients_created: int = 0
    patients_updated: int = 0
    patients_unchanged: int = 0
    converted: int = 0              # prospects converted
    to_review: int = 0              # (patient, prospect) pairs sent to review
    unmatched: int = 0              # rows whose patient matched no prospect
    dry_run: bool = False
    rows: list[RowResult] = field(default_factory=list)

    def summary(self) -> dict:
        """The counts, for `--json` and the import page (the rows left out)."""
        return {name: getattr(self, name) for name in ("rows_read", "patients_created", "patients_updated",
                                                       "patients_unchanged", "converted", "to_review",
                                                       "unmatched", "dry_run")}

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class _Row:
    row: int
    record: PatientRecord
    first_name: str
    last_name: str
    phones: tuple[str, ...]          # E.164, in the order given, without repeats
    phone_raw: str
    email: str | None
    birth_date: date | None
    provenance: str
    admission_date: date | None
    match_name: str                  # the blocking keys (rules/matching.py), computed once
    match_initial: str
    action: str = "created"
    patient_id: int | None = None
    ref: int = 0                     # patient id, or a negative stand-in for a patient not written

    @property
    def person(self) -> matching.Person:
        return matching.Person(self.first_name, self.last_name, self.birth_date, frozenset(self.phones),
                               self.email)


class _Candidate(NamedTuple):
    """A prospect as blocking reads it: what a conversion needs, and what the rules compare (`person`,
    made once: a prospect may be in several pairs)."""
    id: int
    stage_id: int
    outcome: str
    lost_reason_id: int | None
    converted_at: datetime | None
    person: matching.Person

    @classmethod
    def read(cls, values) -> "_Candidate":
        """From a row that begins with _CANDIDATE_COLUMNS (the birth date as stored: text on SQLite)."""
        pid, first_name, last_name, phone, email, born, stage_id, outcome, lost_reason_id, converted_at, *_ = values
        if born.__class__ is str:
            born = date.fromisoformat(born[:10]) if born else None
        return cls(pid, stage_id, outcome, lost_reason_id, converted_at,
                   _person(first_name, last_name, born, phone, email))


_NO_PHONE = frozenset()


def _person(first_name, last_name, birth_date, phone, email) -> matching.Person:
    """What the rules compare of a prospect."""
    return matching.Person(first_name, last_name, birth_date, frozenset((phone,)) if phone else _NO_PHONE, email)


# --- the entry point --------------------------------------------------------------------------------

def apply(source, records: Iterable[PatientRecord], *, now: datetime, user: User | None = None,
          dry_run: bool = False, region: str | None = None) -> SyncResult:
    """Upsert `records` as patients of `source` (a Source or its slug), then match and convert. Idempotent:
    the same records again change nothing. A record without external_id raises ReconcileError."""
    slug = source if isinstance(source, str) else source.slug
    collecting = gc.isenabled()
    gc.disable()     # a large batch allocates millions of small objects, none in a cycle: no pauses
    try:
        return _apply(slug, records, now=to_storage(now), user=user, dry_run=dry_run, region=region)
    finally:
        if collecting:
            gc.enable()


def _apply(slug: str, records, *, now: datetime, user, dry_run: bool, region: str | None) -> SyncResult:
    region = region or (current_app.config.get("PHONE_REGION", "SN") if has_app_context() else "SN")
    rows = _normalise(records, region)
    result = SyncResult(rows_read=len(rows), dry_run=dry_run)
    # The last record of an external_id wins (a file listing one patient twice).
    latest = {row.record.external_id: row for row in rows}
    with _bulk(len(rows)) as checks_deferred, database.atomic() as transaction:
        _load_existing(slug, latest)
        if not dry_run:
            _write_patients(slug, latest, now)
        else:
            for n, row in enumerate(latest.values()):
                row.ref = row.patient_id if row.patient_id is not None else -(n + 1)
        matched = [row for row in latest.values() if row.action != "unchanged"]
        decisions = _match(matched)
        outcomes = _decide(decisions, slug, now, user, dry_run)
        for row in rows:
            external_id = row.record.external_id
            chosen = latest[external_id]
            if row is not chosen:     # a later row of the same external_id is the one applied
                result.rows.append(RowResult(row.row, external_id, "superseded", KNOWN, chosen.patient_id))
                continue
            decided = outcomes.get(row.ref)    # an entry has a prospect converted or one to review
            if decided is not None:
                converted, review, reasons = decided
                result.rows.append(RowResult(row.row, external_id, row.action, CONVERTED if converted else REVIEW,
                                             row.patient_id, converted, review, reasons))
                result.converted += len(converted)
                result.to_review += len(review)
                continue
            if row.action == "unchanged" or (row.action == "updated" and _has_matches(row)):
                outcome = KNOWN
            else:
                outcome = UNMATCHED
                result.unmatched += 1
            result.rows.append(RowResult(row.row, external_id, row.action, outcome, row.patient_id))
        for row in latest.values():
            if row.action == "created":
                result.patients_created += 1
            elif row.action == "updated":
                result.patients_updated += 1
            else:
                result.patients_unchanged += 1
        if dry_run:
            transaction.rollback()
        else:
            audit("patients.sync", "source", None, actor=user,
                  detail=f"{slug}: {result.rows_read} read, {result.patients_created} created, "
                         f"{result.patients_updated} updated, {result.converted} converted, "
                         f"{result.to_review} to review")
            if checks_deferred:
                _check_foreign_keys(user)
    return result


# The tables whose foreign keys a batch writes (see _bulk). Not the follow-ups it closes (their keys do not
# change); nor the prospects it converts, whose new keys (the won stage, the patient) are the ones their
# StageChange and PatientMatch rows hold, checked there; nor the audit log: its rows name the acting user,
# checked on its own (the log is the largest table, and grows forever).
_WRITTEN = ("patient_phones", "stage_change", "patient_match")


@contextmanager
def _bulk(size: int):
    """SQLite, a large batch that is the outermost transaction: foreign keys checked once for the whole batch
    instead of row by row (as Django's fixture loading does). Enforcement is off for the transaction (that
    halves the cost of converting a prospect), then `_check_foreign_keys` runs before the commit and fails
    the batch on any violation. Yields whether that final check is due. (A larger page cache than the
    connection's 32 MB was tried too: slower, its pages allocated then freed again.)"""
    if size < BULK_ABOVE or isinstance(database.obj, PostgresqlDatabase):
        yield False
        return
    # Inside a transaction the pragma would do nothing: enforcement stays on, row by row.
    deferred = not database.in_transaction() and bool(database.execute_sql("PRAGMA foreign_keys").fetchone()[0])
    if deferred:
        database.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        yield deferred
    finally:
        if deferred:
            database.execute_sql("PRAGMA foreign_keys = ON")


def _check_foreign_keys(user: User | None) -> None:
    """Every foreign key of the tables a batch wrote points at a row (a few tens of ms for 100,000 rows),
    and so does its audit rows' actor; an IntegrityError otherwise, and the batch is rolled back."""
    for table in _WRITTEN:
        broken = database.execute_sql(f'PRAGMA foreign_key_check("{table}")').fetchone()
        if broken:
            raise IntegrityError(f"foreign key {broken[0]}.{broken[3]} -> {broken[2]} (row {broken[1]})")
    if user is not None and not User.select().where(User.id == user.id).exists():
        raise IntegrityError(f"foreign key audit_event.actor_id -> user (user {user.id})")


def _has_matches(row: _Row) -> bool:
    return row.patient_id is not None and PatientMatch.select().where(
        PatientMatch.patient == row.patient_id).exists()


# --- patients -------------------------------------------------------------------------------------

def _normalise(records: Iterable[PatientRecord], region: str) -> list[_Row]:
    rows = []
    for n, record in enumerate(records, start=1):
        external_id = str(record.external_id or "").strip()
        if not external_id:
            raise ReconcileError("external_id_required")
        if external_id != record.external_id:
            record = PatientRecord(**{**asdict(record), "external_id": external_id})
        phones, raws = [], []
        given = record.phones or ()
        for raw in (given,) if isinstance(given, str) else given:   # one number given as a string
            raw = str(raw or "").strip()
            if not raw:
                continue
            raws.append(raw)
            e164 = matching.phone_e164(raw, region)
            if e164 and e164 not in phones:
                phones.append(e164)
        email = normalise_email(record.email)
        first_name, last_name = (record.first_name or "").strip(), (record.last_name or "").strip()
        rows.append(_Row(n, record, first_name, last_name, tuple(phones), raws[0] if raws else "",
                         email if email and "@" in email else None, record.birth_date,
                         (record.provenance or "").strip(), record.admission_date,
                         matching.name_block_key(first_name, last_name), matching.surname_initial(last_name)))
    return rows


_PATIENT_COLUMNS = ("id", "external_id", "first_name", "last_name", "email", "birth_date", "provenance",
                    "admission_date", "phone_raw")


def _load_existing(slug: str, latest: dict[str, _Row]) -> None:
    """Find the batch's patients already known to the source; mark each row created, updated or
    unchanged."""
    ids = list(latest)
    existing = {}
    columns = ", ".join(f'"{c}"' for c in _PATIENT_COLUMNS)
    if len(ids) > 20 * CHUNK:   # a whole export: one scan of the source's patients beats many IN lists
        found = database.execute_sql(f'SELECT {columns} FROM "patient" WHERE "source" = {database.param}',
                                     [slug]).fetchall()
    else:
        found = _select_in(f'SELECT {columns} FROM "patient" WHERE "source" = {{p}} AND "external_id" IN ({{marks}})',
                           ids, [slug])
    for values in found:
        if values[1] in latest:
            existing[values[1]] = dict(zip(_PATIENT_COLUMNS, values))
    phones: dict[int, list[str]] = {}
    patient_ids = [row["id"] for row in existing.values()]
    for chunk in _chunks(patient_ids):
        marks = ", ".join([database.param] * len(chunk))
        cursor = database.execute_sql(
            f'SELECT "patient_id", "phone" FROM "patient_phones" WHERE "patient_id" IN ({marks}) ORDER BY "id"',
            chunk)
        for patient_id, phone in cursor.fetchall():
            phones.setdefault(patient_id, []).append(phone)
    for external_id, row in latest.items():
        known = existing.get(external_id)
        if known is None:
            row.action = "created"
            continue
        row.patient_id = known["id"]
        same = (known["first_name"] == row.first_name and known["last_name"] == row.last_name
                and (known["email"] or None) == row.email and _date(known["birth_date"]) == row.birth_date
                and (known["provenance"] or "") == row.provenance
                and _date(known["admission_date"]) == row.admission_date
                and tuple(phones.get(known["id"], ())) == row.phones)
        row.action = "unchanged" if same else "updated"


_PATIENT_VALUE_NAMES = ("first_name", "last_name", "phone", "phone_raw", "email", "birth_date", "provenance",
                        "admission_date", "match_name", "match_initial", "updated_at", "seen_at")


def _patient_values(row: _Row, stamp) -> tuple:
    """The values of _PATIENT_VALUE_NAMES for one row."""
    return (row.first_name, row.last_name, row.phones[0] if row.phones else None, row.phone_raw, row.email,
            row.birth_date, row.provenance, row.admission_date, row.match_name, row.match_initial, stamp, stamp)


@contextmanager
def _indexes_built_after(tables: tuple[str, ...], rows: int):
    """SQLite, a whole export: the tables' indexes are dropped before the bulk insert and built again after
    it, in the same transaction (one sorted build costs less than 100,000 insertions into each B-tree, and
    the rows need no sorting first). Nothing else sees the table meanwhile: the transaction holds the
    write lock. A unique index is checked whole when it is built: a duplicate fails the batch."""
    if rows < SCAN_ABOVE or isinstance(database.obj, PostgresqlDatabase):
        yield
        return
    marks = ", ".join([database.param] * len(tables))
    indexes = database.execute_sql(   # those the schema declares (sql IS NULL: a constraint's own index)
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
        list(tables)).fetchall()
    for name, _sql in indexes:
        database.execute_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        for _name, sql in indexes:
            database.execute_sql(sql)


def _write_patients(slug: str, latest: dict[str, _Row], now: datetime) -> None:
    created = [row for row in latest.values() if row.action == "created"]
    with _indexes_built_after(("patient", "patient_phones"), len(created)):
        _insert_patients(slug, created, latest, now)


def _insert_patients(slug: str, created: list[_Row], latest: dict[str, _Row], now: datetime) -> None:
    updated = [row for row in latest.values() if row.action == "updated"]
    if created:
        before = database.execute_sql('SELECT MAX("id") FROM "patient"').fetchone()[0] or 0
        names = ("external_id", "source", "created_at", *_PATIENT_VALUE_NAMES)
        stamp = _raw_time(now)
        if isinstance(database.obj, PostgresqlDatabase):
            _insert_many(Patient, [getattr(Patient, name) for name in names],
                         [(row.record.external_id, slug, stamp, *_patient_values(row, stamp)) for row in created])
            # The rows just inserted are this source's rows above the largest id before: one range scan.
            ids = dict(database.execute_sql(
                'SELECT "external_id", "id" FROM "patient" WHERE "id" > %s AND "source" = %s', [before, slug]))
            for row in created:
                row.patient_id = ids[row.record.external_id]
        else:
            # SQLite: the transaction holds the write lock, the ids after the largest are free: given here, not
            # read back.
            for row in created:
                before += 1
                row.patient_id = before
            _insert_patients_sqlite(slug, created, stamp)
    _update_patients(updated, now)
    phones = [(row.patient_id, phone) for row in created + updated for phone in row.phones]
    _insert_many(PatientPhone, [PatientPhone.patient, PatientPhone.phone], phones)
    # Every patient the sync named is seen now (the retention sweep's clock), unchanged ones too.
    for chunk in _chunks([row.patient_id for row in latest.values() if row.action == "unchanged"]):
        Patient.update(seen_at=now).where(Patient.id.in_(chunk)).execute()
    for row in latest.values():
        row.ref = row.patient_id


class _IsoDates(dict):
    """date -> its ISO text, as SQLite's adapter writes it, each date once (a batch's dates repeat)."""
    def __missing__(self, day: date) -> str:
        self[day] = text = day.isoformat()
        return text


def _insert_patients_sqlite(slug: str, created: list[_Row], stamp: str) -> None:
    """The new patients in one executemany. The sync's time is the statement's literal (created, updated and
    seen at once, the same for every row: written as text by us, from a datetime), not three values bound
    per row; dates go as the text the driver's adapter would make of them."""
    iso = _IsoDates({None: None})
    moment = "'" + stamp.replace("'", "''") + "'"
    database.cursor().executemany(
        'INSERT INTO "patient" ("id", "external_id", "source", "first_name", "last_name", "phone", "phone_raw", '
        '"email", "birth_date", "provenance", "admission_date", "match_name", "match_initial", "created_at", '
        f'"updated_at", "seen_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {moment}, {moment}, {moment})',
        [(row.patient_id, row.record.external_id, slug, row.first_name, row.last_name,
          row.phones[0] if row.phones else None, row.phone_raw, row.email, iso[row.birth_date], row.provenance,
          iso[row.admission_date], row.match_name, row.match_initial) for row in created])


def _update_patients(updated: list[_Row], now: datetime) -> None:
    for row in updated:
        Patient.update(**dict(zip(_PATIENT_VALUE_NAMES, _patient_values(row, now)))).where(
            Patient.id == row.patient_id).execute()
    for chunk in _chunks([row.patient_id for row in updated]):    # their numbers, written again after
        PatientPhone.delete().where(PatientPhone.patient.in_(chunk)).execute()


# --- blocking and verdicts ------------------------------------------------------------------------

_CANDIDATE_COLUMNS = ("id", "first_name", "last_name", "phone", "email", "birth_date", "stage_id", "outcome",
                      "lost_reason_id", "converted_at")

_JOINS = {
    "phone": ("phone", 'p."phone" = k.k_text'),
    "email": ("email", 'p."email" = k.k_text'),
    "name": ("born", 'p."match_name" = k.k_text AND p."birth_date" = k.k_date'),
    "initial": ("born", 'p."birth_date" = k.k_date AND p."match_initial" = k.k_initial'),
}


def _keys(row: _Row) -> list[tuple]:
    """(ref, kind, text, initial, date): a row per phone, the email, and one for the birth date with the
    folded names (block "name") and the surname's initial (block "initial")."""
    keys = [(row.ref, "phone", phone, None, None) for phone in row.phones]
    if row.email:
        keys.append((row.ref, "email", row.email, None, None))
    if row.birth_date is not None:
        keys.append((row.ref, "born", row.match_name, row.match_initial, row.birth_date.isoformat()))
    return keys


def candidates(rows: list[_Row]) -> dict[int, dict[int, _Candidate]]:
    """The prospects each patient (by ref) shares a blocking key with, among those not linked to a patient,
    not erased and not merged into another: one indexed join per key kind, or for a whole export on SQLite
    one scan of the prospects joined in dicts."""
    if len(rows) > SCAN_ABOVE and not isinstance(database.obj, PostgresqlDatabase):
        found = _candidates_scan(rows)
    else:
        found = _candidates_joined(rows)
    if not found:
        return found
    merged = {pid for (pid,) in database.execute_sql(
        'SELECT "merged_id" FROM "duplicate_candidate" WHERE "state" = \'merged\' AND "merged_id" IS NOT NULL')}
    if merged:
        for by_id in found.values():
            for pid in merged & set(by_id):
                del by_id[pid]
    return found


def _candidates_joined(rows: list[_Row]) -> dict[int, dict[int, _Candidate]]:
    keys = [key for row in rows for key in _keys(row)]
    found: dict[int, dict[int, _Candidate]] = {}
    if not keys:
        return found
    database.execute_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {KEY_TABLE} (ref INTEGER, kind VARCHAR(8), "
                         "k_text VARCHAR(255), k_initial VARCHAR(8), k_date DATE)")
    database.execute_sql(f"DELETE FROM {KEY_TABLE}")
    mark = database.param
    database.cursor().executemany(f"INSERT INTO {KEY_TABLE} (ref, kind, k_text, k_initial, k_date) "
                                  f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})", keys)
    columns = ", ".join(f'p."{c}"' for c in _CANDIDATE_COLUMNS)
    # CROSS JOIN: SQLite then walks the (small) key table and seeks each key in prospect's index.
    for kind, join in _JOINS.values():
        cursor = database.execute_sql(
            f'SELECT k.ref, {columns} FROM {KEY_TABLE} k CROSS JOIN "prospect" p '
            f'WHERE k.kind = {mark} AND {join} AND p."patient_id" IS NULL AND p."erased_at" IS NULL', [kind])
        for ref, *values in cursor.fetchall():
            by_id = found.setdefault(ref, {})
            if values[0] not in by_id:
                by_id[values[0]] = _Candidate.read(values)
    database.execute_sql(f"DELETE FROM {KEY_TABLE}")
    return found


def _candidates_scan(rows: list[_Row]) -> dict[int, dict[int, _Candidate]]:
    """candidates() for a whole export on SQLite: the unlinked prospects' keys read once into dicts and joined
    there (as bench/reconcile.dict_join does), instead of a key table and one join per key kind. The same
    equalities as _JOINS: E.164 phone, email, folded names + birth date, birth date + surname initial (the
    birth date compared as stored text, as the joins compare it)."""
    columns = ", ".join(f'"{c}"' for c in _CANDIDATE_COLUMNS)
    by_phone: dict = {}
    by_email: dict = {}
    by_name: dict = {}
    by_initial: dict = {}
    stored: dict[int, tuple] = {}
    cursor = database.execute_sql(f'SELECT {columns}, "match_name", "match_initial" FROM "prospect" '
                                  'WHERE "patient_id" IS NULL AND "erased_at" IS NULL')
    for values in cursor.fetchall():
        pid, phone, email, born = values[0], values[3], values[4], values[5]
        stored[pid] = values
        if phone is not None:
            by_phone.setdefault(phone, []).append(pid)
        if email is not None:
            by_email.setdefault(email, []).append(pid)
        if born is not None:     # the last two columns: match_name, match_initial
            by_name.setdefault((values[-2], born), []).append(pid)
            by_initial.setdefault((born, values[-1]), []).append(pid)
    made: dict[int, _Candidate] = {}      # a prospect is made a candidate once, whatever its patients
    found: dict[int, dict[int, _Candidate]] = {}
    for row in rows:
        pids: list[int] = []
        for phone in row.phones:
            pids += by_phone.get(phone, ())
        if row.email:
            pids += by_email.get(row.email, ())
        if row.birth_date is not None:
            day = row.birth_date.isoformat()
            pids += by_name.get((row.match_name, day), ())
            pids += by_initial.get((day, row.match_initial), ())
        if pids:
            by_id = found[row.ref] = {}
            for pid in pids:
                if pid not in by_id:
                    candidate = made.get(pid)
                    if candidate is None:
                        candidate = made[pid] = _Candidate.read(stored[pid])
                    by_id[pid] = candidate
    return found


@dataclass
class _Decisions:
    by_ref: dict[int, _Row]
    candidates: dict[int, dict[int, _Candidate]]
    verdicts: dict[tuple[int, int], matching.Verdict]


def _match(rows: list[_Row]) -> _Decisions:
    found = candidates(rows)
    by_ref = {row.ref: row for row in rows}
    pairs = {}
    judge = matching.judge
    for ref, by_id in found.items():
        person = by_ref[ref].person
        for pid, candidate in by_id.items():
            pairs[(ref, pid)] = judge(person, candidate.person)
    # Pairs decided before (any state) are never judged again. A patient this batch created has none: its id
    # is new (a deleted patient's matches went with it, ON DELETE CASCADE).
    real = [row.ref for row in rows if row.action == "updated" and row.ref in found]
    known = set()
    live_patients = set()      # patients with a conversion or an open review already
    for patient_id, prospect_id, state in _select_in(
            'SELECT "patient_id", "prospect_id", "state" FROM "patient_match" WHERE "patient_id" IN ({marks})', real):
        known.add((patient_id, prospect_id))
        if state in ("open", "converted", "confirmed"):
            live_patients.add(patient_id)
    if known:
        pairs = {pair: verdict for pair, verdict in pairs.items() if pair not in known}
    settled = matching.settle(pairs)
    prospect_ids = sorted({pid for (_, pid), v in settled.items() if v.certain})
    reviewed = set()           # prospects already waiting in review with another patient
    reviewed.update(pid for (pid,) in _select_in(
        'SELECT "prospect_id" FROM "patient_match" WHERE "state" = \'open\' AND "prospect_id" IN ({marks})',
        prospect_ids))
    for (ref, pid), verdict in list(settled.items()):
        if not verdict.certain:
            continue
        extra = []
        if ref in live_patients:
            extra.append(matching.SEVERAL_PROSPECTS)
        if pid in reviewed:
            extra.append(matching.SEVERAL_PATIENTS)
        if extra:
            settled[(ref, pid)] = matching.Verdict(matching.UNCERTAIN, verdict.reasons + tuple(extra))
    settled.update(_later_namesakes(rows, known))
    return _Decisions(by_ref, found, settled)


def _later_namesakes(rows: list[_Row], known: set) -> dict[tuple[int, int], matching.Verdict]:
    """Prospects converted by themselves on names and birth date alone, by a patient of an earlier sync,
    and now a second patient with the same names and birth date in this batch: within one batch that is
    "several patients" (`settle`), across two it puts the earlier conversion in doubt. Each such pair goes
    to review (SEVERAL_PATIENTS); the conversion stays until a person decides (`confirm` then moves the
    prospect to this patient). Conversions backed by a phone or an email, or confirmed by a person, stand."""
    earlier = database.execute_sql(
        'SELECT m."prospect_id", m."patient_id", m."reasons", p."match_name", p."birth_date" '
        'FROM "patient_match" m JOIN "patient" p ON p."id" = m."patient_id" '
        'JOIN "prospect" r ON r."id" = m."prospect_id" AND r."patient_id" = m."patient_id" '
        'WHERE m."state" = \'converted\' AND p."birth_date" IS NOT NULL').fetchall()
    if not earlier:
        return {}
    born: dict[tuple[str, str], list[_Row]] = {}
    for row in rows:
        if row.birth_date is not None:
            born.setdefault((row.match_name, row.birth_date.isoformat()), []).append(row)
    doubtful: dict[int, list[_Row]] = {}        # prospect id -> this batch's namesakes of its patient
    for pid, patient_id, reasons, name, birth_date in earlier:
        namesakes = born.get((name, str(birth_date)[:10]))
        if not namesakes or {matching.PHONE, matching.EMAIL} & set(PatientMatch.reasons.python_value(reasons)):
            continue
        others = [row for row in namesakes if row.patient_id != patient_id and (row.ref, pid) not in known]
        if others:
            doubtful[pid] = others
    if not doubtful:
        return {}
    flagged = {}
    prospects = [p for chunk in _chunks(list(doubtful)) for p in Prospect.select().where(Prospect.id.in_(chunk))]
    for prospect in prospects:
        other = _person(prospect.first_name, prospect.last_name, prospect.birth_date, prospect.phone, prospect.email)
        for row in doubtful[prospect.id]:
            verdict = matching.judge(row.person, other)
            if verdict.verdict != matching.NONE:
                flagged[(row.ref, prospect.id)] = matching.Verdict(
                    matching.UNCERTAIN, verdict.reasons + (matching.SEVERAL_PATIENTS,))
    return flagged


# --- decisions ------------------------------------------------------------------------------------

def won_stage() -> Stage | None:
    return Stage.select().where((Stage.kind == "won") & ~Stage.retired).order_by(Stage.position, Stage.id).first()


def _decide(decisions: _Decisions, slug: str, now: datetime, user, dry_run: bool) -> dict[int, tuple[list, list, dict]]:
    by_ref = decisions.by_ref
    outcomes: dict[int, tuple[list, list, dict]] = {}
    stage = won_stage()
    conversions, reviews = [], []
    for (ref, pid), verdict in sorted(decisions.verdicts.items()):
        converted, review, reasons = outcomes.setdefault(ref, ([], [], {}))
        reasons[pid] = list(verdict.reasons)
        if verdict.certain and stage is not None:
            converted.append(pid)
            conversions.append((by_ref[ref], decisions.candidates[ref][pid], verdict))
        else:
            review.append(pid)
            reviews.append((by_ref[ref], pid, verdict))
    if dry_run:
        return outcomes
    label = _actor_label(user, slug)
    stamp = _raw_time(now)
    if reviews:
        _insert_many(PatientMatch, [PatientMatch.patient, PatientMatch.prospect, PatientMatch.verdict,
                                    PatientMatch.reasons, PatientMatch.state, PatientMatch.created_at],
                     [(row.patient_id, pid, matching.UNCERTAIN, _reasons_json(v.reasons), "open", stamp)
                      for row, pid, v in reviews], encoded=True)
    if conversions:
        _convert_many(conversions, stage, now, user, label)
    return outcomes


def _actor_label(user, slug: str) -> str:
    return user.email if user is not None else f"reconciliation {slug}"[:250]


def _conversion_date(admission_date: date | None, now: datetime) -> datetime:
    """The admission date when the source gave one (the day the prospect became a patient: the cohort's
    30 days count to it), else the time of the sync."""
    if admission_date is not None:
        at = datetime.combine(admission_date, time(12, 0))
        if at <= now:
            return at
    return now


def _convert_many(conversions, stage: Stage, now: datetime, user, label: str) -> None:
    """What `board.move` does to one card, for many at once (see the module's docstring)."""
    pids = [candidate.id for _, candidate, _ in conversions]
    planned: dict[int, list[int]] = {}
    for fid, pid in _select_in('SELECT "id", "prospect_id" FROM "follow_up" '
                               'WHERE "state" = \'planned\' AND "prospect_id" IN ({marks})', pids):
        planned.setdefault(pid, []).append(fid)
    mark = database.param
    database.cursor().executemany(
        f'UPDATE "follow_up" SET "state" = \'cancelled\', "done_at" = {mark} WHERE "id" = {mark}',
        [(_raw_time(now), fid) for ids in planned.values() for fid in ids])
    updates, changes, matches, events = [], [], [], []
    user_id = user.id if user is not None else None
    choices = provenances.choices()
    stamp = _raw_time(now)
    detail_json = PatientMatch.detail.db_value
    stated: dict[str, str] = {}            # as stated -> as listed (a batch states a few dozen ways)
    conversion_dates: dict = {}            # admission date -> the conversion date, as stored
    for row, candidate, verdict in conversions:
        before = {"stage_id": candidate.stage_id, "outcome": candidate.outcome,
                  "lost_reason_id": candidate.lost_reason_id,
                  "converted_at": candidate.converted_at.isoformat() if isinstance(candidate.converted_at, datetime)
                  else candidate.converted_at, "followups": planned.get(candidate.id, []),
                  "provenance": ""}
        converted_at = conversion_dates.get(row.admission_date)
        if converted_at is None:
            converted_at = conversion_dates[row.admission_date] = _raw_time(_conversion_date(row.admission_date, now))
        provenance = stated.get(row.provenance)
        if provenance is None:
            provenance = stated[row.provenance] = provenances.canonical(row.provenance, choices)
        moves = candidate.outcome != "won"
        updates.append((stage.id if moves else candidate.stage_id, converted_at, row.patient_id, provenance, stamp,
                        candidate.id))
        if moves:
            changes.append((candidate.id, candidate.stage_id, stage.id, candidate.outcome, "won", user_id, stamp))
        matches.append((row.patient_id, candidate.id, matching.CERTAIN, _reasons_json(verdict.reasons), "converted",
                        stamp, user_id, stamp, "automatic", detail_json({"before": before})))
        events.append((stamp, user_id, label, "patient.convert", "prospect", candidate.id,
                       f"patient {row.patient_id}: {', '.join(verdict.reasons)}"[:250]))
    # In id order (the table's pages in turn); a lost reason is cleared only where there is one: SQLite
    # rewrites the index of every column the statement sets, even to the value it had.
    updates.sort(key=lambda values: values[-1])
    with_reason = {candidate.id for _, candidate, _ in conversions if candidate.lost_reason_id is not None}
    for clear in ('"lost_reason_id" = NULL, ', ""):
        database.cursor().executemany(
            f'UPDATE "prospect" SET "stage_id" = {mark}, "outcome" = \'won\', {clear}"converted_at" = {mark}, '
            f'"patient_id" = {mark}, "provenance" = {mark}, "updated_at" = {mark}, "version" = "version" + 1, '
            f'"next_action_at" = NULL WHERE "id" = {mark}',
            [values for values in updates if (values[-1] in with_reason) == bool(clear)])
    _insert_many(StageChange, [StageChange.prospect, StageChange.from_stage, StageChange.to_stage,
                               StageChange.from_outcome, StageChange.to_outcome, StageChange.user,
                               StageChange.changed_at], changes)
    _insert_many(PatientMatch, [PatientMatch.patient, PatientMatch.prospect, PatientMatch.verdict,
                                PatientMatch.reasons, PatientMatch.state, PatientMatch.created_at,
                                PatientMatch.decided_by, PatientMatch.decided_at, PatientMatch.note,
                                PatientMatch.detail], matches, encoded=True)
    _insert_many(AuditEvent, [AuditEvent.at, AuditEvent.actor, AuditEvent.actor_label, AuditEvent.action,
                              AuditEvent.record_type, AuditEvent.record_id, AuditEvent.detail], events)


# --- a person's decisions -------------------------------------------------------------------------

def get(match_id: int) -> PatientMatch | None:
    return PatientMatch.get_or_none(PatientMatch.id == match_id)


def _take(match_id: int, states: tuple[str, ...], new_state: str, user, now, note: str) -> PatientMatch:
    """Claim the match for one decision: two leads clicking at once decide once."""
    taken = (PatientMatch.update(state=new_state, decided_by=user, decided_at=now, note=(note or "")[:250])
             .where((PatientMatch.id == match_id) & PatientMatch.state.in_(states)).execute())
    if not taken:
        if get(match_id) is None:
            raise ReconcileError("not_found")
        raise ReconcileError("already_decided")
    return PatientMatch.get_by_id(match_id)


def confirm(match_id: int, user: User, now: datetime, note: str = "") -> PatientMatch:
    """"Same person": the prospect is converted to the patient, through the board's move. A prospect the
    reconciliation converted by itself to another patient (a namesake, `_later_namesakes`) is moved: that
    conversion is undone first, in the same transaction."""
    from .board import MoveRefused, move

    now = to_storage(now)
    with database.atomic():
        match = _take(match_id, ("open",), "confirmed", user, now, note)
        prospect = Prospect.get_by_id(match.prospect_id)
        replaced = _automatic_conversion(match.prospect_id, other_than=match.patient_id)
        if replaced is not None:
            undo(replaced.id, user, now, note=f"match {match.id}: the same person as patient {match.patient_id}")
            prospect = Prospect.get_by_id(match.prospect_id)
        if prospect.patient_id is not None or prospect.erased_at is not None:
            raise ReconcileError("already_converted" if prospect.patient_id else "erased")
        stage = won_stage()
        if stage is None:
            raise ReconcileError("no_won_stage")
        before = {"stage_id": prospect.stage_id, "outcome": prospect.outcome,
                  "lost_reason_id": prospect.lost_reason_id,
                  "converted_at": prospect.converted_at.isoformat() if prospect.converted_at else None,
                  "followups": [f.id for f in FollowUp.select(FollowUp.id).where(
                      (FollowUp.prospect == prospect.id) & (FollowUp.state == "planned"))],
                  "provenance": prospect.provenance}
        if prospect.outcome != "won":
            try:
                move(prospect.id, stage, user, version=prospect.version, confirmed=True, may_reopen=True,
                     reopen_confirmed=True, now=now)
            except MoveRefused as refusal:
                raise ReconcileError(refusal.code) from refusal
        patient = Patient.get_by_id(match.patient_id)
        (Prospect.update(patient=patient.id, provenance=provenances.canonical(patient.provenance),
                         converted_at=_conversion_date(patient.admission_date, now) if prospect.outcome != "won"
                         else (prospect.converted_at or now), updated_at=now, version=Prospect.version + 1)
         .where(Prospect.id == prospect.id).execute())
        match.detail = {"before": before}
        match.save()
        audit("patient.confirm", "prospect", prospect.id, actor=user,
              detail=f"patient {patient.id} (match {match.id}){': ' + note if note else ''}")
    return match


def replaced_conversion(match: PatientMatch) -> PatientMatch | None:
    """The automatic conversion of this open match's prospect to another patient, which confirming the
    match would undo; None when the prospect is not converted, or was by a person."""
    return _automatic_conversion(match.prospect_id, other_than=match.patient_id) if match.state == "open" else None


def _automatic_conversion(prospect_id: int, other_than: int) -> PatientMatch | None:
    return (PatientMatch.select().join(Prospect, on=(PatientMatch.prospect == Prospect.id))
            .where((PatientMatch.prospect == prospect_id) & (PatientMatch.state == "converted")
                   & (PatientMatch.patient == Prospect.patient) & (PatientMatch.patient != other_than))
            .first())


def reject(match_id: int, user: User, now: datetime, note: str = "") -> PatientMatch:
    """"Different people": kept as decided, never suggested again."""
    now = to_storage(now)
    with database.atomic():
        match = _take(match_id, ("open",), "rejected", user, now, note)
        audit("patient.reject", "prospect", match.prospect_id, actor=user,
              detail=f"patient {match.patient_id} (match {match.id}){': ' + note if note else ''}")
    return match


def undo(match_id: int, user: User, now: datetime, note: str = "") -> PatientMatch:
    """Take a decision back. A conversion (automatic or confirmed) is undone: the prospect goes back to the
    stage, outcome and follow-ups it had, and the pair is `undone` (never converted again by itself); a
    rejection goes back to the review queue."""
    from .board import MoveRefused, move

    now = to_storage(now)
    with database.atomic():
        match = get(match_id)
        if match is None:
            raise ReconcileError("not_found")
        if match.state == "rejected":
            match = _take(match_id, ("rejected",), "open", user, now, note)
            audit("patient.reject_undo", "prospect", match.prospect_id, actor=user,
                  detail=f"patient {match.patient_id} (match {match.id})")
            return match
        match = _take(match_id, ("converted", "confirmed"), "undone", user, now, note)
        before = (match.detail or {}).get("before", {})
        prospect = Prospect.get_by_id(match.prospect_id)
        if prospect.outcome == "won" and before.get("outcome", "open") != "won":
            stage = Stage.get_or_none(Stage.id == before.get("stage_id"))
            if stage is None or stage.retired or stage.kind != before.get("outcome", "open"):
                stage = (Stage.select().where((Stage.kind == before.get("outcome", "open")) & ~Stage.retired)
                         .order_by(Stage.position, Stage.id).first())
            reason = LostReason.get_or_none(LostReason.id == before.get("lost_reason_id"))
            if stage.kind == "lost" and reason is None:
                reason = LostReason.select().order_by(LostReason.position).first()
            try:
                move(prospect.id, stage, user, version=prospect.version, lost_reason=reason, confirmed=True,
                     may_reopen=True, reopen_confirmed=True, now=now)
            except MoveRefused as refusal:
                raise ReconcileError(refusal.code) from refusal
        converted_at = before.get("converted_at")
        (Prospect.update(patient=None, provenance=before.get("provenance", ""),
                         converted_at=datetime.fromisoformat(converted_at) if converted_at else None,
                         updated_at=now, version=Prospect.version + 1)
         .where(Prospect.id == prospect.id).execute())
        followups = before.get("followups") or []
        if followups:
            (FollowUp.update(state="planned", done_at=None)
             .where(FollowUp.id.in_(followups) & (FollowUp.state == "cancelled")).execute())
        refresh_next_action([prospect.id])
        match.detail = {**(match.detail or {}), "undone_at": now.isoformat(),
                        "undone_by": user.id if user else None}
        match.save()
        audit("patient.conversion_undo", "prospect", prospect.id, actor=user,
              detail=f"patient {match.patient_id} (match {match.id}){': ' + note if note else ''}")
    return match


# --- the review queue -----------------------------------------------------------------------------

def _listing():
    return (PatientMatch.select(PatientMatch, Patient, Prospect)
            .join(Patient, on=(PatientMatch.patient == Patient.id))
            .switch(PatientMatch).join(Prospect, on=(PatientMatch.prospect == Prospect.id)))


def pending(limit: int = 100) -> tuple[list[PatientMatch], int]:
    """Open matches, oldest first, and how many there are."""
    query = _listing().where(PatientMatch.state == "open")
    return list(query.order_by(PatientMatch.created_at, PatientMatch.id).limit(limit)), pending_count()


def pending_count() -> int:
    """How many matches wait for a person: one COUNT, once per request (the nav shows it on every page)."""
    if has_request_context() and "matches_waiting" in g:
        return g.matches_waiting
    count = PatientMatch.select().where(PatientMatch.state == "open").count()
    if has_request_context():
        g.matches_waiting = count
    return count


def decided(limit: int = 30) -> list[PatientMatch]:
    """The latest decisions, a person's or the reconciliation's, newest first (to undo one)."""
    query = _listing().where(PatientMatch.state != "open")
    return list(query.order_by(PatientMatch.decided_at.desc(nulls="LAST"), PatientMatch.id.desc()).limit(limit))


def conversion_of(prospect: Prospect) -> PatientMatch | None:
    """The match that converted this prospect, if one did (and was not undone)."""
    if prospect.patient_id is None:
        return None
    return (_listing().where((PatientMatch.prospect == prospect.id)
                             & PatientMatch.state.in_(("converted", "confirmed")))
            .order_by(PatientMatch.id.desc()).first())


def reviews_of(prospect: Prospect) -> list[PatientMatch]:
    """Matches of this prospect waiting in the review queue."""
    return list(_listing().where((PatientMatch.prospect == prospect.id) & (PatientMatch.state == "open"))
                .order_by(PatientMatch.id))


def patient_phones(patient_id: int) -> list[str]:
    return [p for (p,) in PatientPhone.select(PatientPhone.phone).where(PatientPhone.patient == patient_id)
            .order_by(PatientPhone.id).tuples()]


def converted_prospect_ids(patient_id: int) -> list[int]:
    return [pid for (pid,) in PatientMatch.select(PatientMatch.prospect).where(
        (PatientMatch.patient == patient_id) & PatientMatch.state.in_(("converted", "confirmed")))
        .order_by(PatientMatch.prospect).tuples()]


def review_prospect_ids(patient_id: int) -> list[int]:
    return [pid for (pid,) in PatientMatch.select(PatientMatch.prospect).where(
        (PatientMatch.patient == patient_id) & (PatientMatch.state == "open"))
        .order_by(PatientMatch.prospect).tuples()]


# --- helpers --------------------------------------------------------------------------------------

def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _raw_time(value: datetime):
    """A stored time as the driver would write it: SQLite's adapter writes isoformat(" "); done once for a
    whole batch rather than once per row (a measurable share of a large import)."""
    if isinstance(database.obj, PostgresqlDatabase):
        return value
    return value.isoformat(" ")


def _select_in(sql: str, values: list, before: list | None = None) -> list[tuple]:
    """Rows of `sql` (with `{marks}` for the IN list and `{p}` for a parameter before it), run in chunks."""
    rows = []
    for chunk in _chunks(values):
        marks = ", ".join([database.param] * len(chunk))
        rows += database.execute_sql(sql.format(marks=marks, p=database.param), [*(before or []), *chunk]).fetchall()
    return rows


def _date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@lru_cache(maxsize=1024)
def _reasons_json(reasons: tuple[str, ...]) -> str:
    """JSONField.db_value(list(reasons)), once per distinct set of reasons (a batch repeats a few dozen)."""
    return PatientMatch.reasons.db_value(list(reasons))


def _insert_many(model, fields: list, rows: list[tuple], encoded: bool = False) -> None:
    """Many rows in one executemany: Peewee writes the one-row INSERT (with the defaults of the columns
    not listed), the driver runs it for every row (bench/dataset.bulk_insert, about 5x insert_many).
    Values go to the driver as they are (ids, text, dates: it adapts them as Peewee would), except JSON
    (unless `encoded`: the JSON columns' values are already the text JSONField.db_value gives)."""
    if not rows:
        return
    sql, params = model.insert_many([rows[0]], fields=fields).sql()
    defaults = tuple(params[len(fields):])
    json_columns = [n for n, f in enumerate(fields) if isinstance(f, JSONField)]
    if json_columns and not encoded:
        rows = [tuple(fields[n].db_value(v) if n in json_columns else v for n, v in enumerate(row)) for row in rows]
    database.cursor().executemany(sql, [row + defaults for row in rows] if defaults else rows)
