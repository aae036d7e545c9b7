"""`relance demo`: the app looks alive on first run, through the same services as real use."""
import os
from datetime import datetime, timedelta

import pytest
from peewee import fn

from tests.conftest import make_app
from webapp.demo import DEMO_PASSWORD, STAFF, load_demo
from webapp.models import FollowUp, Interaction, Patient, Prospect, User, database
from webapp.services.users import authenticate

pytestmark = pytest.mark.slow   # each loads the whole demo (about 2 s)


def _values(field):
    return {value for (value,) in Prospect.select(field).distinct().tuples()}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One demo load for the read-only checks (a load takes a few seconds)."""
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'relance.db'}")
    with app.test_request_context(), database.connection_context():
        logins = load_demo()
    return app, database.obj, logins


@pytest.fixture
def demo(loaded):
    app, db, logins = loaded
    database.initialize(db)     # other tests' apps rebind the shared proxy
    with app.test_request_context(), database.connection_context():
        yield logins


def test_the_demo_loads_about_300_prospects(demo):
    assert 250 <= Prospect.select().count() <= 350


def test_the_demo_has_every_temperature(demo):
    assert _values(Prospect.temperature) == {"hot", "warm", "cold"}


def test_the_demo_shows_dormant_and_lost_activity(demo):
    assert {"dormant", "lost"} <= _values(Prospect.activity_status)


def test_the_demo_has_won_and_lost_prospects(demo):
    assert {"open", "won", "lost"} <= _values(Prospect.outcome)
    assert not Prospect.select().where((Prospect.outcome == "won") & Prospect.converted_at.is_null()).exists()
    assert not Prospect.select().where((Prospect.outcome == "lost") & Prospect.lost_reason.is_null()).exists()


def test_a_patient_who_calls_again_has_the_interaction_on_the_patient(demo):
    assert Patient.select().count() >= 10
    assert Interaction.select().where(Interaction.patient.is_null(False)).exists()


def test_a_few_badly_typed_phones_are_kept_and_flagged(demo):
    assert 1 <= Prospect.select().where(~Prospect.phone_valid).count() <= 5


def test_some_open_prospects_have_a_follow_up_some_made_by_a_rule(demo):
    assert FollowUp.select().where(FollowUp.rule.is_null(False)).exists()
    assert FollowUp.select().where(FollowUp.rule.is_null()).exists()


def test_the_demo_staff_of_every_role_can_sign_in(demo):
    assert {role for _, role, _ in demo} == {"secretary", "lead", "manager", "admin"}
    for email, role, password in demo:
        user = authenticate(email, password)
        assert user is not None and user.role == role


def test_running_the_demo_twice_adds_nothing(demo):
    prospects, users = Prospect.select().count(), User.select().count()
    assert load_demo() == demo
    assert (Prospect.select().count(), User.select().count()) == (prospects, users)


def _people():
    return sorted(Prospect.select(Prospect.first_name, Prospect.last_name, Prospect.phone_raw).tuples())


def test_the_same_seed_gives_the_same_people(loaded, ctx):
    load_demo()
    fresh, fresh_db = _people(), database.obj
    database.initialize(loaded[1])
    try:
        with database.connection_context():
            assert _people() == fresh
    finally:
        database.initialize(fresh_db)


@pytest.mark.postgres
def test_the_demo_loads_on_postgresql_too(postgres):
    app = make_app(postgres.create_database(f"demo{os.getpid()}"))
    with app.test_request_context(), database.connection_context():
        load_demo()
        assert 250 <= Prospect.select().count() <= 350
        assert Prospect.select().where(Prospect.activity_status == "lost").exists()


def test_the_demo_command_names_the_logins(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for email, _, _ in STAFF:
        assert email in result.output
    assert DEMO_PASSWORD in result.output


def test_demo_if_empty_does_nothing_when_staff_exist(runner, make_user):
    make_user("admin")
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "nothing loaded" in result.output
    with runner.app.app_context(), database.connection_context():
        assert Prospect.select().count() == 0


# --- issue 13: a demo that looks like a living clinic on the day it is loaded, and after the first sweep ---

def _procedure_state(now):
    """(open cards, overdue cards) as the board counts them as of `now`, in Dakar."""
    from webapp.rules.followups import followup_state

    open_cards = list(Prospect.select(Prospect.next_action_at).where(Prospect.outcome == "open").tuples())
    overdue = [at for (at,) in open_cards if at is not None
               and followup_state(at, None, now, 7, tz="Africa/Dakar") != "planned"]
    return len(open_cards), len(overdue)


def _sweep_agrees(app, sweep):
    """Runs `sweep()` after the demo; returns what it created and the board's state after it."""
    with app.test_request_context(), database.connection_context():
        before = FollowUp.select(fn.MAX(FollowUp.id)).scalar()
        now = sweep()
        created = list(FollowUp.select().where(FollowUp.id > before))
        return created, *_procedure_state(now)


def test_after_relance_demo_then_relance_sweep_few_cards_are_overdue_and_nothing_is_abandoned(app, runner):
    from webapp.rules.followups import followup_state
    from webapp.timeutil import utcnow

    assert runner.invoke(args=["demo"]).exit_code == 0

    def sweep():
        result = runner.invoke(args=["sweep"])
        assert result.exit_code == 0, result.output
        return utcnow()
    created, open_cards, overdue = _sweep_agrees(app, sweep)

    assert open_cards > 100 and overdue <= open_cards / 5
    now = utcnow()
    assert [f.id for f in created if followup_state(f.due_at, None, now, 7, tz="Africa/Dakar",
                                                    planned_at=f.created_at) == "abandoned"] == []
    assert all(not f.reason_params or "planned_for" not in f.reason_params for f in created)  # nothing to catch up


SATURDAY_AFTERNOON, MONDAY_BEFORE_OPENING = datetime(2026, 12, 5, 14, 8), datetime(2026, 12, 7, 7, 0)


@pytest.mark.parametrize("now", [SATURDAY_AFTERNOON, MONDAY_BEFORE_OPENING], ids=["saturday 14:08", "monday 07:00"])
def test_the_demo_is_built_back_from_its_day_in_opening_hours_and_the_sweep_agrees(app, now):
    from webapp.rules.worktime import is_open
    from webapp.services.followups import business_calendar
    from webapp.services.sweep import run_sweep

    with app.test_request_context(), database.connection_context():
        load_demo(now=now)
        cal = business_calendar(now, "Africa/Dakar")
        times = [at for (at,) in Interaction.select(Interaction.occurred_at).tuples()]
        assert max(times) <= now and min(times) >= now - timedelta(days=200)
        outside = [str(at) for at in times if not is_open(cal, at)]
        assert outside == []       # no contact on a Saturday afternoon, a Sunday, a holiday or before opening

    created, open_cards, overdue = _sweep_agrees(app, lambda: run_sweep(now).as_of)
    assert created == [] and overdue <= open_cards / 5


def test_the_demo_has_conversions_from_the_patient_system_and_two_to_review(demo):
    from webapp.models import PatientMatch, PatientPhone

    converted = list(PatientMatch.select().where(PatientMatch.state == "converted"))
    assert len(converted) >= 8
    assert all(m.prospect.outcome == "won" and m.prospect.patient_id == m.patient_id for m in converted)
    assert PatientMatch.select().where(PatientMatch.state == "open").count() == 2
    assert PatientPhone.select().count() >= Patient.select().where(Patient.phone.is_null(False)).count()
