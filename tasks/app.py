"""One Flask app per worker process, so tasks run the same services, config and database as the web."""
from contextlib import contextmanager

_app = None


@contextmanager
def app_context():
    global _app
    if _app is None:
        from webapp import create_app
        _app = create_app()
    from peewee import SqliteDatabase

    from webapp.models import database
    with _app.app_context():
        if isinstance(database.obj, SqliteDatabase):
            # Each worker thread keeps its SQLite connection, as the web threads do (webapp/db.py).
            database.connect(reuse_if_open=True)
            yield _app
        else:
            with database.connection_context():
                yield _app
