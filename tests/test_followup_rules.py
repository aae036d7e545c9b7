"""Seeds 000 and 001's response deadlines and follow-up rules, and seed 002's follow-up states.

NEST's calendar: Monday to Friday 08:30-18:00, Saturday 09:00-13:00, Senegalese holidays, Dakar (UTC+0,
so the naive-UTC values below read as wall-clock times). 2 March 2026 is a Monday.
"""
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from webapp.rules.followups import (RULE_DEFAULTS, PlannedFollowUp, ProspectFacts, due_followups,
                                    followup_state, response_deadlines)
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

def test_the_first_answer_is_due_within_48_working_hours_and_15_days():
    deadlines = response_deadlines(facts(first_contact_at=datetime(2026, 3, 6, 16)), CAL, SETTINGS)
    assert deadlines.target_at == datetime(2026, 3, 13, 12, 30)  # Friday 16:00 -> next Friday 12:30
    assert deadlines.limit_at == datetime(2026, 3, 21, 16)


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
    assert first.due_at == datetime(2026, 3, 7, 11)  # Mon 10:00 + 48 working hours: Saturday 11:00
    assert first.type_name == "Réponse à la demande"
    assert first.reason_fr == "Première question sans réponse : répondre sous 48 h ouvrées"


def test_an_answered_first_question_plans_no_answer():
    assert "first_answer" not in plan(answered(MONDAY + timedelta(hours=2)), MONDAY + timedelta(hours=3))


def test_a_new_question_within_15_days_is_answered_within_48_working_hours():
    asked = datetime(2026, 3, 10, 17)
    f = answered(MONDAY + timedelta(hours=2), last_inbound_at=asked)
    f = replace(f, last_interaction_at=asked)
    planned = plan(f, asked)
    assert planned["answer_question"].due_at == datetime(2026, 3, 17, 13, 30)
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
        assert planned.reason_fr == "Chaud sans interaction depuis 48 h : appeler pour proposer un RDV"
        assert planned.type_name == "Appel pour proposer un RDV"


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
    assert planned["hot_no_interaction_48h"].reason_fr.startswith("Chaud sans interaction depuis 24 h")


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
    assert planned["requalified_hot_48h"].reason_fr == "Requalifié de froid à chaud : appeler sous 48 h"


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
    assert planned["warm_qualify"].type_name == "Rappel de qualification"


def test_warm_prospect_waits_for_the_answer_before_the_qualifying_call():
    assert list(plan(facts(temperature="warm"), MONDAY)) == ["first_answer"]


# --- quote and programme requests: call back 7 days after the answer ----------------------------

CALLBACKS = [
    ("a quote answered on Monday: by the next Monday",
     "quote", datetime(2026, 3, 2, 11), datetime(2026, 3, 9, 11), "Devis / tarifs envoyés le 02/03"),
    ("a programme answered on Monday: by the next Monday",
     "programme", datetime(2026, 3, 2, 11), datetime(2026, 3, 9, 11),
     "Informations sur le programme envoyées le 02/03"),
    ("answered Saturday afternoon: by Saturday closing a week later",
     "quote", datetime(2026, 3, 7, 15), datetime(2026, 3, 14, 13), "Devis / tarifs envoyés le 07/03"),
    ("the seventh day is Independence Day: by the eve's closing",
     "quote", datetime(2026, 3, 28, 10), datetime(2026, 4, 3, 18), "Devis / tarifs envoyés le 28/03"),
]


@pytest.mark.parametrize("qualification, answer, due, sent", [c[1:] for c in CALLBACKS],
                         ids=[c[0] for c in CALLBACKS])
def test_a_quote_or_programme_request_is_called_back_within_7_days_of_the_answer(qualification, answer, due,
                                                                                  sent):
    rule = f"{qualification}_callback_7d"
    planned = plan(answered(answer, qualification=qualification), answer + timedelta(hours=1))
    assert planned[rule].due_at == due
    assert planned[rule].reason_fr == f"{sent} : rappeler sous 7 jours"
    assert planned[rule].type_name == "Rappel après devis / information"


def test_a_quote_request_not_yet_answered_is_not_called_back_yet():
    assert "quote_callback_7d" not in plan(facts(qualification="quote"), MONDAY)


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
        assert reminder.type_name == "Rappel de RDV"
        assert reminder.cause_key == f"appointment_reminder:7:{appointment.isoformat()}"


def test_a_rescheduled_appointment_is_a_new_cause():
    f = answered(datetime(2026, 3, 2, 11), appointment_at=datetime(2026, 3, 12, 10))
    moved = replace(f, appointment_at=datetime(2026, 3, 13, 10))
    now = datetime(2026, 3, 3, 12)
    key, moved_key = (plan(x, now)["appointment_reminder"].cause_key for x in (f, moved))
    assert key != moved_key


# --- no rule at all --------------------------------------------------------------------------------------

BUSY = answered(datetime(2026, 3, 2, 11), qualification="quote", appointment_at=datetime(2026, 3, 20, 10))
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
                                          "last_outbound_at", "answered_at", "appointment_at", "created_at")})
    now = datetime(2026, 3, 9, 12)
    assert due_followups(aware, CAL, SETTINGS, now) == due_followups(BUSY, CAL, SETTINGS, now)


def test_every_rule_names_a_seeded_followup_type():
    seeded = {name for name, *_ in FOLLOWUP_TYPES}
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
    assert target == datetime(2026, 4, 3, 10, 30)  # next Friday 12:30 CEST
    assert date(2026, 4, 3) not in paris.holidays
