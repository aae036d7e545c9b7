"""Why a rule planned a follow-up, in the reader's language: the rules store a reason code and its
parameters (`FollowUp.reason_code`, `reason_params`); older follow-ups carry free text, shown as it is."""
from collections.abc import Mapping
from datetime import datetime

from babel.dates import format_skeleton, format_time
from flask_babel import get_locale, get_timezone, gettext as _, ngettext

from .services.defaults import setting
from .timeutil import to_local


def reason_text(followup) -> str:
    """The follow-up's reason as a sentence ("" for a follow-up planned by hand without one)."""
    code, params = getattr(followup, "reason_code", None), getattr(followup, "reason_params", None) or {}
    text = describe(code, params) if code else (followup.rule_reason or "")
    if text and params.get("planned_for"):
        return _("%(reason)s (due %(date)s, planned on catch-up)", reason=text,
                 date=_day(params["planned_for"]))
    return text


def describe(code: str, params: Mapping) -> str:
    """One reason code with its parameters as a sentence; an unknown code is shown as it is."""
    say = _REASONS.get(code)
    return say(params) if say else code


def answer_target_text() -> str:
    """The configured first-answer target in words ("2 working days"), for the pages that report it."""
    return target_text(setting("answer_target"))


def target_text(params: Mapping) -> str:
    count = params.get("count", 2)
    if params.get("unit") == "working_hours":
        return ngettext("%(count)s working hour", "%(count)s working hours", _number(count), count=_shown(count))
    return ngettext("%(count)s working day", "%(count)s working days", _number(count), count=_shown(count))


def _sent(params: Mapping, message: str) -> str:
    return message % {"date": _day(params["sent_at"]), "days": params.get("days", 7)}


def _appointment(params: Mapping) -> str:
    at = _local(params["appointment_at"])
    return _("Appointment on %(date)s at %(time)s: call to remind them", date=_day(params["appointment_at"]),
             time=format_time(at, "short", locale=str(get_locale())))


_REASONS = {
    "first_answer": lambda p: _("First question unanswered: answer within %(target)s", target=target_text(p)),
    "answer_question": lambda p: _("New question unanswered: answer within %(target)s", target=target_text(p)),
    "hot_no_interaction_48h": lambda p: _("Hot with no interaction for %(hours)s h: call to offer an appointment",
                                          hours=_shown(p.get("hours", 48))),
    "requalified_hot_48h": lambda p: _("Requalified from cold to hot: call within %(hours)s h",
                                       hours=_shown(p.get("hours", 48))),
    "warm_qualify": lambda p: _("Warm: call back to qualify further, then send the documentation"),
    "quote_callback_7d": lambda p: _sent(p, _("Quote / prices sent on %(date)s: call back within %(days)s days")),
    "programme_callback_7d": lambda p: _sent(
        p, _("Programme information sent on %(date)s: call back within %(days)s days")),
    "appointment_reminder": _appointment,
}


def _local(iso: str) -> datetime:
    return to_local(datetime.fromisoformat(iso), get_timezone())


def _day(iso: str) -> str:
    """Day and month in the reader's locale and the business timezone: 18/06, 6/18."""
    return format_skeleton("dM", _local(iso), locale=str(get_locale()))


def _number(value) -> int:
    return int(value) if float(value).is_integer() else 2   # plural of a fraction: "1.5 hours"


def _shown(value) -> str:
    return f"{float(value):g}"
