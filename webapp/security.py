"""Login, roles, CSRF and security headers, wired in one place (rate limits: webapp/ratelimit.py)."""
from functools import wraps
from hashlib import sha512

from flask import Flask, abort, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from .models import User

# What each role may do. Admins run the system (users, tokens, sources) and, by least privilege,
# do not read patients' prospect records.
PERMISSIONS = {
    "prospects.view": {"secretary", "lead", "manager"},
    "prospects.edit": {"secretary", "lead", "manager"},
    "prospects.classify": {"lead", "manager"},
    "settings.workflow": {"manager"},
    "admin.users": {"admin"},
    "admin.tokens": {"admin"},
    "admin.sources": {"admin"},
    # The website's requests carry health details: triaged by the follow-up lead (and the manager).
    "requests.triage": {"lead", "manager"},
    "audit.view": {"admin", "manager"},
}

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
                from .services.audit import record
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
    if not ident.isdigit() or not token:
        return None
    user = User.get_or_none(User.id == int(ident))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def _session_identifier() -> str:
    """What a session is bound to ("strong" protection): the client's address and User-Agent. The address is
    `request.remote_addr`, which takes X-Forwarded-For only from the RELANCE_PROXY_COUNT trusted proxies
    (ProxyFix); Flask-Login's own identifier reads that header from anyone, so a stolen cookie sent with the
    victim's address in it passed. Same digest as Flask-Login's otherwise: sessions opened before stay valid."""
    address = request.remote_addr
    agent = request.headers.get("User-Agent")
    base = f"{address.encode() if address is not None else None}|{agent.encode() if agent is not None else None}"
    return sha512(base.encode("utf8")).hexdigest()


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


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    login_manager._session_identifier_generator = _session_identifier
    app.after_request(_headers)
    app.jinja_env.globals["can"] = can

    @app.before_request
    def _remember_address():
        g.address = request.remote_addr or ""
