"""Provenances: how a new patient heard of the clinic, as asked at the admission interview (seeds 000 and
001; issue 17 §3). The manager keeps the list (setting `patient_provenances`, one entry a line on the
settings page); a conversion records the provenance the patient stated, in the list's spelling when it
names an entry ("facebook", "bouche a oreille"), else as stated. Entries already recorded on prospects are
never rewritten: renaming one in the list changes what later conversions record.
"""
from functools import lru_cache

from peewee import fn

from ..models import Prospect, database
from ..refusals import Refusal
from ..rules.text import fold
from .audit import record as audit
from .defaults import setting, store_setting

KEY = "patient_provenances"
MAX_ENTRIES = 30
MAX_LENGTH = 60


class ProvenanceError(Refusal):
    """A list the page will not save; nothing was changed."""
    status = 400
    domain = "provenance"


def choices() -> list[str]:
    return list(setting(KEY))


@lru_cache(maxsize=1024)
def key(text: str | None) -> str:
    """What two spellings of one provenance share: folded, letters and digits only."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


def canonical(text: str | None, listed: list[str] | None = None) -> str:
    """The listed provenance the stated one names, or the text as stated when it names none."""
    folded = key(text)
    for choice in choices() if listed is None else listed:
        if key(choice) == folded:
            return choice
    return (text or "").strip()


def parse(text: str) -> list[str]:
    """The list as typed, one entry a line (blank lines dropped, spaces tidied); ProvenanceError when it is
    empty, too long, has an entry too long or one listed twice (in any spelling)."""
    entries = [" ".join(line.split()) for line in (text or "").splitlines()]
    entries = [entry for entry in entries if entry]
    if not entries:
        raise ProvenanceError("empty", field="entries")
    if len(entries) > MAX_ENTRIES:
        raise ProvenanceError("too_many", field="entries", n=MAX_ENTRIES)
    seen: dict[str, str] = {}
    for entry in entries:
        if len(entry) > MAX_LENGTH:
            raise ProvenanceError("too_long", field="entries", n=MAX_LENGTH, name=entry[:MAX_LENGTH] + "…")
        if not key(entry):
            raise ProvenanceError("no_letters", field="entries", name=entry)
        if key(entry) in seen:
            raise ProvenanceError("duplicate", field="entries", name=entry, other=seen[key(entry)])
        seen[key(entry)] = entry
    return entries


def save(text: str, user) -> list[str]:
    """Keep the list as typed (see `parse`), audited; returns it."""
    entries = parse(text)
    with database.atomic():
        store_setting(KEY, entries)
        audit("settings.provenances", detail=f"{len(entries)} entries", actor=user)
    return entries


def stated() -> list[tuple[str, int, bool]]:
    """What converted prospects recorded, most often first: (provenance, prospects, in today's list)."""
    listed = {key(choice) for choice in choices()}
    rows = (Prospect.select(Prospect.provenance, fn.COUNT(Prospect.id))
            .where(Prospect.patient.is_null(False) & (Prospect.provenance != ""))
            .group_by(Prospect.provenance).order_by(fn.COUNT(Prospect.id).desc(), Prospect.provenance).tuples())
    return [(provenance, count, key(provenance) in listed) for provenance, count in rows]
