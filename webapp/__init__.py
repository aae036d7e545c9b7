"""Relance: prospect follow-up. The application factory."""
from pathlib import Path

from flask import Flask, Request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import config, db, i18n, ratelimit, security, templating
from .cli import register_commands
from .rules.numbers import MAX_ID
from .views import register_blueprints

ROOT = Path(__file__).resolve().parent.parent


class IdConverter(IntegerConverter):
    """`<int:…>` in our URLs: an id a database can hold. A larger number is a 404, not a 500 from
    SQLite's "int too large"."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


# Routes whose body may be larger than MAX_CONTENT_LENGTH (the front allows as much: webapp/front.py).
LARGE_BODIES = {"/patients/import": 11 * 1024 * 1024}   # a 10 MB patient export and its form


class AppRequest(Request):
    """The app's body limit, except on the routes of LARGE_BODIES: known before anything reads the body
    (the CSRF check and the NUL guard read the form before any view runs)."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.path in LARGE_BODIES:
            return LARGE_BODIES[self.path]
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app from RELANCE_* variables, overridden by `test_config` in tests."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder="static")
    app.url_map.converters["int"] = IdConverter
    app.request_class = AppRequest
    instance = Path(app.instance_path)
    app.config.update(config.from_environment(instance))
    if test_config:
        app.config.update(test_config)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,   # the token lives as long as the session, which logout ends
        MAX_CONTENT_LENGTH=app.config.get("MAX_CONTENT_LENGTH") or 2 * 1024 * 1024,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    if app.config.get("PROXY_COUNT"):
        # Behind N trusted proxies: the client's address (rate limits, audit) and scheme come from
        # their X-Forwarded-* headers; never trust more hops than there are proxies.
        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    ratelimit.init_app(app)
    templating.register(app)
    register_blueprints(app)

    register_commands(app)
    return app
