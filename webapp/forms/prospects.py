"""The prospect forms: a new contact, the identity edit, an interaction, temperature, consent, erasure."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import vocabulary
from ..rules.contact import EMAIL_MAX, contact_problems
from .base import OnceForm, StaffForm, valid_email
from .base import blank as _blank


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


class TemperatureForm(StaffForm):
    temperature = SelectField(_l("Temperature"), choices=vocabulary.choices(vocabulary.TEMPERATURES))
    reason = StringField(_l("Why"), validators=[DataRequired(_l("Say why the temperature changes.")),
                                                Length(max=500)])


class ConsentForm(StaffForm):
    do_not_contact = BooleanField(_l("Do not contact"))
    reason = StringField(_l("Why"), validators=[Length(max=500)])


class EraseForm(StaffForm):
    """Erasing a person's data cannot be undone: the manager confirms it in words."""
    confirm = BooleanField(_l("I confirm: erase this person's names, phone, email, notes and requests. "
                              "This cannot be undone."),
                           validators=[DataRequired(_l("Tick the box to confirm the erasure."))])


class KnownCallForm(StaffForm):
    """"Log the call on this record": the new-contact form's fields as typed so far, and the record the
    caller lookup offered (`record`, "prospect:12" or "patient:3"), which the caller service re-finds."""
    record = StringField()
    phone = StringField()
    email = StringField()
    channel = SelectField(choices=vocabulary.choices(vocabulary.CHANNELS), default="phone", validate_choice=False)
    note = TextAreaField()
