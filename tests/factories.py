"""Test data made the way the product makes it: accounts through the users service, prospects through
the contact service the staff form calls (`record_contact`: first interaction, stage, owner, dedupe),
follow-ups as planned rows, sources through the sources service.

Plain functions, called where a database is open (the `ctx` fixture, or inside `db(lambda: ...)`);
each gives unique emails and phones, so two calls never meet in the dedupe by accident."""
import itertools
from datetime import datetime

from webapp.models import FollowUp, FollowUpType, Prospect, Stage, User
from webapp.services.prospects import ContactInput, record_contact
from webapp.services.sources import create_source
from webapp.services.users import create_user

PASSWORD = "correct-horse-42"
FIRST_STEP = "Rappel de qualification"   # seed 002: a first-step follow-up type

_numbers = itertools.count(1000)


def number() -> int:
    """A number no other call of this run has had (for names, emails and phones)."""
    return next(_numbers)


def phone(prefix: str = "77 200") -> str:
    """A readable Senegalese mobile number no other prospect of the run has."""
    return f"{prefix} {number():04d}"[:12]


def user(role: str = "secretary", *, email: str | None = None, name: str | None = None,
         password: str = PASSWORD) -> User:
    """A staff account of this role ("secretary", "lead", "manager", "admin"), signing in with `password`."""
    n = number()
    return create_user(email or f"{role}{n}@clinic.test", name or f"{role.title()} {n}", role, password)


def prospect(owner: User | None = None, *, at: datetime | None = None, last_name: str = "Ndiaye",
             phone_number: str | None = None, decision: str | None = None, **fields) -> Prospect:
    """A prospect as the staff form records it: `at` is when the contact happened (now by default);
    `fields` are ContactInput's (first_name, email, temperature, qualification, direction, channel…)."""
    data = ContactInput(last_name=last_name, phone=phone() if phone_number is None else phone_number,
                        owner=owner, occurred_at=fields.pop("occurred_at", at), **fields)
    return record_contact(data, owner, now=at, decision=decision).prospect


def bare_prospect(**fields) -> Prospect:
    """A prospect row with no history (no interaction, no stage change), in the first open stage: for
    rules that read only its columns (activity status, temperature)."""
    fields.setdefault("stage", stage("open"))
    return Prospect.create(**{"first_name": "Awa", "last_name": "Diop", **fields})


def followup_type(name: str = FIRST_STEP) -> FollowUpType:
    return FollowUpType.get(FollowUpType.name == name)


def stage(kind: str = "open", n: int = 0) -> Stage:
    """The n-th stage of this kind, in the board's order."""
    return Stage.select().where(Stage.kind == kind).order_by(Stage.position)[n]


def followup(prospect: Prospect, owner: User | None = None, *, due_at: datetime,
             type_name: str = FIRST_STEP, value: str | None = None, **fields) -> FollowUp:
    """A planned follow-up row (no rule checked: for the service's rules, call plan_followup);
    its value is the prospect's temperature unless said."""
    return FollowUp.create(prospect=prospect.id, owner=owner, due_at=due_at, type=followup_type(type_name),
                           value=value or prospect.temperature, **fields)


def source(slug: str = "site-web", kind: str = "webform", name: str = "Site web", **config):
    """An intake source, through the sources service (its checks, its defaults)."""
    return create_source(slug, kind, name, config=config or None)
