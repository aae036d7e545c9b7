"""The demo's procedure as the staff kept it (issue 13): each rule follow-up whose day has gone by was done
on its day, with the contact it was, so that the first sweep after `relance demo` finds nothing to catch up.

Uses the sweep's own facts and rules (`services.sweep.facts_for`, `rules.followups.due_followups`).
"""
from datetime import datetime, timedelta

from .demo_data import ANSWER_CODES, CODE_NOTES, RULE_NOTES
from .models import FollowUp, Prospect, User
from .rules.followups import PlannedFollowUp, due_followups
from .rules.worktime import is_open, local_time, next_opening
from .services.prospects import add_interaction
from .services.sweep import facts_for, rule_settings


def keep_procedure(loader) -> None:
    """Each rule follow-up whose day has gone by was done on its day, with the contact it was (an
    answer, a call), soonest first, prospect by prospect, until the rules ask for nothing late."""
    settings, today = rule_settings(), local_time(loader.cal, loader.now).date()
    done: set[str] = set()
    pending = list(loader.created)
    for _ in range(12):
        later = []
        for facts, row in facts_for(pending, loader.now):
            late = [p for p in due_followups(facts, loader.cal, settings, loader.now)
                    if p.cause_key not in done and local_time(loader.cal, p.due_at).date() < today]
            if late:
                planned = min(late, key=lambda p: (p.due_at, p.rule))
                _did(loader, planned, Prospect.get_by_id(facts.id), row["owner"])
                done.add(planned.cause_key)
                later.append(facts.id)
        if not later:
            break
        pending = later


def _did(loader, planned: PlannedFollowUp, prospect: Prospect, owner_id: int | None) -> None:
    """A rule follow-up done on its day by the prospect's owner, and the contact it was."""
    at = planned.due_at if is_open(loader.cal, planned.due_at) else planned.due_at - timedelta(minutes=10)
    at -= timedelta(minutes=loader.rng.randint(0, 50))
    at = max(at, next_opening(loader.cal, at))
    code, channel, note = _contact_for(planned.rule, prospect)
    user = User.get_or_none(User.id == owner_id)
    add_interaction(prospect, channel=channel, direction="out", note=note, user=user,
                    action_code=loader.codes.get(code), occurred_at=at, now=at)
    cause_at = datetime.fromisoformat(planned.cause_key.split(":", 2)[2])
    FollowUp.create(prospect=prospect, type=loader.types.get(planned.type_code), owner=owner_id,
                    due_at=planned.due_at, value=prospect.temperature, rule=planned.rule,
                    reason_code=planned.reason_code, reason_params=dict(planned.reason_params),
                    cause_key=planned.cause_key, state="done", outcome="next_step", done_at=at,
                    done_by=owner_id, created_at=min(cause_at, at))


def _contact_for(rule: str, prospect: Prospect) -> tuple[str, str, str]:
    """(action code, channel, note) of the contact a rule follow-up was: an answer carries the quote
    or the programme's information when that was asked (seed 001), the rest are calls."""
    if rule in ("first_answer", "answer_question"):
        if prospect.qualification in ANSWER_CODES:
            code = ANSWER_CODES[prospect.qualification]
            channel = "email" if prospect.email else "whatsapp"
            return code, channel, CODE_NOTES[code]
        channel = {"email": "email", "webform": "email", "whatsapp": "whatsapp",
                   "facebook": "whatsapp"}.get(prospect.channel, "phone")
        code = {"email": "MAIL", "whatsapp": "WA"}.get(channel, "APL")
        return code, channel, RULE_NOTES["answer"]
    if rule.endswith("callback_7d"):
        return "RLC", "phone", RULE_NOTES["callback"]
    return "APL", "phone", RULE_NOTES.get(rule, RULE_NOTES["call"])
