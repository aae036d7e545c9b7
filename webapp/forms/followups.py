"""Follow-ups: planning one by hand on a prospect's record, and confirming a completion's outcome.

The follow-ups service judges the values (a date in the future, a type allowed next, a lost reason…);
these forms read them. Dates are typed in the clinic's local time and read by the view, which knows
the timezone. Choices (types, staff, reasons, contact codes) are the database's, set by the view."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.widgets import DateTimeLocalInput

from .. import vocabulary
from .base import HouseSelect, StaffForm, TextBox

NOTE_MAX = 2000


class PlanForm(StaffForm):
    """A follow-up planned by hand: its type, date, owner, the prospect's value and a comment."""
    type = SelectField(_l("Type"), validate_choice=False, widget=HouseSelect(), render_kw={"required": True})
    due_at = StringField(_l("Date"), widget=DateTimeLocalInput(), render_kw={"required": True})
    owner = SelectField(_l("Owner"), validate_choice=False, widget=HouseSelect())
    value = SelectField(_l("Temperature"), choices=vocabulary.choices(vocabulary.FOLLOWUP_VALUES), validate_choice=False,
                        widget=HouseSelect())
    comment = TextAreaField(_l("Comment"), widget=TextBox(), render_kw={"rows": 2, "maxlength": NOTE_MAX})


class CompleteForm(StaffForm):
    """The second click of a completion: the outcome chosen first, and what that outcome asks for."""
    outcome = HiddenField()
    origin = HiddenField()
    reschedule_at = StringField(_l("Try again on"), widget=DateTimeLocalInput(), render_kw={"required": True})
    next_type = SelectField(_l("Next step"), validate_choice=False, widget=HouseSelect(),
                            render_kw={"required": True})
    next_due_at = StringField(_l("On"), widget=DateTimeLocalInput(), render_kw={"required": True})
    lost_reason = SelectField(validate_choice=False, widget=HouseSelect(), render_kw={"required": True})
    action_code = SelectField(_l("Contact"), validate_choice=False, widget=HouseSelect())
    note = TextAreaField(_l("Note (optional)"), widget=TextBox(), render_kw={"rows": 2, "maxlength": NOTE_MAX})
