"""Schema migrations: init-db creates or upgrades, keeps rows, and is safe to run twice."""
import sqlite3
from datetime import datetime

from playhouse.migrations import Runner

from webapp import create_app
from webapp.db import MIGRATIONS_DIR, bind, migrate
from webapp.models import ALL_MODELS, Prospect, database


def test_init_db_upgrades_a_database_made_by_the_first_schema_without_losing_rows(tmp_path):
    path = tmp_path / "old.db"
    db = bind(f"sqlite:///{path}")
    with database.connection_context():
        Runner(db, str(MIGRATIONS_DIR)).up(target="0001_initial")
    raw = sqlite3.connect(path)
    assert "search_text" not in [row[1] for row in raw.execute("PRAGMA table_info(prospect)")]
    raw.execute("INSERT INTO stage (name, position, kind, retired) VALUES ('Nouveau', 0, 'open', 0)")
    raw.execute("""INSERT INTO prospect (first_name, last_name, phone, phone_raw, phone_valid, channel,
                   origin_detail, temperature, activity_status, stage_id, outcome, do_not_contact,
                   action_budget, actions_used, interaction_count, created_at, updated_at, version)
                   VALUES ('Ndèye', 'Fall', '+221771112233', '77 111 22 33', 1, 'phone', '', 'hot',
                   'normal', 1, 'open', 0, 15, 0, 0, '2026-01-05 10:00:00', '2026-01-05 10:00:00', 1)""")
    raw.commit()
    raw.close()

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{path}"})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "applied 0002_search_text" in result.output

    bind(f"sqlite:///{path}")
    with database.connection_context():
        prospect = Prospect.get()
        assert (prospect.first_name, prospect.phone) == ("Ndèye", "+221771112233")
        assert "ndeye fall" in prospect.search_text


def test_a_fresh_database_has_exactly_the_schema_of_the_models(db_url):
    db = bind(db_url)
    with database.connection_context():
        migrate()
        for model in ALL_MODELS:
            columns = {c.name for c in db.get_columns(model._meta.table_name)}
            assert columns == {f.column_name for f in model._meta.sorted_fields}, model.__name__


def test_init_db_twice_changes_nothing(runner):
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == second.exit_code == 0
    assert "applied" not in second.output and "0 default rows added" in second.output


def test_migration_0012_gives_types_their_codes_and_recomputes_open_first_answers_in_working_days(tmp_path):
    from webapp.models import FollowUp, FollowUpType, Setting

    path = tmp_path / "before-0012.db"
    db = bind(f"sqlite:///{path}")
    with database.connection_context():
        Runner(db, str(MIGRATIONS_DIR)).up(target="0011_must_change_password")
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO stage (name, position, kind, retired) VALUES ('Nouveau', 0, 'open', 0)")
    raw.execute("""INSERT INTO prospect (first_name, last_name, phone_raw, phone_valid, channel, origin_detail,
                   temperature, activity_status, stage_id, outcome, do_not_contact, action_budget, actions_used,
                   interaction_count, created_at, updated_at, version, search_text)
                   VALUES ('Awa', 'Diop', '', 1, 'webform', '', 'hot', 'normal', 1, 'open', 0, 15, 0, 0,
                   '2026-06-15 11:00:00', '2026-06-15 11:00:00', 1, '')""")
    for position, name in enumerate(["Réponse à la demande", "Appel pour proposer un RDV", "Rappel RDV (renommé)"]):
        raw.execute("INSERT INTO follow_up_type (name, description, first_step, action, position, active) "
                    "VALUES (?, '', 1, 'none', ?, 1)", (name, position))
    raw.execute("INSERT INTO setting (key, value) VALUES ('first_answer_working_hours', '48')")
    columns = "(prospect_id, type_id, due_at, value, comment, rule, rule_reason, cause_key, state, created_at)"
    # A Saturday 14:08 request: 48 opening hours put it on the next Saturday; two working days on Wednesday.
    raw.execute(f"INSERT INTO follow_up {columns} VALUES (1, 1, '2026-12-12 09:30:00', 'hot', '', 'first_answer', "
                "'Première question sans réponse : répondre sous 48 h ouvrées', "
                "'first_answer:1:2026-12-05T14:08:00', 'planned', '2026-12-05 14:10:00')")
    # The old sweep's pile: a call due in June, made on 1 December.
    raw.execute(f"INSERT INTO follow_up {columns} VALUES (1, 2, '2026-06-17 11:00:00', 'hot', '', "
                "'hot_no_interaction_48h', 'Chaud sans interaction depuis 48 h : appeler pour proposer un RDV', "
                "'hot_no_interaction_48h:1:2026-06-15T11:00:00', 'planned', '2026-12-01 10:00:00')")
    raw.commit()
    raw.close()

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{path}"})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "applied 0012_procedure_codes_and_targets" in result.output

    bind(f"sqlite:///{path}")
    with app.test_request_context(), database.connection_context():
        codes = dict(FollowUpType.select(FollowUpType.name, FollowUpType.code).tuples())
        assert codes == {"Réponse à la demande": "answer", "Appel pour proposer un RDV": "appointment_call",
                         "Rappel RDV (renommé)": None}
        settings = dict(Setting.select(Setting.key, Setting.value).tuples())
        assert settings["answer_target"] == {"count": 2, "unit": "working_days"}
        assert "first_answer_working_hours" not in settings
        answer, call = FollowUp.select().order_by(FollowUp.id)
        assert answer.due_at == datetime(2026, 12, 9, 8, 30)   # from Monday's opening: Wednesday 08:30
        assert (answer.reason_code, answer.reason_params) == ("first_answer", {"count": 2, "unit": "working_days"})
        assert call.due_at == datetime(2026, 12, 1, 10, 0)     # the next opening after it was made
        assert call.reason_params == {"planned_for": "2026-06-17T11:00:00"}
        assert Prospect.get().next_action_at == datetime(2026, 12, 1, 10, 0)


def test_migration_0012_goes_down_and_up_again(app):
    from webapp.models import Setting

    with app.app_context(), database.connection_context():
        runner = Runner(database.obj, str(MIGRATIONS_DIR))
        runner.down(target="0012_procedure_codes_and_targets")   # undoes 0012 only
        columns = [c.name for c in database.obj.get_columns("follow_up_type")]
        assert "code" not in columns
        assert database.obj.execute_sql("SELECT value FROM setting WHERE key = 'first_answer_working_hours'"
                                        ).fetchone() == ("48",)
        runner.up()
        assert Setting.get_by_id("answer_target").value == {"count": 2, "unit": "working_days"}


def test_migration_0015_goes_down_and_up_again_keeping_the_rows(app):
    with app.app_context(), database.connection_context():
        runner = Runner(database.obj, str(MIGRATIONS_DIR))
        runner.down(target="0015_prospect_erased_at")
        assert "erased_at" not in [c.name for c in database.obj.get_columns("prospect")]
        runner.up()
        assert "erased_at" in [c.name for c in database.obj.get_columns("prospect")]
