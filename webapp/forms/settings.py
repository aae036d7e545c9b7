"""The manager's workflow settings: pipeline stages, follow-up types, the provenances patients state.

The services (services/stages.py, services/followup_types.py) judge every change; these forms read the
fields. The row being changed is a field (`stage_id`, `type_id`), so each action has one URL."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField

from .. import vocabulary
from ..services.followup_types import MAX_DESCRIPTION
from ..services.followup_types import MAX_NAME as MAX_TYPE_NAME
from ..services.provenances import MAX_ENTRIES, MAX_LENGTH
from ..services.stages import MAX_NAME as MAX_STAGE_NAME
from .base import StaffForm, TextBox



class NewStageForm(StaffForm):
    name = StringField(_l("Name"), id="new-stage-name",
                       render_kw={"required": True, "maxlength": MAX_STAGE_NAME, "autocomplete": "off"})
    kind = SelectField(_l("Kind"), id="new-stage-kind", choices=vocabulary.choices(vocabulary.STAGE_KINDS), default="open",
                       validate_choice=False)


class StageForm(StaffForm):
    """One stage's row: which stage, and what the pressed button changes (its name, kind or place)."""
    stage_id = HiddenField()
    name = StringField(_l("Name"), render_kw={"required": True, "maxlength": MAX_STAGE_NAME,
                                              "autocomplete": "off"})
    kind = SelectField(_l("Kind"), choices=vocabulary.choices(vocabulary.STAGE_KINDS), validate_choice=False)
    direction = HiddenField()


class TypeForm(StaffForm):
    """A follow-up type's fields, for a new one or an existing one (`type_id`)."""
    type_id = HiddenField()
    name = StringField(_l("Name"), render_kw={"required": True, "maxlength": MAX_TYPE_NAME,
                                              "autocomplete": "off"})
    action = SelectField(_l("Action"), choices=vocabulary.choices(vocabulary.FOLLOWUP_ACTIONS), default="none", validate_choice=False)
    description = TextAreaField(_l("Description"), render_kw={"rows": 2, "maxlength": MAX_DESCRIPTION})
    first_step = BooleanField(_l("First step: a follow-up workflow may start with this type"),
                              render_kw={"value": "1"})
    next = SelectMultipleField(_l("Types that may come next"), validate_choice=False)

    def values(self) -> dict:
        """What the follow-up types service takes, as the person typed it."""
        return {"name": self.name.data or "", "description": self.description.data or "",
                "first_step": bool(self.first_step.data), "action": self.action.data or "",
                "next": list(self.next.data or [])}


class ProvenancesForm(StaffForm):
    """The provenance list, one entry a line (services/provenances.py judges it)."""
    entries = TextAreaField(_l("Provenances, one a line"), widget=TextBox(),
                            render_kw={"rows": 10, "maxlength": MAX_ENTRIES * (MAX_LENGTH + 2), "spellcheck": "true"})
