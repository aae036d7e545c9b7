"""The administrator's forms: a new staff account, a role, enabling an account, a new API token.

What the services check (a password's strength, a taken email, a known role, a grantable scope) stays in
the services; these forms read the fields and check only their shape."""
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, ValidationError

from .. import vocabulary
from ..models.users import ROLES
from ..rules.contact import is_email
from .base import StaffForm, strip

MAX_NAME = 100
MAX_TOKEN_NAME = 100


def _an_email(form, field):
    if not is_email(field.data or ""):
        raise ValidationError(_l("This is not an email address."))


def _role_choices():
    return [(role, vocabulary.ROLES[role]) for role in ROLES]


class NewUserForm(StaffForm):
    """A new staff account; the initial password's rules are the users service's."""
    email = EmailField(_l("Email"), id="new-email", filters=[strip], validators=[_an_email],
                       render_kw={"required": True, "maxlength": 254, "autocomplete": "off"})
    name = StringField(_l("Name"), id="new-name", filters=[strip], validators=[
        Length(max=MAX_NAME, message=_l("The name is too long (%(n)d characters at most).", n=MAX_NAME))],
        render_kw={"maxlength": MAX_NAME, "autocomplete": "off"})
    role = SelectField(_l("Role"), id="new-role", choices=_role_choices, default="secretary",
                       filters=[strip], validate_choice=False)
    password = PasswordField(_l("Initial password"), id="new-password", render_kw={
        "required": True, "minlength": 10, "autocomplete": "new-password"})


class RoleForm(StaffForm):
    """Another role for an account: one of the roles, or the request is malformed."""
    role = SelectField(_l("Role"), choices=_role_choices)


class ActiveForm(StaffForm):
    """Disable ("0") or enable ("1") an account."""
    active = HiddenField(validators=[AnyOf(["0", "1"])])


class TokenForm(StaffForm):
    """A new API token: a name saying which system uses it, and what it may do (the scopes the
    creator's role may grant, checked by the tokens service)."""
    name = StringField(_l("Name"), id="token-name", filters=[strip], validators=[
        DataRequired(_l("Give the token a name of at most %(n)d characters, saying which system uses it.",
                        n=MAX_TOKEN_NAME)),
        Length(max=MAX_TOKEN_NAME, message=_l("Give the token a name of at most %(n)d characters, "
                                              "saying which system uses it.", n=MAX_TOKEN_NAME))],
        render_kw={"required": True, "maxlength": MAX_TOKEN_NAME, "autocomplete": "off"})
    scopes = SelectMultipleField(_l("What it may do"), choices=list(vocabulary.SCOPES.items()),
                                 validate_choice=False)
