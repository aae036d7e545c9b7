"""What every staff form shares: Flask-WTF's CSRF token, the one-time submission key, the email rule,
and the page-level refusal a form's first error becomes."""
import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, HiddenField
from wtforms.validators import ValidationError
from wtforms.widgets import Select, TextArea, html_params

from ..rules.contact import is_email


def blank(choices):
    """A select's choices with the empty "—" first (nothing chosen yet)."""
    return [("", "—")] + choices


def valid_email(form, field):
    """The one email rule (rules/contact.py), the same as the API's and the web form's."""
    if (field.data or "").strip() and not is_email(field.data):
        raise ValidationError(_l("This email looks wrong: check it, e.g. awa.diop@gmail.com."))


def strip(value):
    """Surrounding spaces are a typing accident, never part of a name or an address."""
    return value.strip() if isinstance(value, str) else value


class HouseSelect(Select):
    """A select whose options read `<option value="3" selected>`, as the follow-up pages always wrote
    them (WTForms sorts the attributes: `selected value=`); the tests read the chosen option so."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        selected = " selected" if choice.selected else ""
        extra = html_params(**{**(choice.render_kw or {}), **kwargs})
        return Markup(f'<option value="{escape(choice.value)}"{selected}{" " + extra if extra else ""}>'
                      f'{escape(choice.label or choice.value)}</option>')


class TextBox(TextArea):
    """A textarea whose text follows its tag directly (WTForms starts it with a line break)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        return Markup(f"<textarea {html_params(name=field.name, **kwargs)}>{escape(field._value())}</textarea>")


class TickField(BooleanField):
    """A box that counts as ticked only when it sends "1", what the pages and board.js send."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"value": "1"})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        self.data = bool(valuelist) and valuelist[0] == "1"


def submission_key() -> str:
    return secrets.token_urlsafe(16)


class StaffForm(FlaskForm):
    """A staff form: CSRF from Flask-WTF; `first_error` for pages that show one refusal above the form."""

    def first_error(self) -> str | None:
        for field in self:
            if field.errors:
                return str(field.errors[0])
        return None


class OnceForm(StaffForm):
    """A form whose effect must happen once: it carries a fresh key (services/submissions.py)."""
    submission = HiddenField(default=submission_key)
