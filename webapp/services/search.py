"""Prospect search and filters for the list page and the API; filter fields come from an allow-list."""
from dataclasses import dataclass

from flask import current_app
from peewee import JOIN, SQL, SqliteDatabase

from ..models import FollowUp, FollowUpType, Prospect, Stage, User, database
from ..refusals import Refusal
from ..rules.numbers import parse_id
from ..rules.phones import looks_like_phone, normalise_phone
from ..rules.contact import normalise_email
from ..rules.text import fold_name
from ..vocabulary import ACTIVITY_STATUSES, CHANNELS, PROSPECT_OUTCOMES, QUALIFICATIONS, TEMPERATURES

FILTERS = {
    "temperature": TEMPERATURES, "activity_status": ACTIVITY_STATUSES, "outcome": PROSPECT_OUTCOMES,
    "qualification": QUALIFICATIONS, "channel": CHANNELS,
}
SORTS = {
    "recent": (Prospect.last_interaction_at.desc(nulls="last"), Prospect.id.desc()),
    "created": (Prospect.created_at.desc(), Prospect.id.desc()),
    "name": (Prospect.last_name, Prospect.first_name, Prospect.id),
}


class BadFilter(Refusal, ValueError):
    """An unknown filter, sort or value: a 400, never passed to SQL (SECURITY.md)."""
    domain = "filter"
    status = 400


@dataclass
class Criteria:
    q: str = ""
    filters: dict = None
    owner: int | None = None
    unassigned: bool = False
    sort: str = "recent"

    @classmethod
    def from_args(cls, args, current_user_id: int | None = None) -> "Criteria":
        filters = {}
        for name, allowed in FILTERS.items():
            value = args.get(name, "")
            if value:
                if value not in allowed:
                    raise BadFilter(name)
                filters[name] = value
        owner, unassigned = None, False
        raw_owner = args.get("owner", "")
        if raw_owner == "me":
            owner = current_user_id
        elif raw_owner == "none":
            unassigned = True
        elif raw_owner:
            owner = parse_id(raw_owner)
            if owner is None:
                raise BadFilter("owner")
        sort = args.get("sort", "recent") or "recent"
        if sort not in SORTS:
            raise BadFilter("sort")
        return cls(q=args.get("q", "").strip()[:200], filters=filters, owner=owner,
                   unassigned=unassigned, sort=sort)


def _words_condition(words: list[str]):
    """Every word appears in the folded search text. On SQLite, words of three letters or more go
    through the FTS5 trigram index of migration 0003; PostgreSQL's pg_trgm index serves LIKE itself."""
    condition = None
    indexed = [w for w in words if len(w) >= 3] if isinstance(database.obj, SqliteDatabase) else []
    if indexed:
        match = " ".join('"' + word.replace('"', '""') + '"' for word in indexed)
        condition = Prospect.id.in_(SQL("(SELECT rowid FROM prospect_search WHERE prospect_search MATCH ?)",
                                        [match]))
    for word in words:
        if word not in indexed:
            clause = Prospect.search_text.contains(word)
            condition = clause if condition is None else condition & clause
    return condition


def _text_condition(q: str):
    if looks_like_phone(q):
        phone = normalise_phone(q, current_app.config["PHONE_REGION"])
        if phone.e164:
            return Prospect.phone == phone.e164
        return _words_condition(["".join(ch for ch in q if ch.isdigit())])
    if "@" in q and " " not in q:
        return Prospect.email == normalise_email(q)
    return _words_condition(fold_name(q).split())


def prospect_query(criteria: Criteria, query=None):
    """The filtered query, without paging or ordering: Prospect.select(), or `query`, with the filters."""
    query = Prospect.select() if query is None else query
    for name, value in (criteria.filters or {}).items():
        query = query.where(getattr(Prospect, name) == value)
    if criteria.owner is not None:
        query = query.where(Prospect.owner == criteria.owner)
    if criteria.unassigned:
        query = query.where(Prospect.owner.is_null())
    if criteria.q:
        condition = _text_condition(criteria.q)
        if condition is not None:
            query = query.where(condition)
    return query


def search(criteria: Criteria, page: int, page_size: int):
    """One page of prospects with owner and stage joined (no query per row), and the total count."""
    base = prospect_query(criteria)
    total = base.count()
    rows = (base.select(Prospect, User, Stage)
            .join(User, JOIN.LEFT_OUTER, on=(Prospect.owner == User.id)).switch(Prospect)
            .join(Stage, on=(Prospect.stage == Stage.id))
            .order_by(*SORTS[criteria.sort])
            .paginate(page, page_size))
    return list(rows), total


def next_actions(prospect_ids: list[int]) -> dict[int, FollowUp]:
    """The earliest planned follow-up of each prospect, its type loaded with it: one query in all."""
    if not prospect_ids:
        return {}
    found = {}
    query = (FollowUp.select(FollowUp, FollowUpType).join(FollowUpType, JOIN.LEFT_OUTER)
             .where((FollowUp.prospect.in_(prospect_ids)) & (FollowUp.state == "planned"))
             .order_by(FollowUp.due_at, FollowUp.id))
    for followup in query:
        found.setdefault(followup.prospect_id, followup)
    return found
