"""The pipeline board: columns, cards ordered by urgency, and moves between stages.

A fixed number of queries whatever the number of cards (counts grouped by stage, one query per column
for its first cards with their next action's type, owners). Cards are plain dicts: the board renders
hundreds of them and dict access is the cheap one in Jinja.
"""
from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN, SQL, Select, fn

from ..models import FollowUp, FollowUpType, LostReason, Prospect, Stage, StageChange, User, database
from ..i18n import short_datetime_formatter
from ..refusals import Refusal
from ..timeutil import utcnow
from .audit import record as audit
from .next_action import refresh_next_action
from .search import Criteria, prospect_query

PAGE = 30
CARD_FIELDS = (Prospect.id, Prospect.first_name, Prospect.last_name, Prospect.phone,
               Prospect.temperature, Prospect.activity_status, Prospect.qualification, Prospect.owner,
               Prospect.stage, Prospect.action_budget, Prospect.actions_used, Prospect.do_not_contact,
               Prospect.outcome, Prospect.version, Prospect.next_action_at)


class MoveRefused(Refusal):
    """A move the server will not make; `code` says why (for the message), nothing was changed."""
    domain = "move"
    status = 400   # the board's tests pin 400 for its rule refusals


@dataclass
class Column:
    stage: Stage
    count: int
    cards: list[dict]
    # A card just created from the board's dialog: shown first even beyond the cards loaded, and
    # skipped where it comes in order (pinned_extra says the first cards hold it once more).
    pinned_id: int | None = None
    pinned_extra: int = 0


def stages() -> list[Stage]:
    return list(Stage.select().where(~Stage.retired).order_by(Stage.position, Stage.id))


def lost_reasons() -> list[LostReason]:
    """The active lost reasons in the settings' order: what a move to a lost stage, or a follow-up
    ending "not interested", offers."""
    return list(LostReason.select().where(LostReason.active).order_by(LostReason.position))


def stage_counts(criteria: Criteria, stage_ids) -> dict[int, int]:
    """How many prospects matching the filters each of these stages holds (a move's two columns)."""
    return {stage_id: prospect_query(criteria).where(Prospect.stage == stage_id).count()
            for stage_id in set(stage_ids)}


def _ordering(kind: str):
    """Open columns by urgency: overdue and soonest first, 'to do' (nothing planned) last, an index range
    scan on (stage_id, next_action_at, id) (migration 0005). Won and lost columns show the most recently
    closed first."""
    if kind == "open":
        return [Prospect.next_action_at.asc(nulls="last"), Prospect.id]
    return [Prospect.updated_at.desc(), Prospect.id.desc()]


def _next_type():
    """The type name of the row's earliest planned follow-up (due time, then id), a card's "next action":
    evaluated for the rows a column returns only, through the follow_up (prospect, state, due_at) index."""
    return (FollowUp.select(FollowUpType.name)
            .join(FollowUpType, JOIN.LEFT_OUTER, on=(FollowUp.type == FollowUpType.id))
            .where((FollowUp.prospect == Prospect.id) & (FollowUp.state == "planned"))
            .order_by(FollowUp.due_at, FollowUp.id).limit(1))


class _ColumnQuery:
    """The cards of columns of one kind, by stage: the SQL is built once per request and run once per
    column with its stage, limit and offset (Peewee takes three times longer to build it than SQLite to answer it).
    Rows are CARD_FIELDS and the next type as the driver returns them; the decorator converts the rest."""

    def __init__(self, criteria: Criteria, kind: str):
        next_type = _next_type()
        head = len(next_type.sql()[1])
        # The select list's parameters, then the stage condition, the filters and the paging.
        query = (prospect_query(criteria, Prospect.select(*CARD_FIELDS, next_type.alias("next_type"))
                                .where(Prospect.stage == 0))
                 .order_by(*_ordering(kind)).limit(PAGE).offset(0))
        self.sql, params = query.sql()
        assert params[head] == 0 and list(params[-2:]) == [PAGE, 0], params
        self.head, self.filters = list(params[:head]), list(params[head + 1:-2])

    def rows(self, stage: Stage, limit: int, offset: int = 0) -> list[tuple]:
        return database.execute_sql(self.sql, [*self.head, stage.id, *self.filters, limit, offset]).fetchall()


def columns(criteria: Criteria, loaded: dict[int, int] | None = None, now: datetime | None = None,
            pinned: int | None = None) -> list[Column]:
    """Every non-retired stage with its filtered count and its first cards (as many as `loaded` asks,
    so a live refresh keeps what the person had scrolled to). One query per column, none per card.
    A `pinned` prospect (just created from the board) shows first in its column if the filters keep it."""
    now = now or utcnow()
    loaded = loaded or {}
    counts = dict(prospect_query(criteria).select(Prospect.stage, fn.COUNT(Prospect.id))
                  .group_by(Prospect.stage).tuples())
    queries, found = {}, []
    for stage in stages():
        count = counts.get(stage.id, 0)
        rows = []
        if count:
            if stage.kind not in queries:
                queries[stage.kind] = _ColumnQuery(criteria, stage.kind)
            rows = queries[stage.kind].rows(stage, max(PAGE, min(loaded.get(stage.id, 0), 500)))
        found.append((stage, count, rows))
    decorate = _decorator(now)
    result = [Column(stage=stage, count=count, cards=[decorate(row) for row in rows])
              for stage, count, rows in found]
    return _pin(result, criteria, pinned, decorate) if pinned else result


def _pin(columns: list[Column], criteria: Criteria, prospect_id: int, decorate) -> list[Column]:
    row = database.execute(prospect_query(criteria, Prospect.select(*CARD_FIELDS, _next_type().alias("next_type")))
                           .where(Prospect.id == prospect_id)).fetchall()
    for column in columns:
        if row and row[0][_NAMES.index("stage")] == column.stage.id:
            column.pinned_id = prospect_id
            if all(card["id"] != prospect_id for card in column.cards):
                column.cards.insert(0, decorate(row[0]))
                column.pinned_extra = 1
    return columns


def column_page(stage: Stage, criteria: Criteria, offset: int, now: datetime | None = None,
                pinned: int | None = None) -> Column:
    """The next cards of one column, for infinite scroll (a `pinned` card, shown first, is skipped)."""
    count = prospect_query(criteria).where(Prospect.stage == stage.id).count()
    rows = _ColumnQuery(criteria, stage.kind).rows(stage, PAGE, offset)
    decorate = _decorator(now or utcnow())
    return Column(stage=stage, count=count, cards=[decorate(row) for row in rows], pinned_id=pinned)


def card(prospect_id: int, now: datetime | None = None) -> dict | None:
    """One card, as the board shows it."""
    rows = database.execute(Prospect.select(*CARD_FIELDS, _next_type().alias("next_type"))
                            .where(Prospect.id == prospect_id)).fetchall()
    return _decorator(now or utcnow())(rows[0]) if rows else None


def _as_datetime(value):
    """SQLite hands a datetime back as text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


_NAMES = [field.name for field in CARD_FIELDS]


def _decorator(now: datetime):
    """A function turning a card row (CARD_FIELDS, then the next type) into the dict a card shows: the
    row's fields, owner initials, next action (time, type, overdue) and budget left. One query, the owners."""
    owners = {u.id: (u.name, u.initials) for u in User.select(User.id, User.name, User.email)}
    no_owner = ("", "")
    short_datetime = short_datetime_formatter()

    def decorate(row: tuple) -> dict:
        card = dict(zip(_NAMES, row))
        due = card["next_due"] = _as_datetime(card.pop("next_action_at"))
        card["overdue"] = due is not None and due < now
        card["next_due_text"] = short_datetime(due)
        card["next_type"] = row[-1]
        card["do_not_contact"] = bool(card["do_not_contact"])   # SQLite: 0 or 1
        card["owner_name"], card["owner_initials"] = owners.get(card["owner"], no_owner)
        card["name"] = f"{card['first_name']} {card['last_name']}".strip()
        card["actions_left"] = max(card["action_budget"] - card["actions_used"], 0)
        return card
    return decorate


def board_version() -> str:
    """Changes when any card could look different: a cheap 'changed since' token for live boards."""
    row = database.execute(_version_query()).fetchone()
    return "|".join(str(v) for v in row)


def _version_query() -> Select:
    """One statement of four scalar subqueries, each a few index seeks or a count SQLite answers from an index.
    The latest change is the latest of each stage's, each the last entry of that stage in the board's
    (stage_id, updated_at, id) index (migration 0026: no index on updated_at alone, which every move and
    every edit wrote again)."""
    stage = Stage.alias()
    latest_of_stage = Prospect.select(fn.MAX(Prospect.updated_at)).where(Prospect.stage == stage.id)
    return Select(columns=[stage.select(fn.MAX(latest_of_stage)), Prospect.select(fn.COUNT(SQL("*"))),
                           FollowUp.select(fn.MAX(FollowUp.id)),
                           FollowUp.select(fn.COUNT(SQL("*"))).where(FollowUp.state == "planned")])


def is_reopening(outcome: str, to_stage: Stage) -> bool:
    """Taking a converted or lost prospect out of its outcome (to an open stage, or won <-> lost)."""
    return outcome != "open" and to_stage.kind != outcome


def move(prospect_id: int, to_stage: Stage, user, *, version: int, lost_reason: LostReason | None = None,
         confirmed: bool = False, may_reopen: bool = False, reopen_confirmed: bool = False,
         now: datetime | None = None) -> Prospect:
    """Move a prospect to a stage, with a history entry (from, to, outcomes, who, when, lost reason);
    refuse (changing nothing) when the move is stale, needs a lost reason or a confirmation, or
    reopens a closed prospect without the right or without its own confirmation (`reopen_confirmed`)."""
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
        reopening = is_reopening(prospect.outcome, to_stage)
        if reopening and not may_reopen:
            raise MoveRefused("reopen_forbidden")
        if reopening and not reopen_confirmed:
            raise MoveRefused("reopen_confirmation_required")
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
                           from_outcome=prospect.outcome, to_outcome=to_stage.kind,
                           lost_reason=lost_reason.id if to_stage.kind == "lost" else None, user=user,
                           changed_at=now)
        if to_stage.kind != "open":
            # A closed prospect leaves the procedure: nothing planned stays on anyone's day.
            (FollowUp.update(state="cancelled", done_at=now)
             .where((FollowUp.prospect == prospect.id) & (FollowUp.state == "planned")).execute())
            refresh_next_action([prospect.id])
    audit("prospect.reopen" if reopening else "prospect.move", "prospect", prospect.id,
          detail=f"stage {prospect.stage_id} -> {to_stage.id}", actor=user)
    return Prospect.get_by_id(prospect.id)
