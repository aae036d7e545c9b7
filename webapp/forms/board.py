"""Moving a prospect to another stage: from the move menu (keyboard, touch, no JavaScript) or from a
drop on the board (board.js fills the board's hidden move form with the same fields)."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField

from .base import HouseSelect, StaffForm, TickField


class MoveForm(StaffForm):
    """The board service judges the move (a lost reason, the conversion or the reopening confirmed,
    the version the person saw); this form reads it."""
    prospect_id = HiddenField()
    version = HiddenField()
    stage_id = RadioField(_l("To the stage"), validate_choice=False)
    lost_reason = SelectField(validate_choice=False, widget=HouseSelect())
    confirm = TickField(_l("I confirm the conversion"))
    reopen = TickField()
