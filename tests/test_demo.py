"""`relance demo`: the app looks alive on first run, through the same services as real use."""
import os

import pytest

from tests.conftest import make_app
from webapp.demo import DEMO_PASSWORD, STAFF, load_demo
from webapp.models import FollowUp, Interaction, Patient, Prospect, User, database
from webapp.services.users import authenticate


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
