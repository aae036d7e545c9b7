"""The follow-up lead's triage of website requests: create the prospect (with an owner, or the source's
rule), attach to a known record, mark as spam, process again, dismiss. Each is one POST; the triage
service judges the state (someone quicker: 409), these forms read the fields."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField

from .base import HouseSelect, StaffForm, strip


def owner_choices(staff) -> list[tuple[str, str]]:
    """The owner menu: the source's rule first (nothing chosen), then the active staff."""
    return [("", _l("Automatic (source's rule)"))] + [(str(person.id), person.name) for person in staff]


class TriageForm(StaffForm):
    """A one-button action (spam, process again, dismiss): `queue` is the queue to go back to."""
    queue = HiddenField(filters=[strip])


class CreateForm(TriageForm):
    """Create the prospect: an owner among the active staff, or none (the source's rule decides)."""
    owner = SelectField(_l("Owner"), default="", filters=[strip], widget=HouseSelect())


class AttachForm(TriageForm):
    """Attach to a known record: the prospect's or the patient's id (one of them)."""
    prospect_id = HiddenField(filters=[strip])
    patient_id = HiddenField(filters=[strip])
