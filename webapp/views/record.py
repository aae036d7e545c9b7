"""The prospect's record, as the page, the board's side panel and the follow-ups blueprint show it: a
presenter both blueprints import (it imports neither), so the record page has one builder."""
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from playhouse.flask_utils import get_object_or_404

from ..forms import ConsentForm, InteractionForm, PlanForm, TemperatureForm
from ..models import ActionCode, Prospect
from ..services import followups as followup_service
from ..services import search as search_service
from ..services import timeline as timeline_service
from ..services.users import active_staff, may_assign_to_others
from .. import timeutil
from ..timeutil import utcnow


def get_prospect(prospect_id: int) -> Prospect:
    return get_object_or_404(Prospect, Prospect.id == prospect_id)


def staff_choices(blank: bool = True):
    choices = [(str(u.id), u.name) for u in active_staff()]
    return ([("", _("Unassigned"))] if blank else []) + choices


def action_code_choices():
    return [("", "—")] + [(str(a.id), f"{a.code} — {a.label}")
                          for a in ActionCode.select().where(ActionCode.active).order_by(ActionCode.code)]


def local_input(moment: datetime | None) -> str:
    """A stored UTC datetime as a `datetime-local` input value in the business timezone."""
    return timeutil.local_input(moment, current_app.config["TIMEZONE"])


def followups_section(prospect: Prospect, *, errors: str | None = None, form: PlanForm | None = None,
                      message: str | None = None) -> dict:
    """What templates/followups/_prospect_followups.html needs (the record's `followups` key); `form` is
    the plan form as posted, when it was refused."""
    data = followup_service.prospect_followups(prospect)
    now = utcnow()
    tz = current_app.config["TIMEZONE"]
    abandon_after = int(followup_service.setting("abandon_after_days"))
    for followup in data["planned"]:
        followup.day_state = followup_service.followup_state(followup.due_at, None, now, abandon_after, tz=tz,
                                                             planned_at=followup.created_at)
    user = current_user._get_current_object()
    staff = active_staff() if may_assign_to_others(user) else [user]
    if form is None:
        # The prospect's owner when the person may give her the work, else the person herself.
        owner = prospect.owner_id if prospect.owner_id in {member.id for member in staff} else user.id
        form = PlanForm(formdata=None, owner=str(owner), value=prospect.temperature,
                        due_at=local_input(followup_service.default_due(now, tz)))
    form.type.choices = [("", "—")] + [(str(t.id), t.name) for t in data["types"]]
    form.owner.choices = [("", _("Unassigned"))] + [(str(member.id), member.name) for member in staff]
    return {**data, "staff": staff, "errors": errors, "message": message, "now": now, "form": form}


def record_context(prospect: Prospect, interaction_form=None) -> dict:
    """Everything the record page and its side panel show besides the prospect itself."""
    interaction_form = interaction_form or InteractionForm()
    interaction_form.action_code.choices = action_code_choices()
    return {
        "timeline": timeline_service.timeline(prospect.id),
        "interaction_form": interaction_form,
        "temperature_form": TemperatureForm(temperature=prospect.temperature),
        "consent_form": ConsentForm(do_not_contact=prospect.do_not_contact),
        "next_action": search_service.next_actions([prospect.id]).get(prospect.id),
        "followups": followups_section(prospect),
    }
