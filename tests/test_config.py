"""Configuration comes from RELANCE_* variables with embedded defaults (DESIGN: public contract)."""
import pytest
from huey import RedisHuey, SqliteHuey

from tasks import make_huey
from webapp.config import from_environment
from webapp.db import open_database


def test_defaults_need_no_server(tmp_path, monkeypatch):
    for name in ("RELANCE_DATABASE_URL", "RELANCE_HUEY_URL", "RELANCE_SECRET_KEY", "RELANCE_TIMEZONE",
                 "RELANCE_PHONE_REGION"):
        monkeypatch.delenv(name, raising=False)
    config = from_environment(tmp_path)
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'relance.db'}"
    assert config["HUEY_URL"] == f"sqlite:///{tmp_path / 'huey.db'}"
    assert (config["TIMEZONE"], config["PHONE_REGION"]) == ("Africa/Dakar", "SN")
    assert len(config["SECRET_KEY"]) > 40
    assert from_environment(tmp_path)["SECRET_KEY"] == config["SECRET_KEY"]  # kept, not regenerated
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_variables_override_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("RELANCE_DATABASE_URL", "postgresql://u:p@db.internal:5433/relance")
    monkeypatch.setenv("RELANCE_SECRET_KEY", "from-env")
    monkeypatch.setenv("RELANCE_PHONE_REGION", "fr")
    monkeypatch.setenv("RELANCE_TIMEZONE", "Europe/Paris")
    config = from_environment(tmp_path)
    assert config["DATABASE_URL"].startswith("postgresql://")
    assert (config["SECRET_KEY"], config["PHONE_REGION"], config["TIMEZONE"]) == ("from-env", "FR", "Europe/Paris")


def test_sqlite_url_gets_wal_and_durable_pragmas(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    db.connect()
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    db.close()


def test_deleted_data_is_overwritten_on_disk(tmp_path):
    """What is deleted (an erasure, the retention sweep) does not stay readable in the file's free pages."""
    path = tmp_path / "x.db"
    db = open_database(f"sqlite:///{path}")
    db.connect()
    assert db.execute_sql("PRAGMA secure_delete").fetchone()[0] == 1
    db.execute_sql("CREATE TABLE person (note TEXT)")
    db.execute_sql("INSERT INTO person VALUES (?)", ["Awa Ndiaye, née le 12/03/1990, enceinte de 3 mois. " * 10])
    db.execute_sql("DELETE FROM person")
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("x.db"))
    assert b"Awa Ndiaye" not in on_disk


def test_postgresql_url_is_parsed_into_its_parts():
    db = open_database("postgresql://relance:s%40cret@127.0.0.1:5433/crm")
    assert db.database == "crm"
    assert db.connect_params["host"] == "127.0.0.1" and db.connect_params["port"] == 5433
    assert db.connect_params["password"] == "s@cret"


def test_unknown_database_scheme_is_refused():
    with pytest.raises(ValueError):
        open_database("mysql://x/y")


def test_huey_is_sqlite_by_default_and_redis_when_asked(tmp_path):
    assert isinstance(make_huey(f"sqlite:///{tmp_path / 'q.db'}"), SqliteHuey)
    assert isinstance(make_huey("redis://127.0.0.1:6379/0"), RedisHuey)
    with pytest.raises(ValueError):
        make_huey("amqp://x")


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(sqlite_url):
    from tests.conftest import make_app
    from webapp.models import InboundRequest, database
    from webapp.services.sources import create_source

    app = make_app(sqlite_url, PROXY_COUNT=1)
    with app.app_context(), database.connection_context():
        create_source("site-web", "webform")
    app.test_client().post("/intake/site-web", json={"phone": "776543210"},
                           headers={"X-Forwarded-For": "41.82.10.7"})
    with app.app_context(), database.connection_context():
        assert InboundRequest.get().remote_addr == "41.82.10.7"
