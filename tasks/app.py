"""One Flask app per worker process, so tasks run the same services, config and database as the web."""
from contextlib import contextmanager

_app = None


@contextmanager
def app_context():
    global _app
    if _app is None:
        from webapp import create_app
        _app = create_app()
    from webapp.models import database
    with _app.app_context(), database.connection_context():
        yield _app
