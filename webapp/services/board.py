"""The pipeline board: columns, cards ordered by urgency, and moves between stages.

A fixed number of queries whatever the number of cards (counts grouped by stage, one query per column
for its first cards, owners, next actions). Cards are plain dicts: the board renders
hundreds of them and dict access is the cheap one in Jinja.
"""
from dataclasses import dataclass
from datetime import datetime

from peewee import SQL, fn

from ..models import FollowUp, LostReason, Prospect, Stage, StageChange, User, database
from ..i18n import short_datetime
from ..timeutil import utcnow
from .audit import record as audit
from .search import Criteria, next_actions, prospect_query

PAGE = 30
CARD_FIELDS = (Prospect.id, Prospect.first_name, Prospect.last_name, Prospect.phone,
               Prospect.temperature, Prospect.activity_status, Prospect.qualification, Prospect.owner,
               Prospect.stage, Prospect.action_budget, Prospect.actions_used, Prospect.do_not_contact,
               Prospect.outcome, Prospect.version)


class MoveRefused(Exception):
    """A move the server will not make; `code` says why (for the message), nothing was changed."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Column:
    stage: Stage
    count: int
    cards: list[dict]


def stages() -> list[Stage]:
    return list(Stage.select().where(~Stage.retired).order_by(Stage.position, Stage.id))


def _next_due():
    """The earliest planned follow-up of the row's prospect (served by the follow_up index)."""
    return (FollowUp.select(fn.MIN(FollowUp.due_at))
            .where((FollowUp.prospect == Prospect.id) & (FollowUp.state == "planned")))


def _ordering(kind: str):
    """Open columns by urgency: overdue and soonest first, 'to do' (nothing planned) last.
    Won and lost columns show the most recently closed first."""
    if kind == "open":
        return [SQL("next_due ASC NULLS LAST"), Prospect.id]
    return [Prospect.updated_at.desc(), Prospect.id.desc()]


def _cards(criteria: Criteria, stage: Stage, limit: int, offset: int = 0) -> list[dict]:
    query = (prospect_query(criteria).select(*CARD_FIELDS, _next_due().alias("next_due"))
             .where(Prospect.stage == stage.id).order_by(*_ordering(stage.kind))
             .limit(limit).offset(offset).dicts())
    return list(query)


def columns(criteria: Criteria, loaded: dict[int, int] | None = None, now: datetime | None = None) -> list[Column]:
    """Every non-retired stage with its filtered count and its first cards (as many as `loaded` asks,
    so a live refresh keeps what the person had scrolled to). One query per column, none per card."""
    now = now or utcnow()
    loaded = loaded or {}
    counts = dict(prospect_query(criteria).select(Prospect.stage, fn.COUNT(Prospect.id))
                  .group_by(Prospect.stage).tuples())
    result = []
    for stage in stages():
        count = counts.get(stage.id, 0)
        rows = _cards(criteria, stage, max(PAGE, min(loaded.get(stage.id, 0), 500))) if count else []
        result.append(Column(stage=stage, count=count, cards=rows))
    _decorate([card for column in result for card in column.cards], now)
    return result


def column_page(stage: Stage, criteria: Criteria, offset: int, now: datetime | None = None) -> Column:
    """The next cards of one column, for infinite scroll."""
    count = prospect_query(criteria).where(Prospect.stage == stage.id).count()
    return Column(stage=stage, count=count, cards=_decorate(_cards(criteria, stage, PAGE, offset), now or utcnow()))


def card(prospect_id: int, now: datetime | None = None) -> dict | None:
    """One card, as the board shows it."""
    rows = list(Prospect.select(*CARD_FIELDS, _next_due().alias("next_due"))
                .where(Prospect.id == prospect_id).dicts())
    return _decorate(rows, now or utcnow())[0] if rows else None


def _as_datetime(value):
    """SQLite returns a subquery's MIN(datetime) as text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _decorate(rows: list[dict], now: datetime) -> list[dict]:
    """Add what a card shows beyond the row: owner initials, next action type, overdue, budget left."""
    owners = {u.id: u for u in User.select(User.id, User.name, User.email)}
    nexts = next_actions([r["id"] for r in rows])
    for row in rows:
        row["next_due"] = _as_datetime(row.get("next_due"))
        row["overdue"] = row["next_due"] is not None and row["next_due"] < now
        row["next_due_text"] = short_datetime(row["next_due"])
        following = nexts.get(row["id"])
        row["next_type"] = following.type.name if following is not None and following.type_id else None
        owner = owners.get(row["owner"])
        row["owner_name"] = owner.name if owner else ""
        row["owner_initials"] = owner.initials if owner else ""
        row["name"] = f"{row['first_name']} {row['last_name']}".strip()
        row["actions_left"] = max(row["action_budget"] - row["actions_used"], 0)
    return rows


def board_version() -> str:
    """Changes when any card could look different: a cheap 'changed since' token for live boards."""
    prospects = Prospect.select(fn.MAX(Prospect.updated_at), fn.COUNT(Prospect.id)).tuples().get()
    followups = FollowUp.select(fn.MAX(FollowUp.id), fn.COUNT(FollowUp.id)).where(
        FollowUp.state == "planned").tuples().get()
    return "|".join(str(v) for v in (*prospects, *followups))


def move(prospect_id: int, to_stage: Stage, user, *, version: int, lost_reason: LostReason | None = None,
         confirmed: bool = False, may_reopen: bool = False, now: datetime | None = None) -> Prospect:
    """Move a prospect to a stage, with a history entry; refuse (changing nothing) when the move
    is stale, needs a lost reason or a confirmation, or reopens a closed prospect without the right."""
    now = now or utcnow()
    with database.atomic():
        prospect = Prospect.get_or_none(Prospect.id == prospect_id)
        if prospect is None:
            raise MoveRefused("not_found")
        if prospect.version != version:
            raise MoveRefused("conflict")
        if to_stage.retired:
            raise MoveRefused("retired_stage")
        if to_stage.id == prospect.stage_id:
            return prospect
        if prospect.outcome != "open" and to_stage.kind == "open" and not may_reopen:
            raise MoveRefused("reopen_forbidden")
        if to_stage.kind == "lost" and lost_reason is None:
            raise MoveRefused("lost_reason_required")
        if to_stage.kind == "won" and not confirmed:
            raise MoveRefused("confirmation_required")
        changes = {
            Prospect.stage: to_stage.id, Prospect.outcome: to_stage.kind, Prospect.updated_at: now,
            Prospect.version: Prospect.version + 1,
            Prospect.lost_reason: lost_reason.id if to_stage.kind == "lost" else None,
            Prospect.converted_at: now if to_stage.kind == "won" else (
                None if to_stage.kind == "open" else prospect.converted_at),
        }
        # Optimistic concurrency in SQL too: two servers moving the same card at once, one wins.
        updated = (Prospect.update(changes)
                   .where((Prospect.id == prospect.id) & (Prospect.version == version)).execute())
        if updated != 1:
            raise MoveRefused("conflict")
        StageChange.create(prospect=prospect.id, from_stage=prospect.stage_id, to_stage=to_stage.id,
                           lost_reason=lost_reason.id if lost_reason else None, user=user, changed_at=now)
        if to_stage.kind != "open":
            # A closed prospect leaves the procedure: nothing planned stays on anyone's day.
            (FollowUp.update(state="cancelled", done_at=now)
             .where((FollowUp.prospect == prospect.id) & (FollowUp.state == "planned")).execute())
    audit("prospect.move", "prospect", prospect.id, detail=f"stage {prospect.stage_id} -> {to_stage.id}",
          actor=user)
    return Prospect.get_by_id(prospect.id)
