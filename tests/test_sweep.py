"""The sweep: activity statuses set-based with history, rule follow-ups planned once, `relance sweep --as-of`."""
import itertools
from datetime import datetime, timedelta

import pytest

from webapp.models import ActivityStatusChange, FollowUp, Prospect, Stage, database
from webapp.rules.activity import activity_status
from webapp.services.defaults import setting
from webapp.services.prospects import ContactInput, add_interaction, record_contact, set_do_not_contact
from webapp.services.sweep import run_sweep, sweep_activity
from webapp.services.tokens import create_token
from webapp.services.users import create_user

AS_OF = datetime(2026, 11, 30, 12, 0)
T0 = datetime(2026, 11, 2, 9, 0)        # a Monday morning in Dakar (UTC+0)
_phones = itertools.count(1000)

# seed 000 (DESIGN "Activity status"): days since the last interaction -> status, per temperature.
BOUNDARIES = [
    ("hot", 14, "normal"), ("hot", 15, "dormant"), ("hot", 30, "dormant"), ("hot", 31, "lost"),
    ("warm", 29, "normal"), ("warm", 30, "dormant"), ("warm", 60, "dormant"), ("warm", 61, "lost"),
    ("cold", 59, "normal"), ("cold", 60, "dormant"), ("cold", 90, "dormant"), ("cold", 91, "lost"),
]


def _prospect(temperature, last_interaction_at, **fields) -> Prospect:
    stage = Stage.select().where(Stage.kind == "open").order_by(Stage.position).first()
    return Prospect.create(first_name="Awa", last_name="Diop", temperature=temperature, stage=stage,
                           last_interaction_at=last_interaction_at, created_at=AS_OF - timedelta(days=200),
                           **fields)


def _contact(temperature="hot", at=T0, user=None, direction="in", **fields) -> Prospect:
    data = ContactInput(first_name="Fatou", last_name="Sarr", phone=f"77 100 {next(_phones)} 0",
                        temperature=temperature, direction=direction, occurred_at=at, **fields)
    return record_contact(data, user, now=at).prospect


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
    owner = create_user("codou@clinic.test", "Codou", "secretary", "correct-horse-42")
    prospect = _contact("hot", at=T0, user=owner)
    _answer(prospect, T0 + timedelta(hours=1))

    run_sweep(T0 + timedelta(hours=48))
    assert not FollowUp.select().where(FollowUp.rule == "hot_no_interaction_48h").exists()
    result = run_sweep(T0 + timedelta(hours=50))

    followup = FollowUp.get(FollowUp.prospect == prospect.id)
    assert result.followups_created == 1
    assert followup.rule == "hot_no_interaction_48h"
    assert followup.rule_reason == "Chaud sans interaction depuis 48 h : appeler pour proposer un RDV"
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


def test_a_late_sweep_catches_up_as_if_it_had_run_every_day(any_ctx):
    daily = [_contact(t, at=T0) for t in ("hot", "warm", "cold")]
    for days in range(1, 41):
        run_sweep(T0 + timedelta(days=days))
    planned_daily = {(f.rule, f.due_at) for f in FollowUp.select()}
    statuses_daily = [_status(p) for p in daily]
    FollowUp.delete().execute()
    Prospect.update(activity_status="normal").execute()

    run_sweep(T0 + timedelta(days=40))

    assert [_status(p) for p in daily] == statuses_daily == ["lost", "dormant", "normal"]
    assert {(f.rule, f.due_at) for f in FollowUp.select()} == planned_daily


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
    assert action["due_at"].startswith("2026-11-04T") and action["due_at"].endswith("+00:00")


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
