"""The answer-by-mail forms (issue 16 §5): an answer to send, and an answer template in the settings."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .base import OnceForm, StaffForm


class AnswerForm(OnceForm):
    """An answer by mail (issue 16 §5): a template to start from, then the subject and text as sent."""
    template = SelectField(_l("Template"), coerce=str, validators=[Optional()], validate_choice=False)
    subject = StringField(_l("Subject"), validators=[DataRequired(_l("Write the subject.")), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(_l("Write the message.")), Length(max=10000)])


class AnswerTemplateForm(StaffForm):
    """One answer template in the settings; its placeholders are checked by the service."""
    key = HiddenField()
    subject = StringField(_l("Subject"), validators=[Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[Length(max=10000)])
