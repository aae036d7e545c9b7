"""Login, logout, password change and language choice."""
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from ..forms import LanguageForm, LoginForm, PasswordForm
from .. import messages, ratelimit
from ..services import users as user_service
from ..services.audit import record as audit

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would help phishing."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("prospects.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("prospects.home"))
    error = None
    form = LoginForm()
    if request.method == "POST":
        # Failed attempts count, per address; over the limit even a right password waits. Each attempt
        # is counted before its password is checked (one atomic step in the shared store, so parallel
        # guesses cannot all pass), and given back when it turns out right.
        limit, key = current_app.config["LOGIN_RATE_LIMIT"], ("login", request.remote_addr or "")
        if not ratelimit.hit(limit, *key):
            raise TooManyRequests(retry_after=ratelimit.retry_after(limit, *key))
        email = form.email.data or ""
        user = user_service.authenticate(email, form.password.data or "")
        if user is not None:
            ratelimit.release(limit, *key)
            session.clear()  # a fresh session at login: no fixation
            login_user(user)
            audit("login", "user", user.id, actor=user)
            if user.must_change_password:
                flash(_("Your password was reset: choose your own to continue."), "warn")
                return redirect(url_for("auth.password"))
            return redirect(_safe_next(request.args.get("next")))
        audit("login.failed", detail=email.strip().lower()[:120])
        error = _("Wrong email or password.")
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, form=form), status


@bp.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    user_service.end_sessions(user)
    audit("logout", "user", user.id, actor=user)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    error = None
    form = PasswordForm()
    if form.is_submitted():
        if not form.validate():
            error = form.first_error()
        else:
            try:
                user_service.change_password(current_user._get_current_object(),
                                             form.current_password.data or "", form.new_password.data or "")
            except user_service.UserError as exc:
                error = messages.text("password", exc.code, **exc.params)
            else:
                audit("password.change", "user", current_user.id)
                login_user(current_user._get_current_object())  # the rotated token, this session only
                flash(_("Password changed. Your other sessions are closed."), "success")
                return redirect(url_for("prospects.index"))
    return render_template("auth/password.html", error=error, form=form), 400 if error else 200


@bp.post("/language")
def language():
    form = LanguageForm()
    if not form.validate():
        abort(400)
    choice = form.locale.data
    session["locale"] = choice
    if current_user.is_authenticated:
        current_user.locale = choice
        current_user.save()
    return redirect(_safe_next(form.next.data))
