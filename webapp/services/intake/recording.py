"""A request becoming a contact: as the staff form would type it, on the record the dedupe finds, with
an owner, and the answer it is owed planned. Shared by the worker (a source in automatic mode, a
mail routed to its record) and the lead's triage."""
from datetime import date, datetime

from flask import current_app

from ...models import InboundRequest, Interaction, Prospect, Setting, User, database
from ...rules.numbers import parse_id
from ...security import PERMISSIONS
from ..dedupe import SUSPECT
from ..defaults import store_setting
from ..prospects import ContactInput, ContactOutcome
from ..users import may_own_work

ROUND_ROBIN_KEY = "intake_round_robin_last_owner"
# Requests stored before plugins said their channel all came from the web form.
STORED_BEFORE_CHANNELS = "webform"


def note_of(fields: dict, with_extra: bool = True) -> str:
    """What the person asked, as the interaction's note: the subject or choice, the new text, and
    anything else the plugin read."""
    lines = [line for line in (fields.get("request"), fields.get("message")) if line]
    if with_extra:
        lines += [f"{key}: {value}" for key, value in (fields.get("extra") or {}).items()]
    return "\n".join(lines)


def contact_input(request: InboundRequest, fields: dict, owner: User | None) -> ContactInput:
    """The request as the staff form would have typed it: a contact by the plugin's channel, dated when
    it arrived."""
    birth = fields.get("birth_date")
    return ContactInput(
        first_name=fields.get("first_name", ""), last_name=fields.get("last_name", ""),
        phone=fields.get("phone", ""), email=fields.get("email"),
        birth_date=date.fromisoformat(birth) if birth else None,
        channel=fields.get("channel") or STORED_BEFORE_CHANNELS, direction="in",
        qualification=fields.get("qualification"), note=note_of(fields),
        origin_detail=(fields.get("origin") or request.source.name or request.source.slug)[:200],
        owner=owner, occurred_at=request.received_at)


def record(request: InboundRequest, fields: dict, user, owner, now) -> ContactOutcome:
    """Record the request's contact where the dedupe says (services/prospects.record_contact)."""
    # Looked up on the package, where a test may replace it to make recording fail.
    from . import record_contact

    # A known phone or email under another name is never merged silently: a new prospect, linked to
    # those records as a suspected duplicate for the lead's review (services/duplicates.py).
    outcome = record_contact(contact_input(request, fields, owner), user, now=now, decision=SUSPECT)
    stamp(outcome.interaction, fields.get("message_id"))
    return outcome


def stamp(interaction: Interaction, message_id: str | None) -> None:
    """Keep a mail's Message-ID on the interaction it made, so that a reply threads onto its record."""
    if message_id:
        interaction.message_id = message_id[:255]
        interaction.save(only=[Interaction.message_id])


def plan_answer(prospect: Prospect, now: datetime) -> None:
    """The answer a prospect is owed (a first question, or a new one within the window: seed 000) planned
    now, not at the next sweep, in its own short transaction after the request's. The sweep's rules and
    cause keys (services/sweep.plan_rules_for): nothing is planned twice. If it fails the sweep plans it:
    only logged."""
    from ..sweep import plan_rules_for
    try:
        with database.atomic():
            plan_rules_for([prospect.id], now)
    except Exception:
        current_app.logger.exception("intake: planning the answer owed to prospect %s failed", prospect.id)


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
    store_setting(ROUND_ROBIN_KEY, chosen.id)
    return chosen
