"""Seeds 000 and 001's response deadlines and follow-up rules, and seed 002's follow-up states.

NEST's calendar: Monday to Friday 08:30-18:00, Saturday 09:00-13:00, Senegalese holidays, Dakar (UTC+0,
so the naive-UTC values below read as wall-clock times). 2 March 2026 is a Monday.
"""
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from webapp.rules.followups import (RULE_DEFAULTS, PlannedFollowUp, ProspectFacts, caught_up, due_followups,
                                    followup_state, next_actions, response_deadlines)
from webapp.rules.worktime import calendar_from_settings, last_working_moment
from webapp.services.defaults import FOLLOWUP_TYPES, SETTINGS

CAL = calendar_from_settings(SETTINGS["working_hours"], "SN", range(2026, 2028), "Africa/Dakar")
MONDAY = datetime(2026, 3, 2, 10, 0)


def facts(**overrides) -> ProspectFacts:
    """A hot prospect who asked a question on Monday 2 March at 10:00, not yet answered."""
    base = dict(id=7, temperature="hot", first_contact_at=MONDAY, last_interaction_at=MONDAY,
                last_inbound_at=MONDAY, created_at=MONDAY)
    return ProspectFacts(**{**base, **overrides})


def answered(at: datetime, **overrides) -> ProspectFacts:
    """The same prospect, answered at `at` (the answer is the last interaction)."""
    return facts(**{"answered_at": at, "last_outbound_at": at, "last_interaction_at": at, **overrides})


def plan(f: ProspectFacts, now: datetime, settings=SETTINGS) -> dict[str, PlannedFollowUp]:
    return {p.rule: p for p in due_followups(f, CAL, settings, now)}


# --- response deadlines ------------------------------------------------------------------------------

def test_the_first_answer_is_due_within_two_working_days_and_15_days():
    deadlines = response_deadlines(facts(first_contact_at=datetime(2026, 3, 6, 16)), CAL, SETTINGS)
    assert deadlines.target_at == datetime(2026, 3, 9, 16)  # Friday 16:00 -> Saturday, Monday 16:00
    assert deadlines.limit_at == datetime(2026, 3, 21, 16)


def test_a_saturday_afternoon_request_is_due_on_wednesday_morning():
    deadlines = response_deadlines(facts(first_contact_at=datetime(2026, 3, 7, 14, 8)), CAL, SETTINGS)
    assert deadlines.target_at == datetime(2026, 3, 11, 8, 30)


def test_a_business_may_count_the_target_in_opening_hours():
    hours = {**SETTINGS, "answer_target": {"count": 48, "unit": "working_hours"}}
    deadlines = response_deadlines(facts(first_contact_at=datetime(2026, 3, 6, 16)), CAL, hours)
    assert deadlines.target_at == datetime(2026, 3, 13, 12, 30)  # 48 opening hours: the next Friday
    first = plan(facts(first_contact_at=datetime(2026, 3, 6, 16)), datetime(2026, 3, 6, 16), hours)
    assert first["first_answer"].due_at == deadlines.target_at
    assert first["first_answer"].reason_params == {"count": 48, "unit": "working_hours"}


def test_a_warm_prospect_is_owed_the_same_deadlines():
    assert response_deadlines(facts(temperature="warm"), CAL, SETTINGS) is not None


def test_a_cold_prospect_is_owed_no_answer_deadline():
    assert response_deadlines(facts(temperature="cold"), CAL, SETTINGS) is None


# --- answers -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("temperature", ["hot", "warm"])
def test_an_unanswered_first_question_is_answered_by_the_target(temperature):
    planned = plan(facts(temperature=temperature), MONDAY)
    assert list(planned) == ["first_answer"]
    first = planned["first_answer"]
    assert first.due_at == datetime(2026, 3, 4, 10)  # Mon 10:00 + two working days: Wednesday 10:00
    assert first.type_code == "answer"
    assert (first.reason_code, first.reason_params) == ("first_answer", {"count": 2, "unit": "working_days"})


def test_an_answered_first_question_plans_no_answer():
    assert "first_answer" not in plan(answered(MONDAY + timedelta(hours=2)), MONDAY + timedelta(hours=3))


def test_a_new_question_within_15_days_is_answered_within_two_working_days():
    asked = datetime(2026, 3, 10, 17)
    f = answered(MONDAY + timedelta(hours=2), last_inbound_at=asked)
    f = replace(f, last_interaction_at=asked)
    planned = plan(f, asked)
    assert planned["answer_question"].due_at == datetime(2026, 3, 12, 17)  # Tuesday 17:00 -> Thursday
    assert planned["answer_question"].cause_key == f"answer_question:7:{asked.isoformat()}"


def test_a_question_after_the_15_days_is_not_a_rule_any_more():
    asked = MONDAY + timedelta(days=16)
    f = replace(answered(MONDAY + timedelta(hours=2)), last_inbound_at=asked, last_interaction_at=asked)
    assert "answer_question" not in plan(f, asked)


# --- hot: call after 48 h without interaction -----------------------------------------------------

HOT_SILENCE = [
    ("47 hours of silence is not enough", datetime(2026, 3, 4, 10, 59), None),
    ("48 hours of silence plans a call due then", datetime(2026, 3, 4, 11), datetime(2026, 3, 4, 11)),
    ("a week later the same call is still asked for", datetime(2026, 3, 9, 11), datetime(2026, 3, 4, 11)),
]


@pytest.mark.parametrize("now, due", [h[1:] for h in HOT_SILENCE], ids=[h[0] for h in HOT_SILENCE])
def test_hot_prospect_is_called_after_48_hours_without_interaction(now, due):
    planned = plan(answered(datetime(2026, 3, 2, 11)), now).get("hot_no_interaction_48h")
    assert (planned.due_at if planned else None) == due
    if planned:
        assert (planned.reason_code, planned.reason_params) == ("hot_no_interaction_48h", {"hours": 48})
        assert planned.type_code == "appointment_call"


def test_hot_silence_counts_clock_hours_and_the_call_waits_for_the_next_opening():
    # answered Friday 16:00: 48 h later is Sunday 16:00, the call is due Monday at opening.
    planned = plan(answered(datetime(2026, 3, 6, 16)), datetime(2026, 3, 8, 16))
    assert planned["hot_no_interaction_48h"].due_at == datetime(2026, 3, 9, 8, 30)


def test_hot_prospect_with_an_unanswered_question_gets_an_answer_not_a_call():
    assert list(plan(facts(), MONDAY + timedelta(days=3))) == ["first_answer"]


def test_hot_prospect_with_an_appointment_booked_is_not_called_to_book_one():
    f = answered(datetime(2026, 3, 2, 11), appointment_at=datetime(2026, 3, 12, 10))
    assert "hot_no_interaction_48h" not in plan(f, datetime(2026, 3, 5, 11))


def test_our_own_call_does_not_start_a_new_cause_but_a_new_message_from_the_prospect_does():
    before = plan(answered(datetime(2026, 3, 2, 11)), datetime(2026, 3, 4, 11))["hot_no_interaction_48h"]
    we_called = answered(datetime(2026, 3, 2, 11), last_interaction_at=datetime(2026, 3, 4, 11),
                         last_outbound_at=datetime(2026, 3, 4, 11))
    after_call = plan(we_called, datetime(2026, 3, 7, 11))["hot_no_interaction_48h"]
    assert after_call.cause_key == before.cause_key
    wrote_again = replace(we_called, last_inbound_at=datetime(2026, 3, 5, 9),
                          last_outbound_at=datetime(2026, 3, 5, 10),
                          last_interaction_at=datetime(2026, 3, 5, 10))
    assert plan(wrote_again, datetime(2026, 3, 7, 11))["hot_no_interaction_48h"].cause_key != before.cause_key


def test_the_silence_threshold_is_configuration():
    shorter = {**SETTINGS, "hot_silence_hours": 24}
    planned = plan(answered(datetime(2026, 3, 2, 11)), datetime(2026, 3, 3, 11), settings=shorter)
    assert planned["hot_no_interaction_48h"].reason_params == {"hours": 24}


# --- cold and requalification --------------------------------------------------------------------

def test_cold_is_never_called_whatever_it_asked():
    cold = answered(datetime(2026, 3, 2, 11), temperature="cold", qualification="quote",
                    appointment_at=datetime(2026, 3, 20, 10))
    for now in (MONDAY, datetime(2026, 3, 5, 12), datetime(2026, 3, 10, 12)):
        assert due_followups(cold, CAL, SETTINGS, now) == []
    assert due_followups(facts(temperature="cold"), CAL, SETTINGS, MONDAY) == []


REQUALIFIED = [
    ("on a Monday morning: by Wednesday morning", datetime(2026, 3, 2, 10), datetime(2026, 3, 4, 10)),
    ("on a Friday evening: by Saturday closing, still inside the 48 h",
     datetime(2026, 3, 6, 17), datetime(2026, 3, 7, 13)),
    ("on the eve of Independence Day: by Friday closing, the weekend being closed",
     datetime(2026, 4, 3, 12), datetime(2026, 4, 3, 18)),
]


@pytest.mark.parametrize("changed, due", [r[1:] for r in REQUALIFIED], ids=[r[0] for r in REQUALIFIED])
def test_requalified_hot_is_called_within_48_h(changed, due):
    f = ProspectFacts(id=7, temperature="hot", previous_temperature="cold",
                      temperature_changed_to_hot_at=changed,
                      first_contact_at=datetime(2026, 1, 5, 10), last_interaction_at=datetime(2026, 1, 5, 10),
                      created_at=datetime(2026, 1, 5, 10))
    planned = plan(f, changed + timedelta(hours=72))
    assert list(planned) == ["requalified_hot_48h"]  # not a second call for the old silence
    assert planned["requalified_hot_48h"].due_at == due
    assert planned["requalified_hot_48h"].reason_params == {"hours": 48}


def test_warm_turned_hot_is_not_a_requalification_but_gets_the_silence_call():
    changed = datetime(2026, 3, 2, 10)
    f = answered(datetime(2026, 2, 20, 10), previous_temperature="warm",
                 temperature_changed_to_hot_at=changed,
                 first_contact_at=datetime(2026, 2, 19, 10), last_inbound_at=datetime(2026, 2, 19, 10))
    planned = plan(f, datetime(2026, 3, 4, 10))
    assert list(planned) == ["hot_no_interaction_48h"]
    assert planned["hot_no_interaction_48h"].cause_key.endswith(changed.isoformat())


# --- warm: call back to qualify --------------------------------------------------------------------

def test_warm_prospect_is_called_back_to_qualify_48_hours_after_the_answer():
    planned = plan(answered(datetime(2026, 3, 2, 11), temperature="warm"), datetime(2026, 3, 2, 12))
    assert list(planned) == ["warm_qualify"]
    assert planned["warm_qualify"].due_at == datetime(2026, 3, 4, 11)
    assert planned["warm_qualify"].type_code == "qualify_call"


def test_warm_prospect_waits_for_the_answer_before_the_qualifying_call():
    assert list(plan(facts(temperature="warm"), MONDAY)) == ["first_answer"]


# --- quote and programme requests: call back 7 days after the answer ----------------------------

CALLBACKS = [
    ("a quote sent on Monday: by the next Monday",
     "quote", datetime(2026, 3, 2, 11), datetime(2026, 3, 9, 11)),
    ("programme information sent on Monday: by the next Monday",
     "programme", datetime(2026, 3, 2, 11), datetime(2026, 3, 9, 11)),
    ("sent Saturday afternoon: by Saturday closing a week later",
     "quote", datetime(2026, 3, 7, 15), datetime(2026, 3, 14, 13)),
    ("the seventh day is Independence Day: by the eve's closing",
     "quote", datetime(2026, 3, 28, 10), datetime(2026, 4, 3, 18)),
]


@pytest.mark.parametrize("qualification, sent, due", [c[1:] for c in CALLBACKS], ids=[c[0] for c in CALLBACKS])
def test_a_quote_or_programme_request_is_called_back_within_7_days_of_the_answer_that_carried_it(
        qualification, sent, due):
    rule = f"{qualification}_callback_7d"
    f = answered(sent - timedelta(days=1), qualification=qualification, information_sent_at=sent)
    planned = plan(f, sent + timedelta(hours=1))
    assert planned[rule].due_at == due
    assert planned[rule].cause_key == f"{rule}:7:{sent.isoformat()}"
    assert (planned[rule].reason_code, planned[rule].reason_params) == (rule, {"sent_at": sent.isoformat(),
                                                                               "days": 7})
    assert planned[rule].type_code == "callback_after_answer"


def test_a_quote_request_not_yet_answered_is_not_called_back_yet():
    assert "quote_callback_7d" not in plan(facts(qualification="quote"), MONDAY)


def test_a_quote_request_answered_without_the_quote_is_not_called_back():
    # Our first contact asked for her email: no quote has gone out, so no "quote sent" callback.
    f = answered(datetime(2026, 3, 2, 11), temperature="warm", qualification="quote")
    assert "quote_callback_7d" not in plan(f, datetime(2026, 3, 12, 11))


# --- appointment reminders ----------------------------------------------------------------------------

REMINDERS = [
    ("a Thursday appointment: by Wednesday closing",
     datetime(2026, 3, 12, 10), datetime(2026, 3, 4, 12), datetime(2026, 3, 11, 18)),
    ("a Monday appointment: by the Saturday half day's closing",
     datetime(2026, 3, 9, 10), datetime(2026, 3, 4, 12), datetime(2026, 3, 7, 13)),
    ("the Tuesday after Independence Day and Easter Monday: by Friday closing",
     datetime(2026, 4, 7, 10), datetime(2026, 3, 30, 12), datetime(2026, 4, 3, 18)),
    ("booked after the eve's closing: at the next opening before the appointment",
     datetime(2026, 3, 9, 10), datetime(2026, 3, 7, 14), datetime(2026, 3, 9, 8, 30)),
    ("booked too late to remind: nothing", datetime(2026, 3, 9, 8, 30), datetime(2026, 3, 8, 12), None),
    ("a past appointment: nothing", datetime(2026, 3, 3, 10), datetime(2026, 3, 4, 12), None),
]


@pytest.mark.parametrize("appointment, now, due", [r[1:] for r in REMINDERS], ids=[r[0] for r in REMINDERS])
def test_an_appointment_is_reminded_by_phone_the_working_day_before(appointment, now, due):
    f = answered(datetime(2026, 3, 2, 11), temperature="warm", qualification="appointment",
                 appointment_at=appointment)
    reminder = plan(f, now).get("appointment_reminder")
    assert (reminder.due_at if reminder else None) == due
    if reminder:
        assert reminder.type_code == "appointment_reminder"
        assert reminder.reason_params == {"appointment_at": appointment.isoformat()}
        assert reminder.cause_key == f"appointment_reminder:7:{appointment.isoformat()}"


def test_a_rescheduled_appointment_is_a_new_cause():
    f = answered(datetime(2026, 3, 2, 11), appointment_at=datetime(2026, 3, 12, 10))
    moved = replace(f, appointment_at=datetime(2026, 3, 13, 10))
    now = datetime(2026, 3, 3, 12)
    key, moved_key = (plan(x, now)["appointment_reminder"].cause_key for x in (f, moved))
    assert key != moved_key


# --- no rule at all --------------------------------------------------------------------------------------

BUSY = answered(datetime(2026, 3, 2, 11), qualification="quote", appointment_at=datetime(2026, 3, 20, 10),
               information_sent_at=datetime(2026, 3, 2, 11))
SILENT = [
    ("do not contact", replace(BUSY, do_not_contact=True)),
    ("converted", replace(BUSY, outcome="won")),
    ("lost", replace(BUSY, outcome="lost")),
]


@pytest.mark.parametrize("f", [s[1] for s in SILENT], ids=[s[0] for s in SILENT])
def test_no_rule_for_a_prospect_out_of_the_procedure(f):
    assert plan(BUSY, datetime(2026, 3, 9, 12))  # the same prospect, in the procedure, has follow-ups
    assert due_followups(f, CAL, SETTINGS, datetime(2026, 3, 9, 12)) == []


# --- keys, types, times -----------------------------------------------------------------------------------

def test_the_cause_key_is_stable_across_calls_with_the_same_facts_so_a_sweep_run_twice_plans_once():
    now = datetime(2026, 3, 9, 12)
    first = due_followups(BUSY, CAL, SETTINGS, now)
    again = due_followups(BUSY, CAL, SETTINGS, now + timedelta(hours=1))
    assert [p.cause_key for p in first] == [p.cause_key for p in again]
    assert [p.rule for p in first] == ["quote_callback_7d", "appointment_reminder"]
    assert first[0].cause_key == "quote_callback_7d:7:2026-03-02T11:00:00"


def test_aware_and_naive_utc_facts_give_the_same_cause_keys():
    aware = replace(BUSY, **{name: getattr(BUSY, name).replace(tzinfo=timezone.utc)
                             for name in ("first_contact_at", "last_interaction_at", "last_inbound_at",
                                          "last_outbound_at", "answered_at", "appointment_at", "created_at",
                                          "information_sent_at")})
    now = datetime(2026, 3, 9, 12)
    assert due_followups(aware, CAL, SETTINGS, now) == due_followups(BUSY, CAL, SETTINGS, now)


def test_every_rule_names_a_seeded_followup_type_by_its_code():
    seeded = {code for *_, code in FOLLOWUP_TYPES}
    assert set(RULE_DEFAULTS["rule_types"].values()) <= seeded


def test_planned_followups_are_due_inside_opening_hours():
    f = answered(datetime(2026, 3, 6, 17, 30), qualification="programme",
                 appointment_at=datetime(2026, 3, 16, 9))
    for now in (datetime(2026, 3, 6, 18), datetime(2026, 3, 8, 23), datetime(2026, 3, 12, 12)):
        for planned in due_followups(f, CAL, SETTINGS, now):
            assert last_working_moment(CAL, planned.due_at) == planned.due_at, planned


# --- follow-up states (seed 002) --------------------------------------------------------------------

DUE = datetime(2026, 3, 2, 10)
STATES = [
    ("before its date it is planned", datetime(2026, 3, 1, 12), None, "planned"),
    ("on its day, even past its hour, it is still to do", datetime(2026, 3, 2, 17), None, "planned"),
    ("the day after, it is overdue", datetime(2026, 3, 3, 0, 1), None, "overdue"),
    ("six days late, still overdue", datetime(2026, 3, 8, 23, 59), None, "overdue"),
    ("seven days late, abandoned", datetime(2026, 3, 9, 0, 0), None, "abandoned"),
    ("done late is done", datetime(2026, 3, 20), datetime(2026, 3, 12), "done"),
]


@pytest.mark.parametrize("now, done_at, expected", [s[1:] for s in STATES], ids=[s[0] for s in STATES])
def test_followup_state_boundaries(now, done_at, expected):
    assert followup_state(DUE, done_at, now, SETTINGS["abandon_after_days"], tz="Africa/Dakar") == expected


def test_followup_state_counts_days_in_the_business_timezone():
    due = datetime(2026, 3, 2, 23, 30)  # 00:30 on 3 March in Paris
    now = datetime(2026, 3, 3, 22, 0)   # 23:00 on 3 March in Paris
    assert followup_state(due, None, now, 7, tz="Europe/Paris") == "planned"
    assert followup_state(due, None, now, 7, tz="Africa/Dakar") == "overdue"


def test_a_paris_calendar_plans_in_paris_hours():
    paris = calendar_from_settings(SETTINGS["working_hours"], "FR", range(2026, 2027), "Europe/Paris")
    f = facts(first_contact_at=datetime(2026, 3, 27, 15))  # Friday 16:00 in Paris, before spring forward
    target = response_deadlines(f, paris, SETTINGS).target_at
    assert target == datetime(2026, 3, 30, 14)  # Saturday is day one; Monday 16:00 CEST
    assert date(2026, 4, 3) not in paris.holidays


def test_a_follow_up_born_late_is_nobodys_abandonment_on_its_first_days():
    due, planned = datetime(2026, 6, 18, 10), datetime(2026, 12, 1, 9)
    assert followup_state(due, None, datetime(2026, 12, 1, 17), 7, tz="Africa/Dakar", planned_at=planned) == "overdue"
    assert followup_state(due, None, datetime(2026, 12, 7, 17), 7, tz="Africa/Dakar", planned_at=planned) == "overdue"
    assert followup_state(due, None, datetime(2026, 12, 8, 9), 7, tz="Africa/Dakar", planned_at=planned) == "abandoned"


# --- one next action, not a pile (seed 004) ------------------------------------------------------------

SATURDAY_AFTERNOON = datetime(2026, 12, 5, 14, 8)     # closed: the next opening is Monday 7 December 08:30
CATCH_UP = [
    ("a hot prospect silent since June is called once, at the next opening",
     answered(datetime(2026, 6, 15, 11)), SATURDAY_AFTERNOON, "hot_no_interaction_48h",
     datetime(2026, 6, 17, 11), datetime(2026, 12, 7, 8, 30)),
    ("a fresh install with imported history answers the May question at the next opening",
     facts(temperature="warm", first_contact_at=datetime(2026, 5, 12, 9), last_interaction_at=datetime(2026, 5, 12, 9),
           last_inbound_at=datetime(2026, 5, 12, 9), created_at=datetime(2026, 12, 5, 10)),
     datetime(2026, 12, 7, 10), "first_answer", datetime(2026, 5, 15, 9), datetime(2026, 12, 7, 10)),  # Ascension
    ("after three days of downtime a Monday question is answered on Thursday's first pass",
     facts(first_contact_at=MONDAY, last_interaction_at=MONDAY, last_inbound_at=MONDAY),
     datetime(2026, 3, 5, 19), "first_answer", datetime(2026, 3, 4, 10), datetime(2026, 3, 6, 8, 30)),
]


@pytest.mark.parametrize("f, now, rule, was_due, due", [c[1:] for c in CATCH_UP], ids=[c[0] for c in CATCH_UP])
def test_a_cause_seen_after_its_due_day_is_planned_once_at_the_next_opening(f, now, rule, was_due, due):
    planned = next_actions(due_followups(f, CAL, SETTINGS, now), None, CAL, now)
    assert [(p.rule, p.due_at) for p in planned] == [(rule, due)]
    assert planned[0].caught_up and planned[0].reason_params["planned_for"] == was_due.isoformat()
    # The cause key is the cause's, not the catch-up's: the next pass plans nothing more.
    assert planned[0].cause_key == due_followups(f, CAL, SETTINGS, now + timedelta(days=3))[0].cause_key


def test_a_follow_up_due_earlier_today_is_still_todays_not_a_catch_up():
    planned = PlannedFollowUp("hot_no_interaction_48h", "k", "appointment_call", datetime(2026, 3, 4, 9), "x")
    assert caught_up(planned, CAL, datetime(2026, 3, 4, 17)) == planned


def test_a_persons_plan_due_no_later_than_the_rule_suppresses_the_rule():
    asked = due_followups(facts(), CAL, SETTINGS, MONDAY)     # first answer due Wednesday 10:00
    assert next_actions(asked, datetime(2026, 3, 3, 9), CAL, MONDAY) == []
    assert next_actions(asked, datetime(2026, 3, 4, 10), CAL, MONDAY) == []
    later = next_actions(asked, datetime(2026, 3, 6, 9), CAL, MONDAY)
    assert [p.rule for p in later] == ["first_answer"]       # the person's plan comes after the deadline


def test_the_rules_plan_one_next_action_at_a_time_the_soonest():
    now = datetime(2026, 3, 9, 12)
    asked = due_followups(BUSY, CAL, SETTINGS, now)
    assert len(asked) == 2
    assert [p.rule for p in next_actions(asked, None, CAL, now)] == ["quote_callback_7d"]
