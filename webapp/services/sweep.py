"""The sweep (DESIGN "Tasks"): activity statuses recomputed and the follow-up rules evaluated, as of a moment.

Everything is computed from stored timestamps as of `as_of`, never from "when the sweep last ran", so a
sweep that did not run for a week catches up in one pass, and a second pass changes nothing:
- activity statuses (seed 000) are set-based: one INSERT ... SELECT into the history and one
  UPDATE ... CASE, both limited to the open prospects whose status changes, in one transaction; the CASE
  compares `last_interaction_at` with cut-off instants computed here, which is exactly
  `rules.activity.activity_status` (whole days elapsed: `days >= n` iff `last <= as_of - n days`);
- the rules (`rules.followups.due_followups`) run in Python over the open, contactable hot and warm
  prospects, chunk by chunk, with the interaction facts loaded by GROUP BY queries (a few queries per
  chunk, none per prospect); of the causes not planned before, `rules.followups.next_actions` keeps what
  seed 004 allows (nothing while a follow-up is planned no later than the rule's due time, one at a
  time, a late cause at the next opening), each inserted under its unique `cause_key`
  (INSERT ... ON CONFLICT DO NOTHING), so a cause is planned once however often the sweep runs; the
  prospects that got one have their stored next action recomputed by one UPDATE in the same transaction.
  A cause held back by a person's plan has no row yet: once that plan is done or cancelled, the next
  sweep looks at it again.
Facts are read as of `as_of` (interactions and temperature changes up to it); the temperature and the
qualification are the current ones.
"""
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from peewee import Case, fn

from ..config import business_timezone
from ..models import (ActionCode, ActivityStatusChange, FollowUp, FollowUpType, Interaction, Prospect,
                      TemperatureChange, database)
from ..rules.followups import ANSWERED_TEMPERATURES, RULE_DEFAULTS, ProspectFacts, due_followups, next_actions
from ..timeutil import from_local, to_storage, utcnow
from .defaults import SETTINGS, setting
from .followups import business_calendar
from .next_action import refresh_next_action

CHUNK = 5000
LIVE_CHANNELS = ("phone", "visit")   # a conversation: the question is answered as it is asked
STATUSES = ("lost", "dormant", "normal")


@dataclass
class SweepResult:
    """What one sweep changed: status changes by new status, prospects evaluated, follow-ups planned."""
    as_of: datetime
    activity_changes: dict = field(default_factory=lambda: {s: 0 for s in STATUSES})
    prospects_evaluated: int = 0
    followups_created: int = 0

    @property
    def activity_changed(self) -> int:
        return sum(self.activity_changes.values())

    def as_dict(self) -> dict:
        return {**asdict(self), "as_of": self.as_of.isoformat(), "activity_changed": self.activity_changed}


def run_sweep(as_of: datetime) -> SweepResult:
    """Recompute activity statuses, then plan the follow-ups the rules ask for, as of `as_of`."""
    as_of = to_storage(as_of)
    result = SweepResult(as_of=as_of)
    result.activity_changes = sweep_activity(as_of)
    result.prospects_evaluated, result.followups_created = sweep_rules(as_of)
    return result


def end_of_day(day: date) -> datetime:
    """The last second of `day` in the business timezone, as stored (naive UTC).

    `relance sweep --as-of DAY` sweeps as of the end of that day: everything that happened on the day
    counts, and the statuses are those the staff see that evening.
    """
    return from_local(day, time(23, 59, 59), business_timezone())


# --- activity statuses (set-based) ----------------------------------------------------------------------

def activity_case(as_of: datetime, thresholds: dict):
    """The SQL CASE giving an open prospect's activity status as of `as_of`.

    Mirrors rules.activity.activity_status: no interaction is normal; lost when more than `lost_after`
    whole days have passed (last <= as_of - (lost_after + 1) days); else dormant from `dormant_from`
    whole days (last <= as_of - dormant_from days); else normal, as is a temperature without thresholds.
    """
    last = Prospect.last_interaction_at
    whens = []
    for temperature, (dormant_from, lost_after) in thresholds.items():
        is_temp = Prospect.temperature == temperature
        whens.append((is_temp & (last <= as_of - timedelta(days=int(lost_after) + 1)), "lost"))
        whens.append((is_temp & (last <= as_of - timedelta(days=int(dormant_from))), "dormant"))
    return Case(None, [(last.is_null(), "normal")] + whens, "normal")


def sweep_activity(as_of: datetime, thresholds: dict | None = None) -> dict:
    """Set every open prospect's activity status as of `as_of`, keeping history; returns changes by status.

    Two statements over the open rows whose status changes: the history INSERT ... SELECT (first, while
    the old status is readable), then one UPDATE ... CASE. A steady-state run scans twice, writes nothing.
    """
    as_of = to_storage(as_of)
    status = activity_case(as_of, thresholds or setting("activity_thresholds"))
    changing = (Prospect.outcome == "open") & (status != Prospect.activity_status)
    history = ActivityStatusChange
    with database.atomic():
        before = history.select(fn.COALESCE(fn.MAX(history.id), 0)).scalar()
        # seed 000: activity status "historique conservé".
        history.insert_from(Prospect.select(Prospect.id, Prospect.activity_status, status, as_of).where(changing),
                            [history.prospect, history.old, history.new, history.changed_at]).execute()
        Prospect.update(activity_status=status).where(changing).execute()
        counted = dict(history.select(history.new, fn.COUNT(history.id))
                       .where((history.id > before) & (history.changed_at == as_of))
                       .group_by(history.new).tuples())
    return {s: counted.get(s, 0) for s in STATUSES}


# --- the follow-up rules (batched) ----------------------------------------------------------------------

def rule_settings() -> dict:
    """The rules' settings: stored values, the seeded defaults, then RULE_DEFAULTS."""
    return {key: setting(key) if key in SETTINGS else value
            for key, value in RULE_DEFAULTS.items()}


def sweep_rules(as_of: datetime, chunk: int = CHUNK, limit: int | None = None,
                only: list[int] | None = None) -> tuple[int, int]:
    """Plan the rules' follow-ups for open, contactable prospects; returns (evaluated, created).

    `limit` stops after about that many prospects (whole chunks): the benchmark times a sample.
    `only` restricts the pass to these prospects (see `plan_rules_for`).
    """
    as_of = to_storage(as_of)
    cal, settings = business_calendar(as_of, business_timezone()), rule_settings()
    types = {t.code: t.id for t in FollowUpType.select(FollowUpType.id, FollowUpType.code)
             .where(FollowUpType.code.is_null(False))}
    evaluated = created = 0
    after = 0
    while limit is None or evaluated < limit:
        query = _contactable(as_of).where(Prospect.id > after)
        if only is not None:
            query = query.where(Prospect.id.in_(only))
        prospects = list(query.order_by(Prospect.id).limit(chunk).dicts())
        if not prospects:
            break
        after = prospects[-1]["id"]
        rows = _followup_rows(list(_facts(prospects, as_of)), cal, settings, as_of, types)
        evaluated += len(prospects)
        created += insert_followups(rows)
    return evaluated, created


def plan_rules_for(prospect_ids: list[int], as_of: datetime) -> int:
    """The rules' follow-ups for a few prospects now, not at the next sweep: a request just recorded
    gets its first-answer deadline at once. The same cause keys as the sweep, so it plans nothing twice."""
    return sweep_rules(as_of, only=list(prospect_ids))[1] if prospect_ids else 0


def facts_for(prospect_ids: list[int], as_of: datetime) -> list[tuple[ProspectFacts, dict]]:
    """The rules' facts for these prospects as of `as_of`, as the sweep reads them, with each prospect's
    row (owner, temperature, next action); only the open, contactable ones. For the demo's history."""
    rows = list(_contactable(as_of).where(Prospect.id.in_(list(prospect_ids))).order_by(Prospect.id).dicts())
    return list(_facts(rows, as_of)) if rows else []


def _contactable(as_of: datetime):
    # DESIGN: do-not-contact, won and lost prospects get nothing; cold ones neither (seed 000).
    return (Prospect.select(Prospect.id, Prospect.temperature, Prospect.qualification, Prospect.owner,
                            Prospect.first_contact_at, Prospect.last_interaction_at, Prospect.created_at,
                            Prospect.next_action_at)
            .where((Prospect.outcome == "open") & (Prospect.do_not_contact == False)  # noqa: E712
                   & Prospect.temperature.in_(ANSWERED_TEMPERATURES) & (Prospect.created_at <= as_of)))


def _facts(prospects: list[dict], as_of: datetime):
    """ProspectFacts for one chunk, from GROUP BY queries over its id range; yields (facts, prospect row)."""
    low, high = prospects[0]["id"], prospects[-1]["id"]
    moves = _interaction_facts(low, high, as_of)
    changes = _last_temperature_changes(low, high, as_of)
    appointments = _appointments(low, high, as_of)
    sent = _information_sent(low, high, as_of)
    for p in prospects:
        first_at, last_at, last_in, last_out, first_out = moves.get(p["id"], (None,) * 5)
        change = changes.get(p["id"])
        to_hot = change is not None and change["new"] == "hot"
        facts = ProspectFacts(
            id=p["id"], temperature=p["temperature"], qualification=p["qualification"],
            first_contact_at=first_at or p["first_contact_at"], last_interaction_at=last_at,
            last_inbound_at=last_in, last_outbound_at=last_out, answered_at=first_out,
            temperature_changed_to_hot_at=change["changed_at"] if to_hot else None,
            previous_temperature=change["old"] if to_hot else None, created_at=p["created_at"],
            appointment_at=appointments.get(p["id"]), information_sent_at=sent.get(p["id"]))
        yield facts, p


def _interaction_facts(low: int, high: int, as_of: datetime) -> dict:
    """prospect id -> (first, last, last inbound, last outbound, first outbound) interaction times.

    Our first outbound contact counts as the first answer: what came in after it is a later question.
    A call or a visit from the prospect is answered on the spot, so it counts as our answer too.
    A call nobody answered (`reached` false) is neither an answer nor an interaction.
    """
    when, inbound = Interaction.occurred_at, Interaction.direction == "in"
    outbound = (Interaction.direction == "out") | Interaction.channel.in_(LIVE_CHANNELS)
    query = (Interaction
             .select(Interaction.prospect, fn.MIN(when), fn.MAX(when),
                     fn.MAX(Case(None, [(inbound, when)], None)), fn.MAX(Case(None, [(outbound, when)], None)),
                     fn.MIN(Case(None, [(outbound, when)], None)))
             .where(Interaction.prospect.between(low, high) & (when <= as_of) & Interaction.reached)
             .group_by(Interaction.prospect).tuples())
    return {row[0]: tuple(_datetime(v) for v in row[1:]) for row in query}


def _information_sent(low: int, high: int, as_of: datetime) -> dict:
    """prospect id -> our last outbound contact that carried the quote or the information asked for
    (its action code is marked `sends_information`: DEVIS, DOC), the anchor of seed 001's callback."""
    when = Interaction.occurred_at
    query = (Interaction.select(Interaction.prospect, fn.MAX(when))
             .join(ActionCode, on=(Interaction.action_code == ActionCode.id))
             .where(Interaction.prospect.between(low, high) & (when <= as_of)
                    & (Interaction.direction == "out") & ActionCode.sends_information)
             .group_by(Interaction.prospect).tuples())
    return {prospect_id: _datetime(at) for prospect_id, at in query}


def _appointments(low: int, high: int, as_of: datetime) -> dict:
    """prospect id -> its next appointment: the soonest planned follow-up whose type's action is a
    sales appointment (seed 002), still ahead as of `as_of`."""
    query = (FollowUp.select(FollowUp.prospect, fn.MIN(FollowUp.due_at))
             .join(FollowUpType, on=(FollowUp.type == FollowUpType.id))
             .where(FollowUp.prospect.between(low, high) & (FollowUp.state == "planned")
                    & (FollowUpType.action == "appointment") & (FollowUp.due_at > as_of))
             .group_by(FollowUp.prospect).tuples())
    return {prospect_id: _datetime(due_at) for prospect_id, due_at in query}


def _last_temperature_changes(low: int, high: int, as_of: datetime) -> dict:
    """prospect id -> its last temperature change as of `as_of` (old, new, changed_at)."""
    latest = (TemperatureChange.select(fn.MAX(TemperatureChange.id))
              .where(TemperatureChange.prospect.between(low, high) & (TemperatureChange.changed_at <= as_of))
              .group_by(TemperatureChange.prospect))
    query = (TemperatureChange.select(TemperatureChange.prospect, TemperatureChange.old, TemperatureChange.new,
                                      TemperatureChange.changed_at)
             .where(TemperatureChange.id.in_(latest)).dicts())
    return {row["prospect"]: row for row in query}


def _datetime(value):
    """Aggregates come back untyped on SQLite (text); Peewee's own parser reads them."""
    if value is None or isinstance(value, datetime):
        return value
    return Interaction.occurred_at.python_value(value)


def _followup_rows(chunk: list[tuple], cal, settings, as_of, types) -> list[tuple]:
    """The rows to insert for one chunk of (facts, prospect row): what the rules ask for, less the causes
    already planned once (one query), less what seed 004's one next action holds back."""
    asked = [(facts, p, due_followups(facts, cal, settings, as_of)) for facts, p in chunk]
    keys = [planned.cause_key for _, _, plans in asked for planned in plans]
    known = set()
    for start in range(0, len(keys), 900):   # SQLite's bound-parameter limit
        known.update(key for (key,) in FollowUp.select(FollowUp.cause_key)
                     .where(FollowUp.cause_key.in_(keys[start:start + 900])).tuples())
    now = utcnow()
    return [(facts.id, types.get(planned.type_code), p["owner"], planned.due_at, p["temperature"], planned.rule,
             "", planned.cause_key, "planned", now, planned.reason_code,
             FollowUp.reason_params.db_value(dict(planned.reason_params)))   # executemany: stored form
            for facts, p, plans in asked
            for planned in next_actions([x for x in plans if x.cause_key not in known],
                                        _datetime(p["next_action_at"]), cal, as_of)]


# The columns _followup_rows fills, in its order.
_FIELDS = [FollowUp.prospect, FollowUp.type, FollowUp.owner, FollowUp.due_at, FollowUp.value, FollowUp.rule,
           FollowUp.rule_reason, FollowUp.cause_key, FollowUp.state, FollowUp.created_at, FollowUp.reason_code,
           FollowUp.reason_params]


def insert_followups(rows: list[tuple]) -> int:
    """Insert rule follow-ups (tuples in _FIELDS order) whose cause key is new; returns how many.

    Known keys are skipped by one SELECT, so a steady-state sweep writes nothing; the unique cause_key
    and ON CONFLICT DO NOTHING still guard against a sweep running at the same time. Peewee writes the
    one-row INSERT and the driver's executemany runs it for every row (rendering thousands of rows into
    one SQL text costs more than the rules themselves).
    """
    key_at = _FIELDS.index(FollowUp.cause_key)
    keys = [row[key_at] for row in rows]
    if not keys:
        return 0
    known = {key for (key,) in FollowUp.select(FollowUp.cause_key).where(FollowUp.cause_key.in_(keys)).tuples()}
    new = [row for row in rows if row[key_at] not in known]
    if not new:
        return 0
    sql, params = FollowUp.insert_many([new[0]], fields=_FIELDS).on_conflict_ignore().sql()
    defaults = tuple(params[len(_FIELDS):])   # the model defaults of the columns not listed
    prospect_at = _FIELDS.index(FollowUp.prospect)
    with database.atomic():
        cursor = database.cursor()
        cursor.executemany(sql, [row + defaults for row in new])
        inserted = cursor.rowcount
        refresh_next_action(row[prospect_at] for row in new)
        return inserted
