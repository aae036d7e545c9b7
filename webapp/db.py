"""The database: chosen from RELANCE_DATABASE_URL, one connection per request, schema via migrations."""
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlparse

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from peewee import Database, PostgresqlDatabase, SqliteDatabase
from playhouse import db_url
from playhouse.migrations import Runner

from .files import private_file
from .models import database
from .services.defaults import ensure_defaults

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# NOTES.md: WAL survives a crash; synchronous=FULL so that a commit acknowledged survives a power cut
# too (intake answers 2xx as a promise). busy_timeout lets writers queue instead of failing.
# secure_delete: what is deleted or erased (a person's rights, retention) is overwritten on disk, not
# left in free pages; Debian builds SQLite with it on, other builds may not.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "full",
    "busy_timeout": 5000,
    "cache_size": -32768,
    "secure_delete": 1,
}


def open_database(url: str) -> Database:
    """A Peewee database for a sqlite:/// or postgresql:// URL (raises ValueError otherwise)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as SQLAlchemy writes them.
        path = unquote(parsed.path[1:])
        if path not in (":memory:", ""):
            private_file(path)
        pragmas = dict(SQLITE_PRAGMAS, **dict(parse_qsl(parsed.query)))
        # BEGIN IMMEDIATE: a read-then-write transaction would otherwise fail at once with SQLITE_BUSY.
        return SqliteDatabase(path or ":memory:", pragmas=pragmas, lock_type="IMMEDIATE",
                              check_same_thread=False)
    if parsed.scheme in ("postgres", "postgresql"):
        params = db_url.parse(url, unquote_password=True, unquote_user=True)
        params["database"] = unquote(params["database"])
        return PostgresqlDatabase(prefer_psycopg3=True, **params)
    raise ValueError(f"unsupported database URL scheme: {parsed.scheme!r}")


def bind(url: str) -> Database:
    """Point the shared model proxy at the database for this URL."""
    db = open_database(url)
    database.initialize(db)
    return db


def migrate() -> list[str]:
    """Create the schema on an empty database, or apply pending migrations to an existing one."""
    runner = Runner(database.obj, str(MIGRATIONS_DIR))
    return runner.up()


def refresh_statistics() -> bool:
    """Table and index statistics for SQLite's query planner (`ANALYZE`); PostgreSQL's autovacuum keeps its
    own. Without them SQLite guesses, and an equality on a column of a few values (a follow-up's state)
    looks selective: Ma journée read every planned follow-up through that index, then sorted them, instead
    of the due ones by date. The board and reconciliation benchmarks run with statistics; this gives
    production the same plans.
    `analysis_limit` samples about a thousand rows an index: milliseconds, whatever the size. Returns
    whether statistics were gathered."""
    if not isinstance(database.obj, SqliteDatabase):
        return False
    database.execute_sql("PRAGMA analysis_limit = 1000")
    database.execute_sql("ANALYZE")
    return True


def init_app(app: Flask) -> None:
    bind(app.config["DATABASE_URL"])

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc):
        # A SQLite connection stays open with its thread: opening one and setting its pragmas is a
        # measurable share of a request, and closing the last one checkpoints the WAL with fsyncs. Between
        # requests it is in autocommit mode and holds no lock. PostgreSQL connections are per request.
        if not database.is_closed() and not isinstance(database.obj, SqliteDatabase):
            database.close()

    app.cli.add_command(init_db_command)


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the schema and load the default configuration; safe to run twice."""
    with database.connection_context():
        applied = migrate()
        created = ensure_defaults()
    for name in applied:
        click.echo(f"applied {name}")
    click.echo(f"schema up to date ({current_app.config['DATABASE_URL'].split('://')[0]}); "
               f"{created} default rows added")
