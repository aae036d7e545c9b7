"""Schema migrations: init-db creates or upgrades, keeps rows, and is safe to run twice."""
import sqlite3

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
