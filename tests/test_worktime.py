"""The business calendar (seed 000: "48 heures ouvrés", two working days as the clinic reads it): weekends,
Senegalese holidays, Saturday half days, times outside opening hours, and a Paris calendar across both
daylight-saving changes. Opening-hour arithmetic stays for a business that counts its target in hours.

NEST's week: Monday to Friday 08:30-18:00 (9.5 h), Saturday 09:00-13:00 (4 h), Sunday closed. Dakar is
UTC+0, so for the NEST calendar the naive-UTC values below are also the wall-clock times.
"""
import time as clock
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from webapp.rules.worktime import (Calendar, add_calendar_days, add_working_days, add_working_hours,
                                   add_working_time, calendar_from_settings, is_open, last_working_moment,
                                   next_opening, working_hours_between)
from webapp.services.defaults import SETTINGS

HOURS = SETTINGS["working_hours"]
NEST = calendar_from_settings(HOURS, "SN", range(2026, 2028), "Africa/Dakar")
PARIS = calendar_from_settings(HOURS, "FR", range(2026, 2028), "Europe/Paris")
PARIS_TZ = ZoneInfo("Europe/Paris")


def dt(*args) -> datetime:
    return datetime(*args)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS_TZ)


# --- the holidays package's Senegal list, in French --------------------------------------------------

SENEGAL_2026 = [
    (date(2026, 4, 4), "Fête de l'Indépendance"),
    (date(2026, 4, 6), "Lundi de Pâques"),
    (date(2026, 5, 1), "Fête du Travail"),
    (date(2026, 3, 20), "Journée de la Korité (estimé)"),
    (date(2026, 5, 27), "Journée de la Tabaski (estimé)"),
]


@pytest.mark.parametrize("day, name", SENEGAL_2026, ids=[n for _, n in SENEGAL_2026])
def test_senegalese_public_holidays_come_from_the_holidays_package_with_french_names(day, name):
    assert NEST.holidays[day] == name


def test_a_paris_calendar_gets_french_holidays():
    assert PARIS.holidays[date(2026, 7, 14)] == "Fête nationale"


# --- two working days: "sous 48 heures ouvrées" as the clinic reads it ------------------------------------

WORKING_DAYS = [
    # (what a person would say, start, days, expected)
    ("a weekday question on Monday at 10:00 is due Wednesday at 10:00",
     dt(2026, 3, 2, 10), 2, dt(2026, 3, 4, 10)),
    ("Friday afternoon counts the Saturday half day and lands on Monday afternoon",
     dt(2026, 3, 6, 16), 2, dt(2026, 3, 9, 16)),
    ("Thursday 15:00 lands on Saturday after its closing, so at its close",
     dt(2026, 3, 5, 15), 2, dt(2026, 3, 7, 13)),
    ("Saturday 14:08, after closing, counts from Monday's opening: Wednesday 08:30",
     dt(2026, 3, 7, 14, 8), 2, dt(2026, 3, 11, 8, 30)),
    ("on the eve of Independence Day the holiday, Sunday and Easter Monday are skipped",
     dt(2026, 4, 3, 10), 2, dt(2026, 4, 8, 10)),
    ("a request during the night counts from the morning's opening",
     dt(2026, 3, 10, 23), 2, dt(2026, 3, 13, 8, 30)),
    ("a request before opening counts from the opening",
     dt(2026, 3, 2, 6), 2, dt(2026, 3, 4, 8, 30)),
    ("Labour Day (Friday 1 May) is skipped",
     dt(2026, 4, 30, 11), 2, dt(2026, 5, 4, 11)),
    ("zero days from a closed moment is the next opening",
     dt(2026, 3, 8, 10), 0, dt(2026, 3, 9, 8, 30)),
]


@pytest.mark.parametrize("start, days, expected", [w[1:] for w in WORKING_DAYS], ids=[w[0] for w in WORKING_DAYS])
def test_adding_working_days_on_nest_calendar(start, days, expected):
    assert add_working_days(NEST, start, days) == expected


def test_two_working_days_in_paris_keep_the_local_clock_time_across_dst():
    # Friday 27 March 16:00 CET: Saturday is day one, Monday 30 March 16:00 CEST day two.
    assert add_working_days(PARIS, paris(2026, 3, 27, 16), 2) == dt(2026, 3, 30, 14)


@pytest.mark.parametrize("unit, count, expected", [("working_days", 2, dt(2026, 3, 9, 16)),
                                                   ("working_hours", 48, dt(2026, 3, 13, 12, 30))])
def test_the_unit_of_working_time_is_configuration(unit, count, expected):
    assert add_working_time(NEST, dt(2026, 3, 6, 16), count, unit) == expected


def test_an_unknown_unit_or_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_time(NEST, dt(2026, 3, 6, 16), 2, "fortnights")
    with pytest.raises(ValueError):
        add_working_days(NEST, dt(2026, 3, 6, 16), -1)


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=dt(2026, 1, 1), max_value=dt(2026, 12, 31)),
       days=st.integers(min_value=0, max_value=20))
def test_working_days_land_inside_opening_hours_and_never_before_the_start(start, days):
    for cal in (NEST, PARIS):
        end = add_working_days(cal, start, days)
        assert end >= start and last_working_moment(cal, end) == end


# --- adding working hours ------------------------------------------------------------------------------

ADDITIONS = [
    # (what a person would say, start, hours, expected)
    ("48 working hours from Friday 16:00 land the next Friday at 12:30",
     dt(2026, 3, 6, 16), 48, dt(2026, 3, 13, 12, 30)),
    ("Friday 17:00 plus 2 hours is Saturday 10:00",
     dt(2026, 3, 6, 17), 2, dt(2026, 3, 7, 10)),
    ("Saturday closes at 13:00 so Saturday 12:00 plus 2 hours is Monday 09:30",
     dt(2026, 3, 7, 12), 2, dt(2026, 3, 9, 9, 30)),
    ("Saturday 12:30 plus 1 hour is Monday 09:00",
     dt(2026, 3, 7, 12, 30), 1, dt(2026, 3, 9, 9)),
    ("Independence Day (Saturday 4 April) and Easter Monday are skipped",
     dt(2026, 4, 3, 17), 2, dt(2026, 4, 7, 9, 30)),
    ("48 working hours from the Thursday before Independence Day land the next Friday at 16:30",
     dt(2026, 4, 2, 16), 48, dt(2026, 4, 10, 16, 30)),
    ("Labour Day (Friday 1 May) is skipped, the Saturday half day counts",
     dt(2026, 4, 30, 17), 2, dt(2026, 5, 2, 10)),
    ("the eve of a holiday is a full working day",
     dt(2026, 4, 3, 8, 30), 9.5, dt(2026, 4, 3, 18)),
    ("a count that uses the day up ends at closing time, not next morning",
     dt(2026, 3, 9, 17), 1, dt(2026, 3, 9, 18)),
    ("a start before opening counts from the opening",
     dt(2026, 3, 9, 6), 1, dt(2026, 3, 9, 9, 30)),
    ("a start after closing counts from the next morning",
     dt(2026, 3, 10, 20), 1, dt(2026, 3, 11, 9, 30)),
    ("a start on Sunday counts from Monday's opening",
     dt(2026, 3, 8, 10), 1, dt(2026, 3, 9, 9, 30)),
    ("zero hours from a closed moment is the next opening",
     dt(2026, 3, 8, 10), 0, dt(2026, 3, 9, 8, 30)),
    ("zero hours from an open moment is that moment",
     dt(2026, 3, 9, 11), 0, dt(2026, 3, 9, 11)),
]


@pytest.mark.parametrize("start, hours, expected", [a[1:] for a in ADDITIONS], ids=[a[0] for a in ADDITIONS])
def test_adding_working_hours_on_nest_calendar(start, hours, expected):
    assert add_working_hours(NEST, start, hours) == expected


PARIS_ADDITIONS = [
    ("spring forward: Friday 16:00 CET plus 10 hours is Monday 12:30 CEST",
     paris(2026, 3, 27, 16), 10, dt(2026, 3, 30, 10, 30)),
    ("fall back: Friday 16:00 CEST plus 10 hours is Monday 12:30 CET",
     paris(2026, 10, 23, 16), 10, dt(2026, 10, 26, 11, 30)),
    ("a naive start is read as UTC: Friday 15:00 UTC is 16:00 in Paris",
     dt(2026, 3, 27, 15), 10, dt(2026, 3, 30, 10, 30)),
    ("Easter Monday is a French holiday too",
     paris(2026, 4, 4, 12), 2, dt(2026, 4, 7, 7, 30)),
]


@pytest.mark.parametrize("start, hours, expected", [a[1:] for a in PARIS_ADDITIONS],
                         ids=[a[0] for a in PARIS_ADDITIONS])
def test_adding_working_hours_in_paris_follows_local_opening_hours_across_dst(start, hours, expected):
    result = add_working_hours(PARIS, start, hours)
    assert result == expected
    assert result.tzinfo is None  # results are naive UTC, the stored form


def test_an_aware_start_and_its_naive_utc_form_give_the_same_result():
    aware = datetime(2026, 3, 6, 16, tzinfo=timezone.utc)
    assert add_working_hours(NEST, aware, 48) == add_working_hours(NEST, dt(2026, 3, 6, 16), 48)


def test_forty_eight_hours_across_a_ten_day_closure_is_fast_and_right():
    closure = [(date(2026, 12, 19) + timedelta(days=n), "Fermeture annuelle", True) for n in range(10)]
    cal = calendar_from_settings(HOURS, "SN", range(2026, 2028), "Africa/Dakar", overrides=closure)
    started = clock.perf_counter()
    for _ in range(200):
        result = add_working_hours(cal, dt(2026, 12, 18, 16), 48)
    assert clock.perf_counter() - started < 1.0
    # Fri 18 Dec: 2 h; closed 19-28 Dec; Tue 29 to Thu 31: 28.5 h (30.5 h); 1 Jan is New Year's Day;
    # Sat 2 Jan: 4 h; Mon 4 Jan: 9.5 h (44 h); Tue 5 Jan 08:30 + 4 h.
    assert result == dt(2027, 1, 5, 12, 30)


def test_negative_hours_are_refused():
    with pytest.raises(ValueError):
        add_working_hours(NEST, dt(2026, 3, 9, 10), -1)


def test_a_calendar_that_never_opens_is_refused_instead_of_looping():
    with pytest.raises(ValueError):
        add_working_hours(Calendar(hours={}, holidays=set(), tz="UTC"), dt(2026, 3, 9, 10), 1)


# --- counting working hours between two instants -----------------------------------------------------

BETWEEN = [
    ("a weekend counts only Saturday morning", dt(2026, 3, 6, 16), dt(2026, 3, 9, 10), 2 + 4 + 1.5),
    ("Friday 16:00 to the next Friday 12:30 is 48 hours", dt(2026, 3, 6, 16), dt(2026, 3, 13, 12, 30), 48),
    ("a holiday weekend counts nothing", dt(2026, 4, 3, 18), dt(2026, 4, 7, 8, 30), 0),
    ("the night counts nothing", dt(2026, 3, 9, 18), dt(2026, 3, 10, 8, 30), 0),
    ("backwards is negative", dt(2026, 3, 9, 12), dt(2026, 3, 9, 10), -2),
]


@pytest.mark.parametrize("start, end, expected", [b[1:] for b in BETWEEN], ids=[b[0] for b in BETWEEN])
def test_working_hours_between_two_instants(start, end, expected):
    assert working_hours_between(NEST, start, end) == pytest.approx(expected)


def test_working_hours_between_in_paris_are_real_hours_across_dst():
    # Fri 27 March 08:30 CET to Mon 30 March 18:00 CEST: 9.5 + 4 + 9.5.
    hours = working_hours_between(PARIS, paris(2026, 3, 27, 8, 30), paris(2026, 3, 30, 18))
    assert hours == pytest.approx(23)


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=dt(2026, 1, 1), max_value=dt(2026, 12, 31)),
       hours=st.floats(min_value=0, max_value=300, allow_nan=False))
def test_counting_back_the_hours_added_gives_the_same_hours(start, hours):
    for cal in (NEST, PARIS):
        end = add_working_hours(cal, start, hours)
        assert working_hours_between(cal, start, end) == pytest.approx(hours, abs=1e-5)
        assert last_working_moment(cal, end) == end  # the result lies in opening hours


# --- open, next opening, last working moment ------------------------------------------------------

OPEN = [
    ("Monday at opening", dt(2026, 3, 9, 8, 30), True),
    ("Monday at closing", dt(2026, 3, 9, 18), False),
    ("Saturday at 12:59", dt(2026, 3, 7, 12, 59), True),
    ("Saturday at 13:00", dt(2026, 3, 7, 13), False),
    ("Sunday", dt(2026, 3, 8, 10), False),
    ("Independence Day", dt(2026, 4, 4, 10), False),
    ("the eve of Independence Day", dt(2026, 4, 3, 17), True),
]


@pytest.mark.parametrize("moment, expected", [o[1:] for o in OPEN], ids=[o[0] for o in OPEN])
def test_is_open(moment, expected):
    assert is_open(NEST, moment) is expected


def test_the_next_opening_after_friday_closing_is_saturday_morning():
    assert next_opening(NEST, dt(2026, 3, 6, 18)) == dt(2026, 3, 7, 9)


def test_the_next_opening_in_paris_is_in_paris_time():
    assert next_opening(PARIS, paris(2026, 3, 28, 13)) == dt(2026, 3, 30, 6, 30)  # 08:30 CEST


def test_the_last_working_moment_before_sunday_is_saturday_closing():
    assert last_working_moment(NEST, dt(2026, 3, 8, 10)) == dt(2026, 3, 7, 13)
    assert last_working_moment(NEST, dt(2026, 3, 9, 10)) == dt(2026, 3, 9, 10)


def test_seven_calendar_days_keep_the_local_time_across_dst():
    assert add_calendar_days(PARIS, paris(2026, 3, 25, 10), 7) == dt(2026, 4, 1, 8)  # 10:00 CEST


# --- overrides: the admin fixes estimated Islamic holidays ---------------------------------------

def test_an_override_reopens_an_estimated_holiday_and_closes_the_announced_day():
    overrides = [(date(2026, 3, 20), "", False), (date(2026, 3, 21), "Korité", True)]
    cal = calendar_from_settings(HOURS, "SN", range(2026, 2027), "Africa/Dakar", overrides=overrides)
    assert is_open(cal, dt(2026, 3, 20, 10))
    assert not is_open(cal, dt(2026, 3, 21, 10))
    assert cal.holidays[date(2026, 3, 21)] == "Korité"
    assert not is_open(NEST, dt(2026, 3, 20, 10))  # the package's estimate, without the override


def test_a_calendar_accepts_a_plain_set_of_closed_days():
    cal = calendar_from_settings(HOURS, None, range(2026, 2027), "Africa/Dakar")
    plain = Calendar(hours=cal.hours, holidays={date(2026, 3, 9)}, tz="Africa/Dakar")
    assert not is_open(plain, dt(2026, 3, 9, 10))
    assert is_open(cal, dt(2026, 4, 6, 10))  # no country: Easter Monday is worked
