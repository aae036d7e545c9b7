"""Signing in, the language of the pages, and changing one's own password (the users service checks the current one and the new
one's strength)."""
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import ValidationError

from ..i18n import LOCALES

from .base import StaffForm


class PasswordForm(StaffForm):
    current_password = PasswordField(_l("Current password"),
                                     render_kw={"autocomplete": "current-password", "required": True})
    new_password = PasswordField(_l("New password"), render_kw={
        "autocomplete": "new-password", "minlength": 10, "required": True})
    confirm_password = PasswordField(_l("New password, again"), render_kw={
        "autocomplete": "new-password", "minlength": 10, "required": True})

    def validate_confirm_password(self, field):
        if (field.data or "") != (self.new_password.data or ""):
            raise ValidationError(_l("The two new passwords differ."))


class LoginForm(StaffForm):
    """Signing in; a wrong pair says only that the pair is wrong (services/users.py, rate-limited)."""
    email = EmailField(_l("Email"), render_kw={"autocomplete": "username", "required": True})
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "current-password", "required": True})


class LanguageForm(StaffForm):
    """The menu's language switch: one of the translated languages (the pressed button's value), and the
    page to go back to (checked by the view: same site only)."""
    locale = SelectField(choices=[(code, code) for code in LOCALES])
    next = HiddenField()
