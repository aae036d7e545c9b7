"""Follow-ups by hand and their four outcomes (seed 002), and each person's day ("Ma journée").

Completing a follow-up records, in the same transaction, the contact it was: an interaction with its
action code, so nobody logs the same call twice (issue 13). The person picks the code; the form offers
the usual one. Which outcomes are a contact:
- signed up, next step, not interested: the person was reached. The interaction counts against the
  action budget when its code does (seed 003: an outgoing call, message, SMS or mail) and brings the
  activity status back to normal (seed 000: "any new interaction");
- not reached: an attempt (no answer, voicemail, SMS "injoignable"). Seed 003 counts it as an action
  of the budget, but nobody answered, so the activity clock keeps running (`Interaction.reached` false);
- a missed appointment or trial (not reached on a follow-up whose type's action is one, seed 002's
  "n'a pas honoré son RDV"): a no-show is nobody's action, so by default no contact is recorded.
The person may also choose "no contact" for any outcome; the note is then kept on the follow-up only.
"""
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from peewee import JOIN, fn

from ..config import business_timezone
from ..models import (ActionCode, FollowUp, FollowUpType, FollowUpTypeNext, Holiday, Interaction, LostReason,
                      Prospect, Stage, User, database)
from ..refusals import Refusal
from ..rules.followups import ProspectFacts, followup_state, response_deadlines
from ..rules.worktime import calendar_from_settings, next_opening_to_come
from ..security import can
from ..timeutil import from_local, to_local, to_storage
from ..vocabulary import FOLLOWUP_OUTCOMES, FOLLOWUP_VALUES
from .audit import record as audit
from .board import MoveRefused, move
from .defaults import setting
from .next_action import refresh_next_action
from .prospects import add_interaction
from .users import may_assign_to_others, may_own_work

UNPLANNED_LIMIT = 50
USUAL = "usual"           # complete_followup's default contact: usual_contact(type, outcome)
VISIT_ACTIONS = ("appointment", "trial")   # seed 002: a follow-up that is a visit to the clinic
AWAITING_LIMIT = 100


class FollowUpError(Refusal):
    """A refused plan or completion; `code` says why, nothing was changed."""
    domain = "followup"


# --- the workflow's types ----------------------------------------------------------------------------

def active_types() -> list[FollowUpType]:
    return list(FollowUpType.select().where(FollowUpType.active).order_by(FollowUpType.position, FollowUpType.id))


def first_step_types() -> list[FollowUpType]:
    return [t for t in active_types() if t.first_step]


def next_types(followup_type: FollowUpType | None) -> list[FollowUpType]:
    """The types allowed after `followup_type`; a follow-up without a type may start any first step."""
    if followup_type is None:
        return first_step_types()
    return list(FollowUpType.select().join(FollowUpTypeNext, on=(FollowUpTypeNext.to_type == FollowUpType.id))
                .where((FollowUpTypeNext.from_type == followup_type.id) & FollowUpType.active)
                .order_by(FollowUpType.position, FollowUpType.id))


# --- planning and completing -------------------------------------------------------------------------

def plan_followup(prospect: Prospect, type: FollowUpType | None, owner: User | None, due_at: datetime | None,
                  value: str, comment: str, user, now: datetime, *, previous: FollowUp | None = None) -> FollowUp:
    """Plan a follow-up by hand: a future date, a type (a first step to start a workflow, seed 002),
    never for a closed prospect or one who asked not to be contacted."""
    if owner is not None and not may_own_work(owner):
        raise FollowUpError("owner_not_allowed")
    if owner is not None and user is not None and owner.id != user.id and not may_assign_to_others(user):
        raise FollowUpError("assign_not_allowed")
    with database.atomic():
        prospect = Prospect.get_by_id(prospect.id)
        _check_plan(prospect, type, due_at, value, now, starting=previous is None and not _has_followups(prospect))
        followup = FollowUp.create(prospect=prospect.id, type=type.id, owner=owner.id if owner else None,
                                   due_at=to_storage(due_at), value=value, comment=(comment or "").strip(),
                                   previous=previous.id if previous else None,
                                   created_by=user.id if user else None, created_at=now)
        refresh_next_action([prospect.id])
    audit("followup.plan", "prospect", prospect.id, detail=f"followup {followup.id}", actor=user)
    return followup


def _has_followups(prospect: Prospect) -> bool:
    return FollowUp.select().where(FollowUp.prospect == prospect.id).exists()


def _check_plan(prospect: Prospect, type, due_at, value, now, *, starting: bool) -> None:
    if prospect.do_not_contact:
        raise FollowUpError("do_not_contact")
    if prospect.outcome != "open":
        raise FollowUpError("closed")
    if type is None or not type.active:
        raise FollowUpError("type_required")
    # seed 002: "au moins un type doit être coché « Première étape »" to start a workflow.
    if starting and not type.first_step:
        raise FollowUpError("not_first_step")
    if due_at is None:
        raise FollowUpError("date_required")
    # seed 002: "La date de relance prévue (toujours dans le futur)".
    if to_storage(due_at) <= now:
        raise FollowUpError("past_date")
    if value not in FOLLOWUP_VALUES:  # seed 002: "la valeur du prospect"
        raise FollowUpError("bad_value")


def may_complete(user, followup: FollowUp) -> bool:
    """A secretary completes her own follow-ups and unassigned ones; the lead and managers any."""
    return can("prospects.classify", user) or followup.owner_id in (None, user.id)


def usual_contact(followup_type: FollowUpType | None, outcome: str | None) -> ActionCode | None:
    """The contact a completion records unless the person picks another (see the module docstring):
    none for a missed appointment or trial, a visit for one that took place, else an outgoing call
    (the first active code of that channel, outgoing ones first, in the lexicon's order)."""
    visit = followup_type is not None and followup_type.action in VISIT_ACTIONS
    if visit and outcome == "not_reached":
        return None
    return (ActionCode.select().where(ActionCode.active & (ActionCode.channel == ("visit" if visit else "phone")))
            .order_by(ActionCode.counts_toward_budget.desc(), ActionCode.id).first())


def contact_codes() -> list[ActionCode]:
    """The lexicon a completion offers (seed 003), in its order."""
    return list(ActionCode.select().where(ActionCode.active).order_by(ActionCode.id))


def complete_followup(followup: FollowUp, outcome: str, user, now: datetime, *,
                      reschedule_at: datetime | None = None, next_type: FollowUpType | None = None,
                      next_due_at: datetime | None = None, lost_reason: LostReason | None = None,
                      contact: ActionCode | str | None = USUAL, note: str = "") -> FollowUp | None:
    """Mark a planned follow-up done with one of seed 002's four outcomes, in one transaction:
    not reached -> the same type again at `reschedule_at`; signed up -> converted (first won stage);
    next step -> an allowed next type at `next_due_at`; not interested -> lost with `lost_reason`.
    The contact it was (`contact`: an action code, None for no contact, by default the usual one) is
    logged with `note` in the same transaction. Returns the follow-up planned next, if any. Refuses
    (FollowUpError) a stale or finished one, changing nothing."""
    if outcome not in FOLLOWUP_OUTCOMES:
        raise FollowUpError("bad_outcome")
    if not may_complete(user, followup):
        raise FollowUpError("forbidden")
    note = (note or "").strip()
    with database.atomic():
        # Marked done only if still planned: two people completing it at once, one wins.
        done = (FollowUp.update(state="done", outcome=outcome, done_at=now, done_by=user.id, outcome_note=note)
                .where((FollowUp.id == followup.id) & (FollowUp.state == "planned")).execute())
        if done != 1:
            raise FollowUpError("already_done")
        followup = FollowUp.get_by_id(followup.id)
        prospect = Prospect.get_by_id(followup.prospect_id)
        if contact == USUAL:
            contact = usual_contact(followup.type, outcome)
        if contact is not None:
            _log_contact(followup, prospect, contact, outcome, note, user, now)
        following = _OUTCOMES[outcome](followup, prospect, user, now, reschedule_at=reschedule_at,
                                       next_type=next_type, next_due_at=next_due_at, lost_reason=lost_reason)
        refresh_next_action([prospect.id])
    audit("followup.complete", "prospect", prospect.id, detail=f"followup {followup.id}: {outcome}", actor=user)
    return following


def _log_contact(followup: FollowUp, prospect: Prospect, code: ActionCode, outcome: str, note: str, user,
                 now: datetime) -> None:
    """The interaction a completion records, linked to the follow-up. An outgoing code (one that spends
    the budget) is our call or message; any other (an incoming call, a visit) came from the person.
    Logged before the outcome moves the prospect: add_interaction saves the whole record."""
    interaction = add_interaction(prospect, channel=code.channel or "other",
                                  direction="out" if code.counts_toward_budget else "in", note=note, user=user,
                                  action_code=code, occurred_at=now, now=now, reached=outcome != "not_reached")
    FollowUp.update(interaction=interaction.id).where(FollowUp.id == followup.id).execute()


def _not_reached(followup, prospect, user, now, *, reschedule_at, **_):
    # seed 002: "Nous n'avons pas pu contacter le prospect [...] --> On peut reprogrammer."
    if reschedule_at is None:
        raise FollowUpError("date_required")
    return _chain(followup, prospect, followup.type, reschedule_at, user, now)


def _next_step(followup, prospect, user, now, *, next_type, next_due_at, **_):
    # seed 002: "On passe à l'étape suivante" — only a type configured as coming next.
    if next_type is None:
        raise FollowUpError("type_required")
    if next_type.id not in {t.id for t in next_types(followup.type)}:
        raise FollowUpError("next_type_not_allowed")
    if next_due_at is None:
        raise FollowUpError("date_required")
    return _chain(followup, prospect, next_type, next_due_at, user, now)


def _signed_up(followup, prospect, user, now, **_):
    # seed 002: "La relance a mené à une inscription" — the prospect is converted.
    _close(prospect, "won", user, now)
    return None


def _not_interested(followup, prospect, user, now, *, lost_reason, **_):
    # seed 002: "On clôture le workflow [...] le prospect est considéré Perdu."
    if lost_reason is None:
        raise FollowUpError("lost_reason_required")
    _close(prospect, "lost", user, now, lost_reason=lost_reason)
    return None


_OUTCOMES = {"not_reached": _not_reached, "next_step": _next_step, "signed_up": _signed_up,
             "not_interested": _not_interested}


def _chain(followup: FollowUp, prospect: Prospect, type, due_at, user, now) -> FollowUp:
    _check_plan(prospect, type, due_at, followup.value, now, starting=False)
    return FollowUp.create(prospect=prospect.id, type=type.id if type else None, owner=followup.owner_id,
                           due_at=to_storage(due_at), value=followup.value, previous=followup.id,
                           created_by=user.id, created_at=now)


def _close(prospect: Prospect, kind: str, user, now, lost_reason=None) -> None:
    """Through the board's move, the one place a prospect changes stage (history, cancelling the rest)."""
    stage = (Stage.select().where((Stage.kind == kind) & ~Stage.retired).order_by(Stage.position, Stage.id).first())
    if stage is None:
        raise FollowUpError(f"no_{kind}_stage")
    try:
        move(prospect.id, stage, user, version=prospect.version, lost_reason=lost_reason,
             confirmed=True, may_reopen=False, now=now)
    except MoveRefused as refusal:
        raise FollowUpError(refusal.code) from refusal


# --- a prospect's follow-ups -------------------------------------------------------------------------

def prospect_followups(prospect: Prospect) -> dict:
    """Planned and past follow-ups of one prospect, and what the plan form offers."""
    rows = list(FollowUp.select(FollowUp, FollowUpType, User)
                .join(FollowUpType, JOIN.LEFT_OUTER, on=(FollowUp.type == FollowUpType.id)).switch(FollowUp)
                .join(User, JOIN.LEFT_OUTER, on=(FollowUp.owner == User.id))
                .where(FollowUp.prospect == prospect.id).order_by(FollowUp.due_at))
    planned = [f for f in rows if f.state == "planned"]
    past = sorted((f for f in rows if f.state != "planned"), key=lambda f: f.done_at or f.due_at, reverse=True)
    return {"planned": planned, "past": past,
            "types": first_step_types() if not rows else active_types(),
            "may_plan": prospect.outcome == "open" and not prospect.do_not_contact}


# --- Ma journée --------------------------------------------------------------------------------------

@dataclass
class AwaitingRequest:
    """An inbound request not answered yet, with its first-answer target and limit (seed 000)."""
    prospect: Prospect
    target_at: datetime
    limit_at: datetime
    state: str  # "on_time", "late" (target passed), "over_limit" (15 days passed)


@dataclass
class MyDay:
    overdue: list = field(default_factory=list)
    today: list = field(default_factory=list)
    abandoned: list = field(default_factory=list)
    todo: list = field(default_factory=list)
    todo_count: int = 0
    awaiting: list | None = None   # None: not the lead's page
    abandon_after_days: int = 7

    def counts(self) -> dict[str, int]:
        counts = {"overdue": len(self.overdue), "today": len(self.today), "abandoned": len(self.abandoned),
                  "todo": self.todo_count}
        if self.awaiting is not None:
            counts["awaiting"] = len(self.awaiting)
        return counts


def my_day(user: User, now: datetime) -> MyDay:
    """The user's follow-ups due today or late (overdue first), abandoned ones apart, their prospects
    with nothing planned, and for the lead the requests awaiting a first answer. Fixed query count."""
    tz = business_timezone()
    abandon_after = int(setting("abandon_after_days"))
    day = MyDay(abandon_after_days=abandon_after)
    for followup in _due_followups(user, _end_of_day(now, tz)):
        followup.day_state = followup_state(followup.due_at, followup.done_at, now, abandon_after, tz=tz,
                                            planned_at=followup.created_at)
        {"overdue": day.overdue, "abandoned": day.abandoned}.get(followup.day_state, day.today).append(followup)
    todo = _todo_query(user)
    day.todo = list(todo.order_by(Prospect.created_at, Prospect.id).limit(UNPLANNED_LIMIT))
    day.todo_count = todo.count()
    if can("requests.first_answers", user):
        day.awaiting = awaiting_answer(now, tz)
    return day


def _end_of_day(now: datetime, tz: str) -> datetime:
    return from_local(to_local(now, tz).date() + timedelta(days=1), time(0), tz)


def _due_followups(user: User, before: datetime):
    """Planned follow-ups due before the end of today: the user's, and unassigned ones on their prospects."""
    mine = (FollowUp.owner == user.id) | (FollowUp.owner.is_null() & (Prospect.owner == user.id))
    return (FollowUp.select(FollowUp, Prospect, FollowUpType)
            .join(Prospect, on=(FollowUp.prospect == Prospect.id)).switch(FollowUp)
            .join(FollowUpType, JOIN.LEFT_OUTER, on=(FollowUp.type == FollowUpType.id))
            .where((FollowUp.state == "planned") & (FollowUp.due_at < before) & mine)
            .order_by(FollowUp.due_at, FollowUp.id))


def _todo_query(user: User):
    """Issue 4: an open prospect with nothing planned is "à faire" until someone plans or closes it."""
    planned = FollowUp.select(FollowUp.id).where((FollowUp.prospect == Prospect.id) & (FollowUp.state == "planned"))
    return Prospect.select().where((Prospect.owner == user.id) & (Prospect.outcome == "open")
                                   & ~Prospect.do_not_contact & ~fn.EXISTS(planned))


def awaiting_answer(now: datetime, tz: str) -> list[AwaitingRequest]:
    """Open hot or warm prospects whose first contact has had no outbound answer yet (a call nobody
    answered is not one), the most urgent first. Only requests from the last two answer windows: older ones are the sweep's and the digest's."""
    window = int(setting("answer_window_days"))
    answered = Interaction.select(Interaction.id).where(
        (Interaction.prospect == Prospect.id) & (Interaction.direction == "out") & Interaction.reached
        & (Interaction.occurred_at >= Prospect.first_contact_at))
    prospects = list(Prospect.select().where(
        (Prospect.outcome == "open") & ~Prospect.do_not_contact & Prospect.temperature.in_(("hot", "warm"))
        & Prospect.first_contact_at.is_null(False) & (Prospect.first_contact_at >= now - timedelta(days=2 * window))
        & ~fn.EXISTS(answered)).order_by(Prospect.first_contact_at).limit(AWAITING_LIMIT))
    if not prospects:
        return []
    facts = [ProspectFacts(id=prospect.id, temperature=prospect.temperature,
                           first_contact_at=prospect.first_contact_at, created_at=prospect.created_at)
             for prospect in prospects]
    result = [AwaitingRequest(prospect, *deadline)
              for prospect, deadline in zip(prospects, answer_deadlines(facts, now, tz)) if deadline]
    return sorted(result, key=lambda r: (r.target_at, r.prospect.id))


def answer_deadlines(facts: list[ProspectFacts], now: datetime, tz: str) -> list[tuple | None]:
    """For each contact, its first-answer target and limit (seed 000: two working days, 15 days) and
    where `now` stands: (target_at, limit_at, "on_time" | "late" | "over_limit"), or None (cold).
    The same `rules.followups.answer_due` as the sweep's first-answer follow-up."""
    cal = business_calendar(now, tz)
    settings = {"answer_target": setting("answer_target"), "answer_window_days": int(setting("answer_window_days"))}
    result = []
    for fact in facts:
        deadlines = response_deadlines(fact, cal, settings)
        if deadlines is None:
            result.append(None)
            continue
        state = "on_time" if now < deadlines.target_at else "late" if now < deadlines.limit_at else "over_limit"
        result.append((deadlines.target_at, deadlines.limit_at, state))
    return result


def business_calendar(now: datetime, tz: str):
    """The working-time calendar as the settings describe it, with the admins' holiday overrides."""
    return calendar_from_settings(setting("working_hours"), setting("holiday_country"),
                                  range(now.year - 1, now.year + 2), tz,
                                  [(h.day, h.name, h.closed) for h in Holiday.select()])


def default_due(now: datetime, tz: str) -> datetime:
    """The date a form offers for the next call: the next working day's opening."""
    return next_opening_to_come(business_calendar(now, tz), now)
