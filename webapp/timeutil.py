"""Time helpers: the database stores naive UTC; people see the configured timezone.

Every rule takes the time as an argument, so nothing below reads a clock except `utcnow`.
"""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current instant as a naive UTC datetime, the form stored in the database."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored naive-UTC datetime made aware, for serialising with an offset."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def to_storage(value: datetime) -> datetime:
    """Any datetime, aware or naive-UTC, in the stored naive-UTC form."""
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def to_local(value: datetime, zone: str | ZoneInfo) -> datetime:
    """A stored naive-UTC (or any aware) datetime as an aware datetime in `zone`: the one way to
    turn a stored time into a local one."""
    return as_utc(value).astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)


def from_local(day: date, at: time, zone: str | ZoneInfo) -> datetime:
    """A day and a time on the local clock of `zone`, as stored (naive UTC): the way back of `to_local`."""
    return to_storage(datetime.combine(day, at, tzinfo=ZoneInfo(zone) if isinstance(zone, str) else zone))


def local_input(moment: datetime | None, zone: str | ZoneInfo) -> str:
    """A stored UTC datetime as a `datetime-local` input value in `zone` ("" for none)."""
    return to_local(moment, zone).strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 with an explicit offset, as the public contract requires."""
    aware = as_utc(value)
    return aware.isoformat() if aware else None


def parse_iso_datetime(text: str, tz: str) -> datetime:
    """Parse ISO 8601; a value without offset is read in the business timezone. Raises ValueError,
    also for a moment that has no UTC time (year 1 or 9999 at the edge of an offset)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(tz))
        return to_storage(parsed)
    except OverflowError:
        raise ValueError(f"out of range: {text!r}") from None


def parse_iso_date(text: str) -> date:
    """Parse YYYY-MM-DD (or DD/MM/YYYY as French staff write it). Raises ValueError."""
    text = text.strip()
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text)
    except OverflowError:
        raise ValueError(f"out of range: {text!r}") from None
