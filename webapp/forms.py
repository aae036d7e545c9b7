"""Staff forms (WTForms through Flask-WTF): validation and French messages in one place."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from . import labels


def _blank(choices):
    return [("", "—")] + choices


class ContactForm(FlaskForm):
    """The secretary's fast form: a call is on the line (name, phone, reason, temperature, note)."""
    first_name = StringField(_l("First name"), validators=[Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(_l("Enter a name.")), Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Length(max=40)])
    qualification = SelectField(_l("Reason"), choices=_blank(labels.choices(labels.QUALIFICATIONS)),
                                validators=[DataRequired(_l("Choose the reason for the contact."))])
    temperature = SelectField(_l("Temperature"), choices=labels.choices(labels.TEMPERATURES), default="warm")
    channel = SelectField(_l("Channel"), choices=labels.choices(labels.CHANNELS), default="phone")
    note = TextAreaField(_l("Note"), validators=[Length(max=5000)])
    email = StringField(_l("Email"), validators=[Optional(), Email(_l("This email looks wrong.")),
                                                 Length(max=200)])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    origin_detail = StringField(_l("Origin (campaign, event)"), validators=[Length(max=200)])
    owner = SelectField(_l("Owner"), coerce=str, validators=[Optional()])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # Checked even when other fields failed: every error shows on the first submit.
        if not (self.phone.data or "").strip() and not (self.email.data or "").strip():
            self.phone.errors = [*self.phone.errors, _l("Give a phone number or an email, so we can call back.")]
            return False
        return ok


class ProspectForm(FlaskForm):
    """Editing a prospect's identity and qualification."""
    first_name = StringField(_l("First name"), validators=[Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(_l("Enter a name.")), Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Length(max=40)])
    email = StringField(_l("Email"), validators=[Optional(), Email(_l("This email looks wrong.")),
                                                 Length(max=200)])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    qualification = SelectField(_l("Reason"), choices=_blank(labels.choices(labels.QUALIFICATIONS)),
                                validators=[Optional()])
    channel = SelectField(_l("Channel"), choices=labels.choices(labels.CHANNELS))
    origin_detail = StringField(_l("Origin (campaign, event)"), validators=[Length(max=200)])
    owner = SelectField(_l("Owner"), coerce=str, validators=[Optional()])


class InteractionForm(FlaskForm):
    channel = SelectField(_l("Channel"), choices=labels.choices(labels.CHANNELS), default="phone")
    direction = SelectField(_l("Direction"), choices=labels.choices(labels.DIRECTIONS), default="out")
    action_code = SelectField(_l("Action"), coerce=str, validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=5000)])


class TemperatureForm(FlaskForm):
    temperature = SelectField(_l("Temperature"), choices=labels.choices(labels.TEMPERATURES))
    reason = StringField(_l("Why"), validators=[DataRequired(_l("Say why the temperature changes.")),
                                                Length(max=500)])


class ConsentForm(FlaskForm):
    do_not_contact = BooleanField(_l("Do not contact"))
    reason = StringField(_l("Why"), validators=[Length(max=500)])
