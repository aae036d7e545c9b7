"""The manager's figures: seed 001's conversion cohort, one month at a time, as of any date."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_babel import format_date

from ..security import require
from ..services.cohort import DIMENSIONS, WINDOW, month_report, months_with_prospects
from ..timeutil import parse_iso_date, to_local, to_storage, utcnow

bp = Blueprint("figures", __name__, url_prefix="/figures")


def _as_of(text: str | None) -> tuple[datetime, date | None, bool]:
    """The end of the day asked for (business time, stored form), the day, and whether it was unreadable."""
    if text:
        try:
            day = parse_iso_date(text)
            zone = ZoneInfo(current_app.config["TIMEZONE"])
            return to_storage(datetime.combine(day + timedelta(days=1), time.min, zone)), day, False
        except ValueError:
            return utcnow(), None, True
    return utcnow(), None, False


def _month(text: str | None, as_of: datetime) -> tuple[date, bool]:
    """The month asked for (YYYY-MM); by default the latest one complete as of `as_of`."""
    if text:
        try:
            year, month = text.split("-")
            return date(int(year), int(month), 1), False
        except ValueError:
            pass
    latest_complete = (as_of - WINDOW).date().replace(day=1) - timedelta(days=1)
    return latest_complete.replace(day=1), bool(text)


@bp.get("/conversion")
@require("figures.view")
def conversion():
    as_of, as_of_day, bad_day = _as_of(request.args.get("as_of"))
    month, bad_month = _month(request.args.get("month"), as_of)
    report = month_report(month, as_of)
    months = months_with_prospects(as_of)
    if month not in months:
        months = sorted([*months, month], reverse=True)
    choices = [(m.strftime("%Y-%m"), format_date(m, "MMMM y").capitalize()) for m in months]
    return render_template("figures/conversion.html", report=report, dimensions=DIMENSIONS, months=choices,
                           report_month=month.strftime("%Y-%m"), as_of_day=as_of_day,
                           shown_day=as_of_day or to_local(as_of, current_app.config["TIMEZONE"]).date(),
                           bad_input=bad_day or bad_month, window_days=WINDOW.days)
