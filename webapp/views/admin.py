"""Administration: staff accounts, their roles and access, API tokens. Administrators only.

Plain forms that work without JavaScript; every change is authorised first (`require`), then audited.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from peewee import JOIN
from playhouse.flask_utils import get_object_or_404

from ..forms import ActiveForm, NewUserForm, RoleForm, StaffForm, TokenForm
from ..forms.admin import MAX_TOKEN_NAME
from ..models import ApiToken, User
from ..security import grantable_scopes, require
from ..services import tokens as token_service
from ..services import users as user_service
from ..services.audit import record as audit
from ..vocabulary import ROLES, SCOPES

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _get_user(user_id: int) -> User:
    return get_object_or_404(User, User.id == user_id)


def _users_page(error: str | None = None, form: NewUserForm | None = None, status: int = 200, temporary=None):
    staff = User.select().order_by(User.active.desc(), User.name, User.id)
    return render_template("admin/users.html", staff=staff, error=error, form=form or NewUserForm(formdata=None),
                           role_form=lambda user: RoleForm(formdata=None, role=user.role),
                           active_form=ActiveForm(formdata=None), temporary=temporary), status


@bp.errorhandler(user_service.UserError)
def _refused(refusal: user_service.UserError):
    """A refused account change: the page again with the reason (and the new account's form as posted)."""
    form = NewUserForm() if request.endpoint == "admin.create_user" else None
    return _users_page(error=refusal.message, form=form, status=refusal.status)


@bp.get("/users")
@require("admin.users")
def users():
    return _users_page()


@bp.post("/users")
@require("admin.users")
def create_user():
    form = NewUserForm()
    if not form.validate():
        return _users_page(error=form.first_error(), form=form, status=400)
    user = user_service.create_user(form.email.data, form.name.data or "", form.role.data or "",
                                    form.password.data or "")
    audit("user.create", "user", user.id, detail=f"role={user.role}")
    flash(_("Account created for %(email)s (%(role)s).", email=user.email, role=ROLES[user.role]),
          "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/role")
@require("admin.users")
def change_role(user_id):
    user = _get_user(user_id)
    form = RoleForm()
    if not form.validate():
        abort(400)
    role = form.role.data
    previous = user.role
    if user_service.change_role(user, role, by=current_user._get_current_object()):
        audit("user.role", "user", user.id, detail=f"{previous} -> {role}")
        flash(_("%(name)s is now %(role)s.", name=user.name, role=ROLES[role]), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@require("admin.users")
def set_active(user_id):
    user = _get_user(user_id)
    form = ActiveForm()
    if not form.validate():
        abort(400)
    active = form.active.data == "1"
    if user_service.change_active(user, active, by=current_user._get_current_object()):
        audit("user.enable" if active else "user.disable", "user", user.id)
        if active:
            flash(_("%(name)s can sign in again.", name=user.name), "success")
        else:
            flash(_("%(name)s is disabled and signed out everywhere.", name=user.name), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
@require("admin.users")
def reset_password(user_id):
    user = _get_user(user_id)
    temporary = user_service.reset_password(user)
    audit("user.password_reset", "user", user.id)
    # Shown once, in this response only, like a new token.
    return _users_page(temporary={"user": user, "password": temporary})


def _token_form(posted: bool = False) -> TokenForm:
    """The new-token form (as posted, or empty), offering what the person's role may grant."""
    form = TokenForm() if posted else TokenForm(formdata=None)
    form.scopes.choices = [(scope, SCOPES[scope]) for scope in grantable_scopes(current_user)]
    return form


def _tokens_page(error: str | None = None, new_token: str | None = None, form: TokenForm | None = None,
                 status: int = 200):
    rows = (ApiToken.select(ApiToken, User)
            .join(User, JOIN.LEFT_OUTER, on=(ApiToken.created_by == User.id))
            .order_by(ApiToken.revoked_at.is_null(False), ApiToken.created_at.desc(), ApiToken.id.desc()))
    return render_template("admin/tokens.html", tokens=rows, error=error, new_token=new_token,
                           form=form or _token_form(), revoke_form=StaffForm(formdata=None)), status


@bp.get("/tokens")
@require("admin.tokens")
def tokens():
    return _tokens_page()


@bp.post("/tokens")
@require("admin.tokens")
def create_token():
    form = _token_form(posted=True)
    name, chosen = form.name.data or "", list(form.scopes.data or [])
    if not form.validate():
        form.name.data = name[:MAX_TOKEN_NAME]
        return _tokens_page(error=form.first_error(), form=form, status=400)
    try:
        row, plain = token_service.create_token(name, created_by=current_user._get_current_object(),
                                                scopes=chosen)
    except token_service.TokenError as refusal:
        audit("refused", "api_token", detail=f"token.create {refusal.code} {' '.join(chosen)}"[:250])
        return _tokens_page(error=refusal.message, form=form, status=refusal.status)
    audit("token.create", "api_token", row.id, detail=f"{row.prefix}… {name} [{row.scopes}]")
    # Shown once, in this response only: never flashed, never kept in the session.
    return _tokens_page(new_token=plain, status=201)


@bp.post("/tokens/<int:token_id>/revoke")
@require("admin.tokens")
def revoke_token(token_id):
    row = get_object_or_404(ApiToken, ApiToken.id == token_id)
    if row.revoked_at is None:
        token_service.revoke_token(row.id)
        audit("token.revoke", "api_token", row.id, detail=f"{row.prefix}… {row.name}")
        flash(_("Token “%(name)s” revoked: it no longer works.", name=row.name), "success")
    return redirect(url_for("admin.tokens"))
