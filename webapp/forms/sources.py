"""An integration source's own forms on its page: the signing secret (write-only: typed, never shown
again), the activation, a mailbox's "check now". The services judge the values (services/sources.py)."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField

from .base import StaffForm, TickField, strip

MAX_SECRET = 200


class SecretForm(StaffForm):
    """A new signing secret, or `clear` (the remove button's "1"); the field is never filled back."""
    secret = PasswordField(_l("Set a secret"), id="source-secret", filters=[strip],
                           render_kw={"maxlength": MAX_SECRET, "autocomplete": "new-password"})
    clear = TickField()


class PollForm(StaffForm):
    """Check a mailbox now: the button alone."""
