"""Response deadlines and the follow-ups the rules plan (seeds 000, 001, 002), from a prospect's facts.

Each rule has a stable code (stored in `FollowUp.rule`), finds its follow-up type by the type's stable
code (a manager may rename the type), gives its reason as a code and parameters (translated when shown),
and, per cause, a key (`FollowUp.cause_key`,
"rule:prospect id:anchor instant") that comes out the same whenever the same cause is seen again: the
caller stores it under a unique constraint, so a sweep run twice plans once, while a new cause (a new
question, a new appointment date) plans anew. A rule fires once its cause has happened as of `now`;
`due_at` is the deadline by which the follow-up should be done, always inside opening hours.
Datetimes follow `worktime`: naive means UTC, aware is accepted, results are naive UTC.

`due_followups` says what the rules ask for; `next_actions` is what a sweep plans of it (seed 004: every
open prospect has *a* next action, not a pile): nothing when a follow-up is already planned no later
than the rule's own due time (a person's plan wins), at most one per pass, and a cause seen only after
its due day (downtime, imported history, a fresh install) planned once at the next opening, its reason
saying for when it was due — never a backlog of past dates.

What the seeds decide, rule by rule (seed 000 unless said otherwise):
- Answers are owed to hot and warm prospects only: "Pour tout type de prospect chaud ou tiède, nous
  répondons toujours à la première question et à toutes les questions [...] dans les 15 jours suivant le
  premier contact (idéalement, dans les 48 heures ouvrés)": two working days ("jours ouvrés", as the
  clinic reads it; `answer_target` in the settings, or opening hours for a business that means them).
  A cold prospect's first contact is our own
  outreach, ending with the website and Facebook links: a template matter, no deadline.
- Cold prospects get no rule at all: "nous n'appelons pas ces prospects".
- Hot silence counts clock hours ("au bout de 48h"), unlike answers ("48 heures ouvrés"); the call is
  due at the next opening after them. The silence is measured from the last interaction of any kind,
  but the cause is the prospect's own last move (an inbound message, or becoming hot): our answer or our
  call does not start a new cause, so an unanswered prospect is not called again every 48 h — the
  follow-up's outcome (seed 002: not reached -> reschedule) carries the retries.
- Requalified from cold to hot: "l'appelons dans les 48h suivant la requalification" — within, so the
  deadline is the last working moment inside the 48 clock hours.
- Warm: "nous rappelons ces prospects [...] Nous leur envoyons ensuite de la documentation": the rule
  plans the call; the documentation is the call's next step (seed 002), planned when it is marked done.
  The seed gives no delay: `warm_qualify_after_hours` (48, as for hot) after the first answer; not
  while an appointment is booked (the appointment's reminder is the next action).
- Quote or programme request (seed 001): "Rappeler dans les 7 jours après la réponse à la demande": a
  deadline 7 calendar days after the answer that carried the quote or the information
  (`information_sent_at`: an outbound contact whose action code is marked so, e.g. DEVIS, DOC), pulled
  back to the last working moment before it; any other first contact is not that answer.
- Appointment (seed 001): "Rappel de RDV par appel téléphonique": due by the close of the working day
  before the appointment's day, for any booked appointment, whatever the qualification.
- Consent and outcome: a prospect marked "do not contact", won or lost gets nothing (DESIGN).
"""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ..timeutil import to_local, to_storage
from .worktime import (UNITS, Calendar, add_calendar_days, add_working_time, last_working_moment, local_time,
                       next_opening)

ANSWERED_TEMPERATURES = ("hot", "warm")

# Defaults for the keys services/defaults.SETTINGS does not carry yet; a setting, when present, wins.
RULE_DEFAULTS = {
    "answer_target": {"count": 2, "unit": "working_days"},   # seed 000: "48 heures ouvrées"
    "answer_window_days": 15,
    "hot_silence_hours": 48,
    "requalified_call_hours": 48,
    "warm_qualify_after_hours": 48,
    "callback_after_answer_days": 7,
    # rule -> the stable code of its follow-up type (FollowUpType.code), never the display name.
    "rule_types": {
        "first_answer": "answer",
        "answer_question": "answer",
        "hot_no_interaction_48h": "appointment_call",
        "requalified_hot_48h": "appointment_call",
        "warm_qualify": "qualify_call",
        "quote_callback_7d": "callback_after_answer",
        "programme_callback_7d": "callback_after_answer",
        "appointment_reminder": "appointment_reminder",
    },
}


@dataclass(frozen=True)
class ProspectFacts:
    """What the rules need to know about one prospect; the service reads it from the database."""
    id: int
    temperature: str
    qualification: str | None = None          # "appointment", "quote", "programme"
    do_not_contact: bool = False
    outcome: str = "open"
    first_contact_at: datetime | None = None
    last_interaction_at: datetime | None = None
    last_inbound_at: datetime | None = None   # the last message from the prospect that awaits an answer
    last_outbound_at: datetime | None = None  # our last answer
    temperature_changed_to_hot_at: datetime | None = None
    previous_temperature: str | None = None   # the temperature before that change
    appointment_at: datetime | None = None
    answered_at: datetime | None = None       # our first answer
    information_sent_at: datetime | None = None  # our last answer that carried the quote / information
    created_at: datetime | None = None


@dataclass(frozen=True)
class PlannedFollowUp:
    """A follow-up a rule asks for: which rule, for which cause, of which type (its code), due when, and
    why (a reason code and its parameters, translated when shown: see webapp/reasons.py)."""
    rule: str
    cause_key: str
    type_code: str
    due_at: datetime
    reason_code: str
    reason_params: Mapping = field(default_factory=dict)

    @property
    def caught_up(self) -> bool:
        return "planned_for" in self.reason_params


class ResponseDeadlines(NamedTuple):
    target_at: datetime  # first contact + the answer target (two working days)
    limit_at: datetime   # first contact + 15 days


@dataclass(frozen=True)
class _Config:
    answer_target: Mapping
    window_days: int
    hot_silence_hours: float
    requalified_hours: float
    warm_after_hours: float
    callback_days: int
    types: Mapping[str, str]


def response_deadlines(facts: ProspectFacts, cal: Calendar, settings: Mapping) -> ResponseDeadlines | None:
    """The first answer's target and limit for a hot or warm prospect; None when no answer is owed."""
    f = _normalised(facts)
    first = _first_contact(f)
    if f.temperature not in ANSWERED_TEMPERATURES or first is None:
        return None
    cfg = _config(settings)
    return ResponseDeadlines(answer_due(cal, first, cfg.answer_target),
                             add_calendar_days(cal, first, cfg.window_days))


def answer_due(cal: Calendar, asked: datetime, target: Mapping) -> datetime:
    """When a question asked at `asked` must be answered: the one function behind every first-answer
    deadline (the rules, Ma journée's time left, the requests pages, the digest). `target` is the
    `answer_target` setting, {"count": 2, "unit": "working_days"} for NEST."""
    return add_working_time(cal, asked, target["count"], target["unit"])


def due_followups(facts: ProspectFacts, cal: Calendar, settings: Mapping,
                  now: datetime) -> list[PlannedFollowUp]:
    """Every follow-up the rules ask for as of `now`, soonest first; the caller skips known cause keys."""
    f, now = _normalised(facts), to_storage(now)
    if f.do_not_contact or f.outcome != "open" or f.temperature not in ANSWERED_TEMPERATURES:
        return []
    cfg = _config(settings)
    planned = [p for rule in _RULES if (p := rule(f, cal, cfg, now)) is not None]
    return sorted(planned, key=lambda p: (p.due_at, p.rule))


def next_actions(asked: Iterable[PlannedFollowUp], planned_until: datetime | None, cal: Calendar,
                 now: datetime) -> list[PlannedFollowUp]:
    """Of what the rules ask for (causes not planned before), what to plan now: one next action, not a pile.

    Seed 004: a prospect has *a* next action. A rule plans nothing while a follow-up is planned no later
    than its own due time (`planned_until`, the earliest planned one: a person's plan wins); when that
    one is done or cancelled, the next pass looks again. A cause whose due day has already gone by is
    planned at the next opening instead (`caught_up`). At most one follow-up per pass: the soonest.
    """
    now = to_storage(now)
    for planned in sorted((caught_up(p, cal, now) for p in asked), key=lambda p: (p.due_at, p.rule)):
        if planned_until is None or to_storage(planned_until) > planned.due_at:
            return [planned]
    return []


def caught_up(planned: PlannedFollowUp, cal: Calendar, now: datetime) -> PlannedFollowUp:
    """A follow-up first planned after its due day (downtime, imported history, a fresh install): due at
    the next opening, its reason keeping the date it was due for ("prévu le 18/06, planifié au
    rattrapage"). One due earlier today stays: it is still today's to-do, not late."""
    now = to_storage(now)
    if _local_date(planned.due_at, cal.zone) >= _local_date(now, cal.zone):
        return planned
    params = {**planned.reason_params, "planned_for": planned.due_at.isoformat()}
    return replace(planned, due_at=next_opening(cal, now), reason_params=params)


def followup_state(due_at: datetime, done_at: datetime | None, now: datetime, abandon_after_days: int,
                   *, tz: str, planned_at: datetime | None = None) -> str:
    """"planned", "overdue", "abandoned" or "done", by local dates in the business timezone `tz`.

    Seed 002 plans follow-ups by date: one is to do on its day, overdue from the next day, and abandoned
    once `abandon_after_days` days have passed without it ever being done — counted from its date, or from
    when it was planned (`planned_at`) if that came later: a follow-up born late is nobody's abandonment
    on its first day.
    """
    if done_at is not None:
        return "done"
    zone = ZoneInfo(tz)
    today = _local_date(now, zone)
    days_late = (today - _local_date(due_at, zone)).days
    if days_late <= 0:
        return "planned"
    since = max(to_storage(due_at), to_storage(planned_at)) if planned_at is not None else due_at
    if (today - _local_date(since, zone)).days >= abandon_after_days:
        return "abandoned"
    return "overdue"


# --- the rules: each returns one PlannedFollowUp or None --------------------------------------------

def _first_answer(f: ProspectFacts, cal: Calendar, cfg: _Config, now: datetime) -> PlannedFollowUp | None:
    # seed 000: "nous répondons toujours à la première question" — "48 heures ouvrées": two working days.
    anchor = _first_contact(f)
    if f.answered_at is not None or f.last_inbound_at is None or anchor is None or anchor > now:
        return None
    due = answer_due(cal, anchor, cfg.answer_target)
    return _planned("first_answer", f, anchor, due, cfg, _target_params(cfg))


def _later_question(f: ProspectFacts, cal: Calendar, cfg: _Config, now: datetime) -> PlannedFollowUp | None:
    # seed 000: "et à toutes les questions [...] dans les 15 jours suivant le premier contact".
    asked, first = f.last_inbound_at, _first_contact(f)
    if f.answered_at is None or asked is None or first is None or asked > now:
        return None
    if asked <= _latest(f.answered_at, f.last_outbound_at):
        return None
    if asked > add_calendar_days(cal, first, cfg.window_days):
        return None
    due = answer_due(cal, asked, cfg.answer_target)
    return _planned("answer_question", f, asked, due, cfg, _target_params(cfg))


def _hot_silence(f: ProspectFacts, cal: Calendar, cfg: _Config, now: datetime) -> PlannedFollowUp | None:
    # seed 000: "si nous n'avons pas de nouvelle interaction avec le prospect au bout de 48h, nous
    # l'appelons afin de l'inviter à prendre rendez-vous".
    if f.temperature != "hot" or _upcoming_appointment(f, now) or _answer_pending(f, cal, cfg, now):
        return None
    anchor = _latest(f.last_inbound_at, f.temperature_changed_to_hot_at) or _first_contact(f)
    if anchor is None or (anchor == f.temperature_changed_to_hot_at and _requalified_from_cold(f)):
        return None  # requalified_hot_48h calls them
    since = _latest(anchor, f.last_interaction_at, f.last_outbound_at, f.answered_at)
    silent_until = since + timedelta(hours=cfg.hot_silence_hours)
    if now < silent_until:
        return None
    return _planned("hot_no_interaction_48h", f, anchor, next_opening(cal, silent_until), cfg,
                    {"hours": cfg.hot_silence_hours})


def _requalified_hot(f: ProspectFacts, cal: Calendar, cfg: _Config, now: datetime) -> PlannedFollowUp | None:
    # seed 000: "Dans le cas où un prospect serait requalifié en « Prospect Chaud », l'appelons dans les
    # 48h suivant la requalification."
    changed = f.temperature_changed_to_hot_at
    if f.temperature != "hot" or not _requalified_from_cold(f) or changed is None or changed > now:
        return None
    due = _within(cal, changed, changed + timedelta(hours=cfg.requalified_hours))
    return _planned("requalified_hot_48h", f, changed, due, cfg, {"hours": cfg.requalified_hours})


def _warm_qualify(f: ProspectFacts, cal: Calendar, cfg: _Config, now: datetime) -> PlannedFollowUp | None:
    # seed 000: "nous rappelons ces prospects et leur demandons des renseignements nous permettant de
    # mieux les qualifier. Nous leur envoyons ensuite de la documentation" (the next step, seed 002).
    if f.temperature != "warm" or _upcoming_appointment(f, now) or _answer_pending(f, cal, cfg, now):
        return None  # an appointment booked says enough: its reminder is the next action
    anchor = f.answered_at or _first_contact(f)
    if anchor is None or anchor > now:
        return None
    due = next_opening(cal, anchor + timedelta(hours=cfg.warm_after_hours))
    return _planned("warm_qualify", f, anchor, due, cfg, {})


_CALLBACKS = {"quote": "quote_callback_7d", "programme": "programme_callback_7d"}


def _callback_after_answer(f: ProspectFacts, cal: Calendar, cfg: _Config,
                           now: datetime) -> PlannedFollowUp | None:
    # seed 001: "Demande de devis ou d'informations tarifaires / Demande d'informations sur le programme
    # NEST: Rappeler dans les 7 jours après la réponse à la demande" — the answer that carried it.
    sent = f.information_sent_at
    if f.qualification not in _CALLBACKS or sent is None or sent > now:
        return None
    due = _within(cal, sent, add_calendar_days(cal, sent, cfg.callback_days))
    return _planned(_CALLBACKS[f.qualification], f, sent, due, cfg,
                    {"sent_at": sent.isoformat(), "days": cfg.callback_days})


def _appointment_reminder(f: ProspectFacts, cal: Calendar, cfg: _Config,
                          now: datetime) -> PlannedFollowUp | None:
    # seed 001: "Demande de RDV: Rappel de RDV par appel téléphonique" — by the working day before.
    at = f.appointment_at
    if at is None or at <= now:
        return None
    day_starts = to_storage(datetime.combine(local_time(cal, at).date(), time(0), tzinfo=cal.zone))
    due = last_working_moment(cal, day_starts)
    if due < now:  # booked too late for the eve: remind at the next opening, if it comes before
        due = next_opening(cal, now)
    if due >= at:
        return None
    return _planned("appointment_reminder", f, at, due, cfg, {"appointment_at": at.isoformat()})


_RULES = (_first_answer, _later_question, _hot_silence, _requalified_hot, _warm_qualify,
          _callback_after_answer, _appointment_reminder)


# --- helpers -------------------------------------------------------------------------------------------

def _planned(rule: str, f: ProspectFacts, anchor: datetime, due: datetime, cfg: _Config,
             params: Mapping) -> PlannedFollowUp:
    # The reason code is the rule's code: webapp/reasons.py says it in the reader's language.
    return PlannedFollowUp(rule=rule, cause_key=f"{rule}:{f.id}:{anchor.isoformat()}",
                           type_code=cfg.types[rule], due_at=due, reason_code=rule, reason_params=params)


def _target_params(cfg: _Config) -> dict:
    return {"count": cfg.answer_target["count"], "unit": cfg.answer_target["unit"]}


def _answer_pending(f: ProspectFacts, cal: Calendar, cfg: _Config, now: datetime) -> bool:
    """An unanswered question comes first: its answer is the next action, not a call."""
    return (_first_answer(f, cal, cfg, now) or _later_question(f, cal, cfg, now)) is not None


def _within(cal: Calendar, start: datetime, deadline: datetime) -> datetime:
    """The last working moment before `deadline`; the next opening when none falls after `start`."""
    due = last_working_moment(cal, deadline)
    return due if due >= start else next_opening(cal, start)


def _requalified_from_cold(f: ProspectFacts) -> bool:
    return f.temperature_changed_to_hot_at is not None and f.previous_temperature == "cold"


def _upcoming_appointment(f: ProspectFacts, now: datetime) -> bool:
    return f.appointment_at is not None and f.appointment_at > now


def _first_contact(f: ProspectFacts) -> datetime | None:
    return f.first_contact_at or f.created_at


def _latest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def _local_date(moment: datetime, zone: ZoneInfo):
    return to_local(moment, zone).date()


def _normalised(facts: ProspectFacts) -> ProspectFacts:
    """The same facts with every datetime in naive UTC: keys and comparisons ignore the input's form."""
    changes = {fl.name: to_storage(value) for fl in fields(facts)
               if isinstance(value := getattr(facts, fl.name), datetime)}
    return replace(facts, **changes)


def _config(settings: Mapping) -> _Config:
    def get(key):
        return settings.get(key, RULE_DEFAULTS[key])
    return _Config(answer_target=answer_target(settings),
                   window_days=int(get("answer_window_days")),
                   hot_silence_hours=float(get("hot_silence_hours")),
                   requalified_hours=float(get("requalified_call_hours")),
                   warm_after_hours=float(get("warm_qualify_after_hours")),
                   callback_days=int(get("callback_after_answer_days")),
                   types={**RULE_DEFAULTS["rule_types"], **(settings.get("rule_types") or {})})


def answer_target(settings: Mapping) -> dict:
    """The `answer_target` setting, checked: {"count": n, "unit": "working_days" | "working_hours"}."""
    target = dict(settings.get("answer_target") or RULE_DEFAULTS["answer_target"])
    if target.get("unit") not in UNITS or float(target.get("count", -1)) < 0:
        raise ValueError(f"bad answer_target setting: {target!r}")
    count = float(target["count"])
    return {"count": int(count) if count.is_integer() else count, "unit": target["unit"]}
