"""The conversion cohort of seed 001: one month after prospects entered, how many became patients.

Prospects are grouped by the month they entered; a month is reported once its last prospect has had
its full 30 days (as of the date given). Computed from timestamps, so any date can be looked back at.
"""
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from peewee import fn

from ..models import FollowUp, OwnerChange, Prospect, TemperatureChange, User
from ..timeutil import isoformat
from .defaults import store_setting

WINDOW = timedelta(days=30)   # seed 001: "un mois après"
SNAPSHOT_KEY = "conversion_cohorts"


@dataclass
class Cohort:
    month: str                 # "2026-09"
    entered: int
    converted_30_days: int     # became a patient within 30 days of entering
    converted_later: int
    lost: int
    still_open: int

    @property
    def rate(self) -> float:
        return self.converted_30_days / self.entered if self.entered else 0.0


def _month_start(day: date) -> date:
    return day.replace(day=1)


def conversion_cohorts(as_of: datetime, months: int = 6) -> list[Cohort]:
    """The last `months` complete cohorts as of `as_of`, oldest first (one query)."""
    last_complete = _month_start((as_of - WINDOW).date())      # its last day is at least 30 days old?
    if (as_of - WINDOW).date() < _next_month(last_complete) - timedelta(days=1):
        last_complete = _previous_month(last_complete)
    first = last_complete
    for _ in range(months - 1):
        first = _previous_month(first)
    start, end = datetime.combine(first, datetime.min.time()), datetime.combine(_next_month(last_complete),
                                                                              datetime.min.time())
    cohorts: dict[str, Cohort] = {}
    month = first
    while month <= last_complete:
        cohorts[month.strftime("%Y-%m")] = Cohort(month.strftime("%Y-%m"), 0, 0, 0, 0, 0)
        month = _next_month(month)
    rows = (Prospect.select(Prospect.created_at, Prospect.converted_at, Prospect.outcome)
            .where((Prospect.created_at >= start) & (Prospect.created_at < end)).tuples())
    for created_at, converted_at, outcome in rows:
        cohort = cohorts[created_at.strftime("%Y-%m")]
        cohort.entered += 1
        converted = outcome == "won" and converted_at is not None and converted_at <= as_of
        if converted and converted_at - created_at <= WINDOW:
            cohort.converted_30_days += 1
        elif converted:
            cohort.converted_later += 1
        elif outcome == "lost":
            cohort.lost += 1
        else:
            cohort.still_open += 1
    return list(cohorts.values())


def record_snapshot(as_of: datetime) -> list[Cohort]:
    """Keep the latest cohorts where the dashboards will read them."""
    cohorts = conversion_cohorts(as_of)
    value = {"as_of": isoformat(as_of), "cohorts": [asdict(c) | {"rate": round(c.rate, 4)} for c in cohorts]}
    store_setting(SNAPSHOT_KEY, value)
    return cohorts


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


# --- one month, broken down (the manager's figures page) ---------------------------------------------

DIMENSIONS = ("channel", "temperature", "owner", "followed_up")


@dataclass
class Line:
    """One group of a month's cohort: how many entered, how many became patients within 30 days."""
    key: str
    entered: int = 0
    converted: int = 0

    @property
    def rate(self) -> float:
        return self.converted / self.entered if self.entered else 0.0


@dataclass
class MonthReport:
    month: date
    as_of: datetime
    complete: bool             # every prospect of the month has had its 30 days by as_of
    total: Line
    by: dict[str, list[Line]]  # dimension -> lines, largest first


def month_report(month: date, as_of: datetime) -> MonthReport:
    """The prospects who entered in `month` and how many became patients within 30 days, as of `as_of`:
    overall and by channel, temperature and owner (each as it was 30 days after entering, or at as_of if
    sooner) and whether they had a follow-up done in those 30 days. Nothing after `as_of` is counted, so
    any past date gives the figures as they stood then."""
    month = _month_start(month)
    start = datetime.combine(month, datetime.min.time())
    end = datetime.combine(_next_month(month), datetime.min.time())
    complete = end + WINDOW <= as_of
    people = list(Prospect.select(Prospect.id, Prospect.created_at, Prospect.converted_at, Prospect.outcome,
                                  Prospect.channel, Prospect.temperature, Prospect.owner)
                  .where((Prospect.created_at >= start) & (Prospect.created_at < min(end, as_of))).dicts())
    temperatures = _values_at(people, as_of, TemperatureChange)   # None: a creation row, no temperature before
    owner_ids = _values_at(people, as_of, OwnerChange)
    followed = _followed_up(people, as_of)
    owners = {u.id: u.name for u in User.select(User.id, User.name)}
    total = Line("all")
    groups: dict[str, dict[str, Line]] = {d: {} for d in DIMENSIONS}
    for p in people:
        converted = (p["outcome"] == "won" and p["converted_at"] is not None
                     and p["converted_at"] <= min(as_of, p["created_at"] + WINDOW))
        keys = {"channel": p["channel"], "temperature": temperatures.get(p["id"]) or p["temperature"],
                "owner": owners.get(owner_ids.get(p["id"], p["owner"]), ""),
                "followed_up": "yes" if p["id"] in followed else "no"}
        for line in [total] + [groups[d].setdefault(k, Line(k)) for d, k in keys.items()]:
            line.entered += 1
            line.converted += converted
    by = {d: sorted(lines.values(), key=lambda line: (-line.entered, line.key)) for d, lines in groups.items()}
    return MonthReport(month, as_of, complete, total, by)


def _cutoff(person: dict, as_of: datetime) -> datetime:
    return min(as_of, person["created_at"] + WINDOW)


def _values_at(people: list[dict], as_of: datetime, log) -> dict[int, object]:
    """The value a change log (TemperatureChange, OwnerChange: `old`, `changed_at`) says each prospect had
    at its cutoff, for those it changed for after the cutoff: the value before the first such change.
    The others have had theirs since (their current value)."""
    by_id = {p["id"]: p for p in people}
    result: dict[int, object] = {}
    changes = (log.select(log.prospect, log.old, log.changed_at).where(log.prospect.in_(list(by_id)))
               .order_by(log.changed_at.desc(), log.id.desc()).tuples())
    for prospect_id, old, changed_at in changes:
        if changed_at > _cutoff(by_id[prospect_id], as_of):
            result[prospect_id] = old      # undone, latest first: the earliest change after it is kept
    return result


def _followed_up(people: list[dict], as_of: datetime) -> set[int]:
    """The prospects with a follow-up done within their cutoff."""
    by_id = {p["id"]: p for p in people}
    done = (FollowUp.select(FollowUp.prospect, FollowUp.done_at)
            .where(FollowUp.prospect.in_(list(by_id)) & (FollowUp.state == "done")
                   & FollowUp.done_at.is_null(False)).tuples())
    return {prospect_id for prospect_id, done_at in done if done_at <= _cutoff(by_id[prospect_id], as_of)}


def months_with_prospects(as_of: datetime, limit: int = 24) -> list[date]:
    """The months in which prospects entered, newest first, up to `as_of`."""
    first = Prospect.select(fn.MIN(Prospect.created_at)).where(Prospect.created_at <= as_of).scalar()
    if first is None:
        return []
    months, month = [], _month_start(as_of.date())
    while month >= _month_start(first.date()) and len(months) < limit:
        months.append(month)
        month = _previous_month(month)
    return months
