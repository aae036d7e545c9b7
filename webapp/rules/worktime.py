"""Working-time arithmetic over a business calendar: opening hours per weekday, public holidays.

Seed 000: first questions are answered "idéalement, dans les 48 heures ouvrés". In French business usage
that is two working days ("jours ouvrés"), not 48 hours of opening time: `add_working_days` counts it,
`add_working_hours` serves a business that does mean opening hours, and `add_working_time` picks one by the
configured unit. Nights, closed days and public holidays never count. DESIGN: "business calendar with
public holidays".

Datetime convention: every function takes naive datetimes as UTC (the form the database stores) and
accepts aware datetimes of any zone; every datetime it returns is naive UTC. Opening hours are wall-clock
times in the calendar's `tz`, so a day's span is found in local time, then turned into UTC instants:
working time is real elapsed time, right across a daylight-saving change.

Speed: the arithmetic walks whole days (one step per calendar day, no minute loops); a calendar with no
opening at all within a year raises ValueError instead of looping for ever.
"""
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from ..timeutil import to_local, to_storage

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_CLOSED_DAYS = 366  # a longer run without opening is a configuration error, not a holiday block


@dataclass(frozen=True)
class Calendar:
    """Opening hours per weekday (0 = Monday), closed days (date -> name) and the local timezone."""
    hours: Mapping[int, tuple[time, time]]
    holidays: Mapping[date, str] | set[date]
    tz: str

    def __post_init__(self):
        if not isinstance(self.holidays, Mapping):
            object.__setattr__(self, "holidays", {day: "" for day in self.holidays})
        for weekday, (opens, closes) in self.hours.items():
            if not 0 <= weekday <= 6 or opens >= closes:
                raise ValueError(f"bad opening hours for weekday {weekday}: {opens}-{closes}")
        ZoneInfo(self.tz)  # an unknown zone fails here, not in the middle of a sweep

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@lru_cache(maxsize=32)
def _public_holidays(country: str, years: tuple[int, ...], language: str) -> dict[date, str]:
    """The country's public holidays: computing them costs about 5 ms, and they only change with the
    package, so each process computes them once per (country, years, language)."""
    return dict(holidays_lib.country_holidays(country, years=list(years), language=language))


def calendar_from_settings(working_hours: Mapping, country: str | None, years: Iterable[int], tz: str,
                           overrides: Iterable[tuple[date, str, bool]] = (),
                           language: str = "fr") -> Calendar:
    """The calendar for settings like {"mon": ["08:30", "18:00"], …}, the country's holidays and overrides.

    `years` must cover every date the arithmetic will reach (a sweep passes last year to next year).
    Overrides `(day, name, closed)` add a closed day, or re-open a day (`closed=False`): the Islamic
    holidays are estimates in the `holidays` package, and an admin fixes them once they are announced.
    """
    hours = {}
    for key, span in working_hours.items():
        if span:
            opens, closes = span
            hours[_weekday(key)] = (_parse_time(opens), _parse_time(closes))
    closed: dict[date, str] = {}
    if country:
        closed.update(_public_holidays(country, tuple(years), _holiday_language(country, language)))
    for day, name, is_closed in overrides:
        if is_closed:
            closed[day] = name
        else:
            closed.pop(day, None)
    return Calendar(hours=hours, holidays=closed, tz=tz)


def is_open(cal: Calendar, moment: datetime) -> bool:
    """True when `moment` falls within opening hours (the opening instant included, the closing not)."""
    moment = to_storage(moment)
    span = _day_span(cal, _local_date(cal, moment))
    return span is not None and span[0] <= moment < span[1]


def add_working_hours(cal: Calendar, start: datetime, hours: float) -> datetime:
    """The instant `hours` of opening time after `start`; counting begins at the next opening.

    The result always lies in a working day's span; a count that uses a day up exactly ends at that
    day's closing time ("by close of business"), not at the next morning's opening.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    remaining = timedelta(hours=hours)
    moment = to_storage(start)
    for opens, closes in _spans_from(cal, _local_date(cal, moment)):
        begin = max(opens, moment)
        if begin >= closes:
            continue
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin
    raise AssertionError("unreachable: _spans_from never ends")


def add_working_days(cal: Calendar, start: datetime, days: int) -> datetime:
    """The same local clock time `days` working days after `start` ("sous 48 heures ouvrées": 2 days).

    Counting starts at `start`, or at the next opening when it falls while closed (a Saturday-afternoon
    request counts from Monday's opening); closed days and public holidays are skipped. A clock time
    outside the last day's opening hours moves into them: past its closing, to its close; before its
    opening, to its opening.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    begin = next_opening(cal, start)
    clock = local_time(cal, begin).time()
    spans = _spans_from(cal, _local_date(cal, begin))
    opens, closes = next(spans)            # the start's own day
    for _ in range(days):
        opens, closes = next(spans)
    day = local_time(cal, opens).date()
    wanted = to_storage(datetime.combine(day, clock, tzinfo=cal.zone))
    return min(max(wanted, opens), closes)


UNITS = ("working_days", "working_hours")


def add_working_time(cal: Calendar, start: datetime, count: float, unit: str) -> datetime:
    """`count` working days or opening hours after `start`, by the configured `unit` (see UNITS)."""
    if unit == "working_days":
        return add_working_days(cal, start, int(count))
    if unit == "working_hours":
        return add_working_hours(cal, start, count)
    raise ValueError(f"unknown working-time unit {unit!r}")


def next_opening(cal: Calendar, moment: datetime) -> datetime:
    """`moment` itself when open, else the next opening instant."""
    return add_working_hours(cal, moment, 0)


def next_opening_to_come(cal: Calendar, now: datetime) -> datetime:
    """The next opening still ahead: today's when it has not opened yet, else the next working day's
    (Monday's on a Saturday afternoon), never a closed day or a holiday. The date a call back is
    offered for."""
    opening = next_opening(cal, now)
    if opening > to_storage(now):
        return opening
    tomorrow = _local_date(cal, now) + timedelta(days=1)
    return next_opening(cal, to_storage(datetime.combine(tomorrow, time(0), tzinfo=cal.zone)))


def last_working_moment(cal: Calendar, moment: datetime) -> datetime:
    """`moment` itself when open, else the closing instant of the last working day before it.

    For deadlines read as "within" ("dans les 48h"): the last moment one can still act in time.
    """
    moment = to_storage(moment)
    for opens, closes in _spans_back_from(cal, _local_date(cal, moment)):
        if opens <= moment:
            return min(closes, moment)
    raise AssertionError("unreachable: _spans_back_from never ends")


def working_hours_between(cal: Calendar, start: datetime, end: datetime) -> float:
    """Opening hours between two instants (negative when `end` comes before `start`)."""
    start, end = to_storage(start), to_storage(end)
    if end < start:
        return -working_hours_between(cal, end, start)
    total = timedelta(0)
    day, last_day = _local_date(cal, start), _local_date(cal, end)
    while day <= last_day:
        span = _day_span(cal, day)
        if span is not None:
            overlap = min(span[1], end) - max(span[0], start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def add_calendar_days(cal: Calendar, moment: datetime, days: int) -> datetime:
    """The same local wall-clock time `days` later ("7 jours après"), whatever DST does meanwhile."""
    local = to_local(moment, cal.zone)
    later = (local.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=cal.zone)
    return to_storage(later)


def local_time(cal: Calendar, moment: datetime) -> datetime:
    """`moment` as an aware datetime in the calendar's timezone, for display and local dates."""
    return to_local(moment, cal.zone)


def opening_span(cal: Calendar, day: date) -> tuple[datetime, datetime] | None:
    """The local day's opening and closing instants (naive UTC), or None when it is closed."""
    return _day_span(cal, day)


def _local_date(cal: Calendar, moment: datetime) -> date:
    return local_time(cal, moment).date()


def _day_span(cal: Calendar, day: date) -> tuple[datetime, datetime] | None:
    """The day's opening span as naive-UTC instants, or None on a closed day."""
    hours = cal.hours.get(day.weekday())
    if hours is None or day in cal.holidays:
        return None
    opens, closes = (to_storage(datetime.combine(day, t, tzinfo=cal.zone)) for t in hours)
    return opens, closes


def _spans_from(cal: Calendar, day: date) -> Iterator[tuple[datetime, datetime]]:
    return _spans(cal, day, timedelta(days=1))


def _spans_back_from(cal: Calendar, day: date) -> Iterator[tuple[datetime, datetime]]:
    return _spans(cal, day, timedelta(days=-1))


def _spans(cal: Calendar, day: date, step: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """Opening spans day after day (or before), one step per day; refuses a calendar that never opens."""
    closed_run = 0
    while True:
        span = _day_span(cal, day)
        if span is None:
            closed_run += 1
            if closed_run > _MAX_CLOSED_DAYS:
                raise ValueError(f"the calendar has no opening hours within a year of {day}")
        else:
            closed_run = 0
            yield span
        day += step


def _weekday(key) -> int:
    if isinstance(key, int):
        return key
    short = str(key).strip().lower()[:3]
    if short not in WEEKDAYS:
        raise ValueError(f"unknown weekday {key!r}")
    return WEEKDAYS.index(short)


def _parse_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value).strip())


def _holiday_language(country: str, language: str) -> str | None:
    """`fr` or `fr_SN`, whichever the package knows for this country; None leaves its default."""
    supported = holidays_lib.list_localized_countries().get(country.upper(), [])
    for candidate in (language, f"{language}_{country.upper()}"):
        if candidate in supported:
            return candidate
    return None
