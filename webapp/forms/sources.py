"""An integration source's own forms on its page: the signing secret (write-only: typed, never shown
again), the activation, a mailbox's "check now". The services judge the values (services/sources.py)."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField

from .base import StaffForm, TickField, strip

MAX_SECRET = 200


class SecretForm(StaffForm):
    """A new signing secret, or `clear` (the remove button's "1"); the field is never filled back."""
    secret = PasswordField(_l("Set a secret"), id="source-secret", filters=[strip],
                           render_kw={"maxlength": MAX_SECRET, "autocomplete": "new-password"})
    clear = TickField()


class PollForm(StaffForm):
    """Check a mailbox now: the button alone."""


def _text(**kwargs):
    """A typed setting, "" when not posted (what the service's rules read)."""
    return StringField(default="", **kwargs)


class SourceForm(StaffForm):
    """A source's fixed fields, as the create form and a web form's edit page post them; the services
    judge them (services/sources.py). The field mapping (`field_<name>`) and a source type's own settings
    are named by the type, and read apart (views/sources.py). Its markup stays the page's own: the
    settings' fields are the same on both pages (templates/sources/_settings.html)."""
    slug = _text(filters=[strip])
    type = _text()
    name = _text(filters=[strip])
    secret = _text()
    preset = _text()
    mode = _text()
    owner = _text()
    thank_you_url = _text()
    allowed_origins = _text()
    rate_limit = _text()
    honeypot = _text()
