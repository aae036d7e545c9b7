"""Who is calling? The new-contact form looks the caller up while the phone is typed (exact phone or
email, patients first, seed 001) and logs a known caller's call on her record in one step."""
import re
from dataclasses import dataclass

from flask import current_app

from ..models import Interaction, Patient, Prospect, Stage, User, database
from ..rules.phones import normalise_phone
from ..timeutil import utcnow
from .audit import record as audit
from .dedupe import follow_merges, kind_of
from .prospects import ContactOutcome, add_interaction

# A Senegalese number has 9 digits: from 8 on, the lookup starts (the "8–9 digits").
MIN_DIGITS = 8
LIMIT = 5


@dataclass
class Caller:
    kind: str            # patient or prospect
    record: object
    keys: list[str]


def callers(phone: str = "", email: str = "") -> list[Caller]:
    """Patients, then open prospects, then closed ones, sharing the phone (once it has enough digits to
    be a whole number) or the email typed; merged tombstones never."""
    digits = re.sub(r"\D", "", phone or "")
    e164 = None
    if len(digits) >= MIN_DIGITS:
        parsed = normalise_phone(phone, current_app.config["PHONE_REGION"])
        e164 = parsed.e164 if parsed.valid else None
    email = (email or "").strip().lower()  # as stored (normalise_email)
    email = email if "@" in email else None
    if not e164 and not email:
        return []
    found = []
    for model in (Patient, Prospect):
        clauses = []
        if e164:
            clauses.append(model.phone == e164)
        if email:
            clauses.append(model.email == email)
        condition = clauses[0] if len(clauses) == 1 else clauses[0] | clauses[1]
        query = model.select().where(condition)
        if model is Prospect:
            query = (Prospect.select(Prospect, Stage).join(Stage).where(condition)
                     .order_by(Prospect.outcome != "open", Prospect.id.desc()))
        records = []
        for record in query.limit(LIMIT):
            keys = [key for key, hit in (("phone", e164 and record.phone == e164),
                                         ("email", email and record.email == email)) if hit]
            records.append((record, keys))
        if model is Prospect:
            records = follow_merges(records)  # a merged record leads to the one it was merged into
        found += [Caller(kind_of(record), record, keys) for record, keys in records]
    return found[:LIMIT]


def find_caller(reference: str, phone: str, email: str) -> Caller | None:
    """The caller named "prospect:12" or "patient:3", if the lookup for this phone or email finds it
    (the server re-checks what the page showed)."""
    return next((c for c in callers(phone, email) if f"{c.kind}:{c.record.id}" == reference), None)


def log_call(caller: Caller, *, channel: str, note: str, user: User) -> ContactOutcome:
    """The call goes on the known record: an incoming interaction, patient first (seed 001)."""
    now = utcnow()
    with database.atomic():
        if caller.kind == "patient":
            interaction = Interaction.create(patient=caller.record, channel=channel, direction="in",
                                             note=note.strip(), user=user, occurred_at=now, created_at=now)
            audit("patient.interaction", "patient", caller.record.id, actor=user)
            return ContactOutcome(False, None, caller.record, interaction, caller.keys)
        interaction = add_interaction(caller.record, channel=channel, direction="in", note=note, user=user,
                                      now=now)
        audit("prospect.interaction", "prospect", caller.record.id, detail="lookup", actor=user)
        return ContactOutcome(False, caller.record, None, interaction, caller.keys)
