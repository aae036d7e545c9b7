"""Login, roles, CSRF and security headers, wired in one place (rate limits: webapp/ratelimit.py)."""
import hashlib
import time
from functools import wraps

from flask import Flask, abort, current_app, flash, g, make_response, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFProtect

from . import htmx
from .models import User
from .rules.numbers import parse_id
from .services.audit import record

# What each role may do. Admins run the system (users, tokens, sources) and, by least privilege,
# do not read patients' prospect records.
PERMISSIONS = {
    "prospects.view": {"secretary", "lead", "manager"},
    "prospects.edit": {"secretary", "lead", "manager"},
    "prospects.classify": {"lead", "manager"},
    # Suspected duplicates: merge, undo a merge, or mark "different people" (seed 001: the lead).
    "prospects.merge": {"lead", "manager"},
    # A person's rights (law 2008-12, GDPR Art. 15 and 17): export everything held on them, or erase it.
    "prospects.rights": {"manager"},
    "settings.workflow": {"manager"},
    "admin.users": {"admin"},
    # Tokens are listed and revoked by these roles (revoking only takes access away); each scope is
    # granted only by a role holding the staff right behind it (TOKEN_SCOPES), so an administrator
    # cannot mint a token that reads records.
    "admin.tokens": {"admin", "lead", "manager"},
    "patients.sync": {"lead", "manager"},
    # Reconciliation's uncertain matches (issue 17): confirm (converts), reject, undo a conversion.
    "patients.review": {"lead", "manager"},
    "admin.sources": {"admin"},
    # The website's requests carry health details: triaged by the follow-up lead (and the manager).
    "requests.triage": {"lead", "manager"},
    # Seed 001: the follow-up lead owns the first answers: the requests awaiting one on her Ma journée,
    # the morning digest of those close to their deadline.
    "requests.first_answers": {"lead"},
    # Who the web-form intake's round robin gives new prospects to.
    "prospects.round_robin": {"secretary", "lead"},
    "audit.view": {"admin", "manager"},
    # The manager's figures (seed 001: conversion analysed one month after entry); the lead sees them too.
    "figures.view": {"lead", "manager"},
    # Issue 16: answering by mail from a record or a request (seed 001: the secretary and the lead
    # answer; the manager may), reading received mail and its attachments, and the answer templates.
    "mail.answer": {"secretary", "lead", "manager"},
    "mail.read": {"secretary", "lead", "manager"},
    "settings.answers": {"lead", "manager"},
}

# What a machine's token may do, each with the staff permission a person needs to grant it.
TOKEN_SCOPES = {
    "prospects:read": "prospects.view",
    "prospects:write": "prospects.edit",
    "requests": "requests.triage",
    "patients": "patients.sync",
}


def grantable_scopes(user) -> list[str]:
    """The scopes this person may put on a token: those whose staff right their role holds."""
    return [scope for scope, permission in TOKEN_SCOPES.items() if can(permission, user)]


csrf = CSRFProtect()
login_manager = LoginManager()

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def can(permission: str, user=None) -> bool:
    """True when the user's role grants the permission."""
    user = user or current_user
    return bool(getattr(user, "is_authenticated", False)) and user.role in PERMISSIONS[permission]


def require(permission: str):
    """View decorator: 403 unless the logged-in user's role grants the permission (checked first)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(permission):
                record("refused", detail=f"{request.method} {request.path}")
                abort(403)
            return view(*args, **kwargs)
        wrapped.permission = permission
        return wrapped
    return decorator


@login_manager.user_loader
def _load_user(user_id: str):
    """The cookie holds id:session_token; a rotated token (logout, disabled user) ends the session."""
    ident, _, token = user_id.partition(":")
    if not parse_id(ident) or not token:
        return None
    user = User.get_or_none(User.id == parse_id(ident))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def _headers(response):
    """The security headers a view did not set itself (one pass over the response's headers: this runs
    on every response, intake posts included)."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if not request.path.startswith("/static/"):
        # Personal data: never kept by a browser or a proxy cache.
        headers["Cache-Control"] = "no-store"
    if request.is_secure and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


PUBLIC_PREFIX = "/intake/"


class SessionInterface(SecureCookieSessionInterface):
    """Public intake posts carry no session: none is opened or saved for them (a cookie would be
    meaningless to a website's visitor, and opening one is a measurable share of an intake post)."""

    def open_session(self, app, request):
        if request.path.startswith(PUBLIC_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


def _session_identifier() -> str:
    """What binds a session to its browser: the client's address and user agent. The address is
    `request.remote_addr`, which ProxyFix sets from X-Forwarded-For only when RELANCE_PROXY_COUNT says
    proxies are in front (Flask-Login's own reads that header from anyone)."""
    base = f"{request.remote_addr}|{request.headers.get('User-Agent', '')}"
    return hashlib.sha512(base.encode("utf-8", "replace")).hexdigest()


# Polls a page makes by itself: they do not keep an idle session alive.
BACKGROUND_ENDPOINTS = {"board.changes"}
SEEN_KEY = "seen"
SEEN_PRECISION_SECONDS = 60  # the cookie is rewritten at most once a minute
clock = time.time  # the idle rule's clock (tests move it)


def _background() -> bool:
    return request.endpoint in BACKGROUND_ENDPOINTS or (
        request.endpoint == "board.index" and "loaded" in request.args)


def _redirect(endpoint: str, **values):
    target = url_for(endpoint, **values)
    if htmx.is_htmx():  # a fragment swap would put the login page inside the board
        return htmx.set_headers(make_response("", 204), redirect=target)
    return redirect(target)


def _session_rules():
    """An idle session ends (RELANCE_SESSION_IDLE_MINUTES, 8 hours by default), and a person whose
    password an administrator reset chooses her own before anything else."""
    if request.path.startswith((PUBLIC_PREFIX, "/api/", "/static/")) or not current_user.is_authenticated:
        return None
    now, seen = clock(), session.get(SEEN_KEY)
    if seen is not None and now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        record("session.expired", "user", current_user.id)
        logout_user()
        session.clear()
        flash(_("You were signed out after a long time without activity. Sign in again."), "warn")
        return _redirect("auth.login", next=request.full_path if request.method == "GET" else None)
    if not _background() and (seen is None or now - seen > SEEN_PRECISION_SECONDS):
        session[SEEN_KEY] = now
    if current_user.must_change_password and request.endpoint not in (
            "auth.password", "auth.logout", "auth.language", "static"):
        return _redirect("auth.password")
    return None


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    login_manager._session_identifier_generator = _session_identifier
    app.before_request(_session_rules)
    app.after_request(_headers)
    app.jinja_env.globals["can"] = can

    @app.before_request
    def _remember_address():
        g.address = request.remote_addr or ""
