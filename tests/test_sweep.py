"""The sweep: activity statuses set-based with history, rule follow-ups planned once, `relance sweep --as-of`."""
from datetime import datetime, timedelta

import pytest

from tests import factories as make
from webapp.models import ActivityStatusChange, FollowUp, Prospect, database
from webapp.rules.activity import activity_status
from webapp.services.defaults import setting
from webapp.services.next_action import refresh_next_action
from webapp.services.prospects import add_interaction, set_do_not_contact
from webapp.services.sweep import run_sweep, sweep_activity
from webapp.services.tokens import create_token
from webapp.reasons import reason_text

AS_OF = datetime(2026, 11, 30, 12, 0)
T0 = datetime(2026, 11, 2, 9, 0)        # a Monday morning in Dakar (UTC+0)
# seed 000 (DESIGN "Activity status"): days since the last interaction -> status, per temperature.
BOUNDARIES = [
    ("hot", 14, "normal"), ("hot", 15, "dormant"), ("hot", 30, "dormant"), ("hot", 31, "lost"),
    ("warm", 29, "normal"), ("warm", 30, "dormant"), ("warm", 60, "dormant"), ("warm", 61, "lost"),
    ("cold", 59, "normal"), ("cold", 60, "dormant"), ("cold", 90, "dormant"), ("cold", 91, "lost"),
]


def _prospect(temperature, last_interaction_at, **fields) -> Prospect:
    """A prospect long known (200 days), whose last interaction was at `last_interaction_at`."""
    return make.bare_prospect(temperature=temperature, last_interaction_at=last_interaction_at,
                              created_at=AS_OF - timedelta(days=200), **fields)


def _contact(temperature="hot", at=T0, user=None, direction="in", **fields) -> Prospect:
    return make.prospect(user, at=at, first_name="Fatou", last_name="Sarr", temperature=temperature,
                         direction=direction, **fields)


def _answer(prospect, at):
    add_interaction(prospect, channel="phone", direction="out", occurred_at=at, now=at)


def _status(prospect) -> str:
    return Prospect.get_by_id(prospect.id).activity_status


def test_each_activity_threshold_boundary_through_the_sql_sweep(any_ctx):
    rows = [(_prospect(t, AS_OF - timedelta(days=days)), expected) for t, days, expected in BOUNDARIES]

    changes = run_sweep(AS_OF).activity_changes

    for (prospect, expected), (temperature, days, _) in zip(rows, BOUNDARIES):
        assert _status(prospect) == expected, f"{temperature} after {days} days"
    assert changes == {"lost": 3, "dormant": 6, "normal": 0}


def test_history_rows_are_written_only_when_the_status_changes(any_ctx):
    rows = [(_prospect(t, AS_OF - timedelta(days=days)), expected) for t, days, expected in BOUNDARIES]

    sweep_activity(AS_OF)
    again = sweep_activity(AS_OF)

    for prospect, expected in rows:
        history = [(c.old, c.new, c.changed_at) for c in
                   ActivityStatusChange.select().where(ActivityStatusChange.prospect == prospect.id)]
        assert history == ([] if expected == "normal" else [("normal", expected, AS_OF)])
    assert again == {"lost": 0, "dormant": 0, "normal": 0}


def test_the_sql_sweep_agrees_with_the_pure_rule_on_a_table_of_cases(any_ctx):
    thresholds = setting("activity_thresholds")
    offsets = [timedelta(days=d, hours=h, seconds=s) for d in (0, 14, 15, 29, 30, 31, 59, 60, 61, 90, 91, 200)
               for h, s in ((0, 0), (0, -1), (23, 59 * 60 + 59), (0, 1))]
    offsets += [timedelta(days=-2)]     # an interaction dated after as_of
    cases = [_prospect(t, AS_OF - offset) for t in ("hot", "warm", "cold") for offset in offsets]
    cases.append(_prospect("warm", None))
    lost = _prospect("hot", AS_OF - timedelta(days=5), activity_status="lost")   # back to normal

    sweep_activity(AS_OF)

    for prospect in cases + [lost]:
        expected = activity_status(prospect.temperature, prospect.last_interaction_at, AS_OF, thresholds)
        assert _status(prospect) == expected, (prospect.temperature, AS_OF - (prospect.last_interaction_at or AS_OF))


def test_closed_prospects_keep_their_activity_status(any_ctx):
    won = _prospect("hot", AS_OF - timedelta(days=100), outcome="won")

    sweep_activity(AS_OF)

    assert _status(won) == "normal"


def test_a_new_interaction_brings_back_normal_and_the_sweep_keeps_it(any_ctx):
    prospect = _contact("hot", at=T0)
    run_sweep(T0 + timedelta(days=20))
    assert _status(prospect) == "dormant"

    add_interaction(Prospect.get_by_id(prospect.id), channel="phone", direction="in",
                    occurred_at=T0 + timedelta(days=21), now=T0 + timedelta(days=21))
    run_sweep(T0 + timedelta(days=22))

    assert _status(prospect) == "normal"
    history = [(c.old, c.new) for c in ActivityStatusChange.select()
               .where(ActivityStatusChange.prospect == prospect.id).order_by(ActivityStatusChange.id)]
    assert history == [("normal", "dormant"), ("dormant", "normal")]


def test_a_hot_prospect_silent_for_48_hours_gets_a_call_with_its_reason(any_ctx):
    owner = make.user("secretary", email="codou@clinic.test", name="Codou")
    prospect = _contact("hot", at=T0, user=owner)
    _answer(prospect, T0 + timedelta(hours=1))

    run_sweep(T0 + timedelta(hours=48))
    assert not FollowUp.select().where(FollowUp.rule == "hot_no_interaction_48h").exists()
    result = run_sweep(T0 + timedelta(hours=50))

    followup = FollowUp.get(FollowUp.prospect == prospect.id)
    assert result.followups_created == 1
    assert followup.rule == "hot_no_interaction_48h"
    assert (followup.reason_code, followup.reason_params) == ("hot_no_interaction_48h", {"hours": 48})
    assert reason_text(followup) == "Chaud sans interaction depuis 48 h : appeler pour proposer un RDV"
    assert followup.type.name == "Appel pour proposer un RDV"
    assert followup.owner_id == owner.id and followup.value == "hot" and followup.state == "planned"
    assert followup.due_at >= T0 + timedelta(hours=49)


def test_a_written_question_waits_for_an_answer_while_a_call_is_answered_on_the_spot(any_ctx):
    written = _contact("warm", at=T0, channel="whatsapp")
    called = _contact("warm", at=T0, channel="phone")

    run_sweep(T0 + timedelta(hours=2))

    planned = {f.prospect_id: f.rule for f in FollowUp.select()}
    assert planned == {written.id: "first_answer", called.id: "warm_qualify"}


def test_a_booked_appointment_gets_a_reminder_call_the_working_day_before(any_ctx):
    from webapp.models import FollowUpType
    prospect = _contact("warm", at=T0, qualification="appointment")
    _answer(prospect, T0 + timedelta(hours=1))
    appointment = datetime(2026, 11, 6, 10, 0)        # Friday 10:00: the reminder is due Thursday
    FollowUp.create(prospect=prospect.id, type=FollowUpType.get(FollowUpType.action == "appointment"),
                    due_at=appointment)
    run_sweep(T0 + timedelta(hours=2))
    reminder = FollowUp.get(FollowUp.rule == "appointment_reminder")
    assert reminder.type.name == "Rappel de RDV" and reminder.due_at < appointment
    assert reminder.due_at.date() == datetime(2026, 11, 5).date()


def _rule_followups(prospect, rule=None):
    query = FollowUp.select().where((FollowUp.prospect == prospect.id) & FollowUp.rule.is_null(False))
    return list(query.where(FollowUp.rule == rule) if rule else query)


def test_a_persons_plan_suppresses_the_rule_and_the_rule_comes_back_when_it_is_cancelled(any_ctx):
    from webapp.models import FollowUpType
    from webapp.services.followups import plan_followup

    owner = make.user("secretary", email="aminata@clinic.test", name="Aminata")
    prospect = _contact("hot", at=T0, user=owner)
    _answer(prospect, T0 + timedelta(hours=1))
    call = FollowUpType.get(FollowUpType.code == "appointment_call")
    # She plans a call for Tuesday, before the rule's 48 h: her plan is the prospect's next action.
    mine = plan_followup(prospect, call, owner, T0 + timedelta(days=1), "hot", "Rappeler après 17h", owner,
                         T0 + timedelta(hours=2))

    run_sweep(T0 + timedelta(hours=50))
    assert _rule_followups(prospect) == []

    with database.atomic():
        FollowUp.update(state="cancelled", done_at=T0 + timedelta(hours=51)).where(FollowUp.id == mine.id).execute()
        refresh_next_action([prospect.id])
    run_sweep(T0 + timedelta(hours=52))

    [rule] = _rule_followups(prospect)
    assert rule.rule == "hot_no_interaction_48h" and rule.owner_id == owner.id
    assert Prospect.get_by_id(prospect.id).next_action_at == rule.due_at


def test_a_renamed_followup_type_is_still_used_by_its_rule(any_ctx):
    from webapp.models import FollowUpType

    FollowUpType.update(name="Appel RDV (chaud)").where(FollowUpType.code == "appointment_call").execute()
    prospect = _contact("hot", at=T0)
    _answer(prospect, T0 + timedelta(hours=1))

    run_sweep(T0 + timedelta(hours=50))

    [followup] = _rule_followups(prospect, "hot_no_interaction_48h")
    assert followup.type.name == "Appel RDV (chaud)"


def test_the_quote_callback_is_planned_only_after_a_quote_was_sent(any_ctx):
    from webapp.models import ActionCode

    prospect = _contact("warm", at=T0, channel="whatsapp", qualification="quote")
    mail = ActionCode.get(ActionCode.code == "MAIL")
    add_interaction(prospect, channel="email", direction="out", action_code=mail, note="Merci, votre email ?",
                    occurred_at=T0 + timedelta(hours=1), now=T0 + timedelta(hours=1))
    run_sweep(T0 + timedelta(hours=2))
    [qualify] = _rule_followups(prospect)
    assert qualify.rule == "warm_qualify"
    FollowUp.update(state="done", done_at=T0 + timedelta(days=2)).where(FollowUp.id == qualify.id).execute()
    refresh_next_action([prospect.id])

    run_sweep(T0 + timedelta(days=9))
    assert _rule_followups(prospect, "quote_callback_7d") == []      # answered, but no quote went out

    sent = T0 + timedelta(days=9, hours=2)                           # Wednesday 11 November, 11:00
    add_interaction(Prospect.get_by_id(prospect.id), channel="email", direction="out", note="Envoi du devis",
                    action_code=ActionCode.get(ActionCode.code == "DEVIS"), occurred_at=sent, now=sent)
    run_sweep(sent + timedelta(hours=1))

    [callback] = _rule_followups(prospect, "quote_callback_7d")
    assert callback.due_at == sent + timedelta(days=7)
    assert callback.reason_params == {"sent_at": sent.isoformat(), "days": 7}
    assert callback.type.code == "callback_after_answer"


def test_a_sweep_run_twice_plans_no_duplicate_follow_up(any_ctx):
    hot = _contact("hot", at=T0)
    _answer(hot, T0 + timedelta(hours=1))
    _contact("warm", at=T0, channel="whatsapp")     # a first question waiting for its answer

    first = run_sweep(T0 + timedelta(days=3))
    second = run_sweep(T0 + timedelta(days=3))
    later = run_sweep(T0 + timedelta(days=4))

    assert first.followups_created == 2
    assert second.followups_created == 0 and later.followups_created == 0
    assert second.activity_changed == 0
    assert FollowUp.select().count() == 2


def test_do_not_contact_and_closed_prospects_get_no_follow_up(any_ctx):
    refused = _contact("hot", at=T0)
    set_do_not_contact(refused, True, "asked us to stop", None, now=T0 + timedelta(minutes=5))
    won = _contact("hot", at=T0)
    Prospect.update(outcome="won").where(Prospect.id == won.id).execute()
    lost = _contact("warm", at=T0)
    Prospect.update(outcome="lost").where(Prospect.id == lost.id).execute()

    result = run_sweep(T0 + timedelta(days=5))

    assert result.followups_created == 0
    assert FollowUp.select().count() == 0


def test_a_cold_prospect_is_never_planned_a_call(any_ctx):
    cold = _contact("cold", at=T0)
    _answer(cold, T0 + timedelta(hours=1))

    for days in (1, 3, 10, 40):
        run_sweep(T0 + timedelta(days=days))

    assert FollowUp.select().where(FollowUp.prospect == cold.id).count() == 0


def test_a_late_sweep_plans_each_cause_once_at_the_next_opening_not_a_backlog_of_past_dates(any_ctx):
    daily = [_contact(t, at=T0) for t in ("hot", "warm", "cold")]
    for days in range(1, 41):
        run_sweep(T0 + timedelta(days=days))
    planned_daily = {f.cause_key: f.due_at for f in FollowUp.select()}
    statuses_daily = [_status(p) for p in daily]
    FollowUp.delete().execute()
    refresh_next_action()
    Prospect.update(activity_status="normal").execute()

    late = T0 + timedelta(days=40)          # Saturday 12 December, 09:00: open
    run_sweep(late)

    assert [_status(p) for p in daily] == statuses_daily == ["lost", "dormant", "normal"]
    caught_up = {f.cause_key: f for f in FollowUp.select()}
    assert set(caught_up) == set(planned_daily) and len(caught_up) == 2
    for key, followup in caught_up.items():
        assert followup.due_at == late      # the next opening: now
        assert followup.reason_params["planned_for"] == planned_daily[key].isoformat()


def test_the_api_shows_activity_status_and_next_action_after_sweep_as_of(app, runner, client):
    with app.app_context(), database.connection_context():
        prospect = _contact("hot", at=T0)
        _answer(prospect, T0 + timedelta(hours=1))
        _, token = create_token("sweep test")

    result = runner.invoke(args=["sweep", "--as-of", "2026-11-25"])

    assert result.exit_code == 0, result.output
    assert "activity statuses changed: 1 (lost 0, dormant 1, normal 0)" in result.output
    assert "follow-ups planned: 1" in result.output
    body = client.get(f"/api/v1/prospects/{prospect.id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["activity_status"] == "dormant"
    action = body["next_action"]
    assert action["type"] == "Appel pour proposer un RDV"
    assert action["rule"] == "hot_no_interaction_48h"
    # Swept as of the 25th only: the call due on the 4th is planned at the next opening, saying so.
    assert action["due_at"] == "2026-11-26T08:30:00+00:00"
    assert action["reason_params"]["planned_for"].startswith("2026-11-04T")
    assert action["rule_reason"].endswith("(prévu le 04/11, planifié au rattrapage)")


def test_sweep_as_of_rejects_a_malformed_date(runner):
    result = runner.invoke(args=["sweep", "--as-of", "30-11"])

    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


@pytest.mark.parametrize("day, expected", [("2026-11-30", datetime(2026, 11, 30, 23, 59, 59))])
def test_sweep_as_of_a_date_means_the_end_of_that_day_in_dakar(app, day, expected):
    from webapp.services.sweep import end_of_day
    from webapp.timeutil import parse_iso_date

    with app.app_context():
        assert end_of_day(parse_iso_date(day)) == expected


def test_the_sweep_benchmark_runs_and_agrees_with_the_plain_update(capsys):
    import bench

    code = bench.main(["sweep", "--size", "2000", "--quick"])

    out = capsys.readouterr().out
    assert code == 0
    assert "the sweep leaves the same statuses as the plain UPDATE: yes" in out
    for row in ("plain UPDATE ... CASE", "sweep activity, first run", "sweep activity, next day", "rules, first run"):
        assert any(line.startswith(row) for line in out.splitlines()), row
    assert "ms per 1,000 prospects" in out
