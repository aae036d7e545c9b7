"""The conversion cohort of seed 001: one month after prospects entered, how many became patients.

Prospects are grouped by the month they entered; a month is reported once its last prospect has had
its full 30 days (as of the date given). Computed from timestamps, so any date can be looked back at.
"""
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from ..models import Prospect, Setting
from ..timeutil import isoformat

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
    Setting.insert(key=SNAPSHOT_KEY, value=value).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: value}).execute()
    return cohorts


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)
