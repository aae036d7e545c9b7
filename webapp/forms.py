"""Staff forms (WTForms through Flask-WTF): validation and French messages in one place."""
import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from . import vocabulary
from .rules.contact import EMAIL_MAX, contact_problems, is_email


def _blank(choices):
    return [("", "—")] + choices


def valid_email(form, field):
    """The one email rule (rules/contact.py), the same as the API's and the web form's."""
    if (field.data or "").strip() and not is_email(field.data):
        raise ValidationError(_l("This email looks wrong: check it, e.g. awa.diop@gmail.com."))


def submission_key() -> str:
    return secrets.token_urlsafe(16)


class OnceForm(FlaskForm):
    """A form whose effect must happen once: it carries a fresh key (services/submissions.py)."""
    submission = HiddenField(default=submission_key)


class PersonForm(OnceForm):
    """Who the person is and how to reach them: the fields and the rule the new-contact and edit forms
    share. A contact needs a name and a phone or an email (rules/contact.py); every error shows at once."""
    first_name = StringField(_l("First name"), validators=[Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Length(max=40)])
    email = StringField(_l("Email"), validators=[valid_email, Length(max=EMAIL_MAX)])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    channel = SelectField(_l("Channel"), choices=vocabulary.choices(vocabulary.CHANNELS), default="phone")
    origin_detail = StringField(_l("Origin (campaign, event)"), validators=[Length(max=200)])
    owner = SelectField(_l("Owner"), coerce=str, validators=[Optional()])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        problems = contact_problems(self.first_name.data, self.last_name.data, self.phone.data,
                                    self.email.data)
        if "name_required" in problems:
            self.last_name.errors = list(self.last_name.errors) + [_l("Enter a name.")]
        if "contact_required" in problems and not self.email.errors:
            self.phone.errors = list(self.phone.errors) + [
                _l("Give a phone number or an email, so we can call back.")]
        return ok and not problems


class ContactForm(PersonForm):
    """The secretary's fast form: a call is on the line (name, phone, reason, temperature, note)."""
    qualification = SelectField(vocabulary.FIELDS["qualification"],
                                choices=_blank(vocabulary.choices(vocabulary.QUALIFICATIONS)),
                                validators=[DataRequired(_l("Choose the reason for the contact."))])
    temperature = SelectField(_l("Temperature"), choices=vocabulary.choices(vocabulary.TEMPERATURES), default="warm")
    note = TextAreaField(_l("Note"), validators=[Length(max=5000)])


class ProspectForm(PersonForm):
    """Editing a prospect's identity and qualification."""
    qualification = SelectField(vocabulary.FIELDS["qualification"],
                                choices=_blank(vocabulary.choices(vocabulary.QUALIFICATIONS)),
                                validators=[Optional()])


class InteractionForm(OnceForm):
    channel = SelectField(_l("Channel"), choices=vocabulary.choices(vocabulary.CHANNELS), default="phone")
    direction = SelectField(_l("Direction"), choices=vocabulary.choices(vocabulary.DIRECTIONS), default="out")
    action_code = SelectField(_l("Action"), coerce=str, validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=5000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if not (self.note.data or "").strip() and not self.action_code.data:
            self.note.errors = list(self.note.errors) + [_l("Write a note or choose the action.")]
            return False
        return ok


class TemperatureForm(FlaskForm):
    temperature = SelectField(_l("Temperature"), choices=vocabulary.choices(vocabulary.TEMPERATURES))
    reason = StringField(_l("Why"), validators=[DataRequired(_l("Say why the temperature changes.")),
                                                Length(max=500)])


class ConsentForm(FlaskForm):
    do_not_contact = BooleanField(_l("Do not contact"))
    reason = StringField(_l("Why"), validators=[Length(max=500)])


class EraseForm(FlaskForm):
    """Erasing a person's data cannot be undone: the manager confirms it in words."""
    confirm = BooleanField(_l("I confirm: erase this person's names, phone, email, notes and requests. "
                              "This cannot be undone."),
                           validators=[DataRequired(_l("Tick the box to confirm the erasure."))])


class AnswerForm(OnceForm):
    """An answer by mail (issue 16 §5): a template to start from, then the subject and text as sent."""
    template = SelectField(_l("Template"), coerce=str, validators=[Optional()], validate_choice=False)
    subject = StringField(_l("Subject"), validators=[DataRequired(_l("Write the subject.")), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(_l("Write the message.")), Length(max=10000)])


class AnswerTemplateForm(FlaskForm):
    """One answer template in the settings; its placeholders are checked by the service."""
    key = HiddenField()
    subject = StringField(_l("Subject"), validators=[Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[Length(max=10000)])
