"""Ma journée: each person's follow-ups due today or late, prospects with nothing planned, and for the
follow-up lead the requests still waiting for a first answer."""
from flask import Blueprint, current_app, make_response, render_template
from flask_login import current_user

from .. import htmx
from ..models import FollowUp
from ..security import require
from ..services.followups import my_day
from ..timeutil import utcnow

bp = Blueprint("myday", __name__)


@bp.get("/my-day")
@require("prospects.view")
def index():
    now = utcnow()
    day = my_day(current_user._get_current_object(), now)
    return htmx.render("myday/index.html", "myday/_sections.html", day=day, now=now)


def day_changes(done: FollowUp, following: FollowUp | None, message: str):
    """After a completion from the day's page: the row says what happened; out of band, every section
    count, and the next follow-up's row when it falls in today's list."""
    now = utcnow()
    day = my_day(current_user._get_current_object(), now)
    appended = next((f for f in day.today if following is not None and f.id == following.id), None)
    response = make_response(render_template("myday/_changes.html", done=done, message=message,
                                             counts=day.counts(), appended=appended, now=now,
                                             tz=current_app.config["TIMEZONE"]))
    return htmx.vary(response)
