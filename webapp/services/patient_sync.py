"""Patient sources at work: a file imported (previewed first), a FHIR server pulled, pushed records
applied. Each reads with its plugin and hands `PatientRecord`s to the one matching service,
`reconcile.apply` (issue 17 §1).

A file is all or nothing: any faulty line refuses it whole. A pull applies a page and saves the
cursor after it in one transaction, so a failure leaves the cursor at the last page applied.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from peewee import fn
from flask_babel import gettext as _

from integrations.contract import PluginError
from integrations.plugins import plugin_manager, source_type

from ..models import (DuplicateCandidate, InboundRequest, Interaction, Patient, PatientMatch, PatientPhone,
                      Prospect, Source, SourceCursor, database)
from ..timeutil import to_local, utcnow
from . import reconcile
from .audit import record as audit
from .patient_push import record_from_json

# The built-in patient source types (integrations.patient_file, .patient_push, .fhir) by name.
FILE_TYPES = ("patient_file",)
PUSH_TYPES = ("patient_push", "patient_file")     # the sources a patient system may push to
CURSOR_KEY = "patients"
MAX_PUSH = 1000
MAX_UPLOAD = 10 * 1024 * 1024
COUNTS = ("rows_read", "patients_created", "patients_updated", "converted", "to_review", "unmatched")


class SyncError(Exception):
    """A sync that could not run (an unknown source, a source of another kind, a server that failed)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


@dataclass
class Summary:
    """What a sync did, as `--json` prints it; `refused_lines` lists a refused file's faults."""
    source: str
    rows_read: int = 0
    patients_created: int = 0
    patients_updated: int = 0
    converted: int = 0
    to_review: int = 0
    unmatched: int = 0
    refused_lines: list[dict] = field(default_factory=list)
    pages: int = 0
    error: str | None = None
    dry_run: bool = False
    outcomes: list = field(default_factory=list)
    lines: list[int] = field(default_factory=list)    # a file's line number for each row applied

    def add(self, result) -> None:
        """Count a reconcile result in (rows read are counted by the caller, who read them)."""
        for name in COUNTS[1:]:
            setattr(self, name, getattr(self, name) + int(getattr(result, name, 0) or 0))
        self.outcomes.extend(getattr(result, "outcomes", None) or getattr(result, "rows", None) or [])

    def as_dict(self) -> dict:
        data = {"source": self.source, **{name: getattr(self, name) for name in COUNTS},
                "refused_lines": self.refused_lines, "dry_run": self.dry_run}
        if self.pages:
            data["pages"] = self.pages
        if self.error:
            data["error"] = self.error
        return data


def source_for(slug: str, types: tuple[str, ...] | None = None) -> Source:
    source = Source.get_or_none(Source.slug == (slug or "").strip().lower())
    if source is None:
        raise SyncError("unknown_source", slug)
    if types and source.type not in types:
        raise SyncError("wrong_source_type", source.type)
    if not source.active:
        raise SyncError("inactive_source", slug)
    return source


# -- files ------------------------------------------------------------------------------------------

def describe(problem) -> str:
    """A file's fault in the person's words: “line 14: unreadable birth date « 31/02/1990 »”."""
    value, column = problem.value, problem.column
    texts = {
        "file_too_large": _("the file is too large (%(value)s MB at most, once uncompressed for Excel files)",
                            value=value or "10"),
        "file_empty": _("the file is empty"),
        "not_a_spreadsheet": _("this is neither a CSV file nor an Excel workbook that can be read"),
        "too_many_rows": _("the file has more than %(value)s lines", value=value),
        "unreadable_line": _("unreadable line (an unclosed quotation mark?)"),
        "bad_encoding": _("characters that cannot be read (the line is not in the file's encoding)"),
        "missing_column": _("column “%(value)s” not found", value=value),
        "missing_cells": _("%(value)s cells where the header has %(column)s", value=value, column=column),
        "missing_value": _("the file number is missing") if column == "external_id"
        else _("the name is missing"),
        "too_long": _("value too long “%(value)s”", value=value),
        "bad_phone": _("unreadable phone number “%(value)s”", value=value),
        "bad_email": _("invalid email address “%(value)s”", value=value),
        "bad_birth_date": _("unreadable birth date “%(value)s”", value=value),
        "bad_admission_date": _("unreadable admission date “%(value)s”", value=value),
        "duplicate_id": _("file number “%(value)s” already on line %(column)s", value=value, column=column),
    }
    text = texts.get(problem.code, problem.code)
    if problem.line == 0:
        return text
    return _("line %(line)s: %(problem)s", line=problem.line, problem=text)


def import_file(source: Source, data: bytes, filename: str, *, now: datetime | None = None, user=None,
                dry_run: bool = False) -> Summary:
    """Read a patient export and apply it (or, `dry_run`, say what applying it would do); a file with
    any fault is refused whole and nothing is written: `refused_lines` says why, line by line."""
    now = now or utcnow()
    today = to_local(now, current_app.config["TIMEZONE"]).date()
    read = plugin_manager().hook.read_patient_file(source=plugin_view(source), filename=filename, data=data,
                                                   region=current_app.config["PHONE_REGION"], today=today)
    if read is None:
        raise SyncError("wrong_source_type", source.type)
    records, problems = read
    summary = Summary(source=source.slug, dry_run=dry_run)
    if problems:
        summary.refused_lines = [{"line": p.line, "code": p.code, "message": describe(p)} for p in problems]
        summary.error = "file_refused"
        if not dry_run:
            audit("patients.import_refused", "source", source.id, detail=f"{len(problems)} fault(s)", actor=user)
        return summary
    result = reconcile.apply(source, [record for _, record in records], now=now, user=user, dry_run=dry_run)
    summary.add(result)
    summary.rows_read = len(records)
    summary.lines = [line for line, _ in records]
    if not dry_run:
        audit("patients.import", "source", source.id, actor=user,
              detail=f"{summary.rows_read} rows, {summary.converted} converted, {summary.to_review} to review")
    return summary


# -- pushes -----------------------------------------------------------------------------------------

class PushRefused(Exception):
    """Some pushed items cannot be read: each one's index, external_id, code, field and message."""

    def __init__(self, items: list[dict]):
        super().__init__(f"{len(items)} problem(s)")
        self.items = items


def push_records(items: list, now: datetime | None = None) -> list:
    """The pushed objects as records; PushRefused listing every problem when any item has one (then
    nothing is applied: a machine fixes and posts again, and applying is idempotent)."""
    today = to_local(now or utcnow(), current_app.config["TIMEZONE"]).date()
    region = current_app.config["PHONE_REGION"]
    records, problems, seen = [], [], {}
    for index, item in enumerate(items):
        record, item_problems = record_from_json(item, region, today)
        external_id = item.get("external_id") if isinstance(item, dict) else None
        for code, name, message in item_problems:
            problems.append({"index": index, "external_id": external_id if isinstance(external_id, str) else None,
                             "code": code, "field": name or None, "message": message})
        if record is not None:
            if record.external_id in seen:
                problems.append({"index": index, "external_id": record.external_id, "code": "duplicate_item",
                                 "field": "external_id",
                                 "message": f"external_id is already item {seen[record.external_id]}."})
            seen[record.external_id] = index
            records.append(record)
    if problems:
        raise PushRefused(problems)
    return records


def push(source: Source, records: list, now: datetime | None = None):
    """Apply pushed records (idempotent on (source, external_id)); reconcile's result."""
    return reconcile.apply(source, records, now=now or utcnow())


def patients_by_external_id(slug: str, external_ids: list[str]) -> dict:
    found = {}
    for start in range(0, len(external_ids), 500):
        for patient in Patient.select().where((Patient.source == slug)
                                              & Patient.external_id.in_(external_ids[start:start + 500])):
            found[patient.external_id] = patient
    return found


def linked_prospects(patient: Patient) -> tuple[list[int], list[int]]:
    """The prospects this patient converted, and those waiting for a person to decide (review queue)."""
    matches = list(PatientMatch.select(PatientMatch.prospect, PatientMatch.state)
                   .where(PatientMatch.patient == patient).order_by(PatientMatch.prospect))
    converted = [m.prospect_id for m in matches if m.state in ("converted", "confirmed")]
    review = [m.prospect_id for m in matches if m.state == "open"]
    return converted, review


def phones_of(patient: Patient) -> list[str]:
    phones = [row.phone for row in PatientPhone.select(PatientPhone.phone)
              .where(PatientPhone.patient == patient).order_by(PatientPhone.id)]
    if patient.phone and patient.phone not in phones:
        phones.insert(0, patient.phone)
    return phones


# -- pulls ------------------------------------------------------------------------------------------

def _cursor_row(source: Source, key: str) -> SourceCursor | None:
    return SourceCursor.get_or_none((SourceCursor.source == source) & (SourceCursor.key == key))


def _save_cursor(source: Source, key: str, value: str, now: datetime) -> None:
    updated = (SourceCursor.update(value=value, updated_at=now)
               .where((SourceCursor.source == source) & (SourceCursor.key == key)).execute())
    if not updated:
        SourceCursor.create(source=source, key=key, value=value, updated_at=now)


def plugin_view(source: Source):
    """The source as a plugin sees it: its settings, with its secret setting (a bearer token) unsealed
    from the write-only column and put in `config` under the setting's name; never written back."""
    from types import SimpleNamespace

    config = dict(source.config or {})
    kind = source_type(source.type)
    secret = next((s.name for s in kind.settings if s.kind == "secret"), None) if kind else None
    if secret and source.secret:
        config[secret] = _unsealed(source.secret)
    return SimpleNamespace(id=source.id, slug=source.slug, type=source.type, name=source.name, config=config)


def _unsealed(value: str) -> str:
    """A secret setting as stored: sealed (encrypted at rest, `webapp.secrets`) or, from before, plain."""
    try:
        from .. import secrets
    except ImportError:
        return value
    if not secrets.is_sealed(value):
        return value
    try:
        return secrets.unseal(value)
    except secrets.SecretsUnavailable as refusal:
        raise PluginError(refusal.code, 500) from None


def pull(source: Source, *, now: datetime | None = None, apply=None) -> Summary:
    """Pull what changed since the cursor, page by page; each page applied with its cursor in one
    transaction. A failure stops the run (its code in `error`) and keeps what was applied."""
    apply = apply or reconcile.apply
    row = _cursor_row(source, CURSOR_KEY)
    cursor = row.value if row else ""
    summary = Summary(source=source.slug)
    try:
        pages = plugin_manager().hook.fetch_patients(source=plugin_view(source), cursor=cursor)
        if pages is None:
            raise SyncError("wrong_source_type", source.type)
        for page in pages:
            records, after = page if isinstance(page, tuple) else ([page], cursor)
            moment = now or utcnow()
            with database.atomic():
                if records:
                    summary.add(apply(source, list(records), now=moment))
                    summary.rows_read += len(records)
                if after != cursor:
                    _save_cursor(source, CURSOR_KEY, after, moment)
            cursor = after
            summary.pages += 1
    except PluginError as failure:
        summary.error = failure.code
        audit("patients.pull_failed", "source", source.id, detail=str(failure)[:250])
    else:
        audit("patients.pull", "source", source.id,
              detail=f"{summary.pages} page(s), {summary.rows_read} patients, {summary.converted} converted")
    return summary


def is_pull_source(source: Source) -> bool:
    """A source some plugin fetches patients from (a FHIR server)."""
    try:
        return plugin_manager().hook.fetch_patients(source=plugin_view(source), cursor="") is not None
    except PluginError:     # its settings are wrong: a pull source still, whose run reports why
        return True


def pull_all(now: datetime | None = None) -> list[Summary]:
    """Every active pull source once (the periodic task)."""
    sources = [s for s in Source.select().where(Source.active).order_by(Source.id) if is_pull_source(s)]
    return [pull(source, now=now) for source in sources]


# -- retention --------------------------------------------------------------------------------------

def purge_stale(now: datetime, months: int) -> int:
    """Delete the patients no sync has named for `months` months and that nothing links to (no prospect,
    match, interaction, request or duplicate pair): they are not needed for matching any more (§5).
    Patients never synced (`seen_at` empty) are left alone. Returns how many were deleted."""
    if months <= 0:
        return 0
    cutoff = now - timedelta(days=round(months * 30.44))
    linked = [
        Prospect.select(Prospect.id).where(Prospect.patient == Patient.id),
        PatientMatch.select(PatientMatch.id).where(PatientMatch.patient == Patient.id),
        Interaction.select(Interaction.id).where(Interaction.patient == Patient.id),
        InboundRequest.select(InboundRequest.id).where(InboundRequest.patient == Patient.id),
        DuplicateCandidate.select(DuplicateCandidate.id).where(DuplicateCandidate.patient == Patient.id),
    ]
    condition = Patient.seen_at.is_null(False) & (Patient.seen_at < cutoff)
    for query in linked:
        condition &= ~fn.EXISTS(query)
    with database.atomic():
        ids = [row.id for row in Patient.select(Patient.id).where(condition)]
        for start in range(0, len(ids), 500):
            Patient.delete().where(Patient.id.in_(ids[start:start + 500])).execute()
        if ids:
            audit("patients.retention", "patient", None, detail=f"{len(ids)} patient(s) deleted, unseen since "
                                                                f"{cutoff:%Y-%m-%d}")
    return len(ids)
