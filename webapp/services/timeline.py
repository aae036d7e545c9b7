"""A prospect's history as one chronological list (issue 13, ISO 9001 §7.5): contacts, follow-up
outcomes with their notes, stage moves (conversion, loss with its reason, reopening), temperature,
activity and consent changes, each with who and when.

Each kind of entry has one source: a function from a prospect id to its entries, registered with
`@source(kind, rank)`; one query per source, none per entry. A new kind (a merge, say) is one more
source, here or in its own module imported by the app, and one template,
`templates/prospects/timeline/_<kind>.html`, which shows one `entry`.
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from peewee import JOIN

from ..models import (ActionCode, ActivityStatusChange, ConsentChange, FollowUp, FollowUpType, Interaction,
                      LostReason, OutboundMail, OwnerChange, StageChange, Stage, TemperatureChange, User)
from ..rules.answers import send_cut_off
from ..timeutil import utcnow


def patient_interactions(patient_id: int):
    """The interactions recorded on a patient, newest first (the patient's page)."""
    return (Interaction.select().where(Interaction.patient == patient_id)
            .order_by(Interaction.occurred_at.desc()))


@dataclass
class Entry:
    """One line of the history: what (`kind`, the record `item`), when (`at`, UTC) and who (`user`,
    None for the system). `rank` orders entries of the same instant: a prospect is created before its
    first contact, a contact comes before the activity change it causes, and a follow-up's outcome
    before the move it makes."""
    kind: str
    at: datetime
    user: User | None
    item: object
    rank: int = 0

    @property
    def template(self) -> str:
        return f"prospects/timeline/_{self.kind}.html"

    @property
    def sort_key(self) -> tuple:
        return (self.at, self.rank, self.item.id)


Source = Callable[[int], Iterable[Entry]]
SOURCES: dict[str, Source] = {}


def source(kind: str, rank: int) -> Callable[[Callable], Source]:
    """Register a function `(prospect_id) -> iterable of (at, user, item)` as the source of `kind`."""
    def register(fetch: Callable) -> Source:
        def entries(prospect_id: int) -> Iterable[Entry]:
            return (Entry(kind, at, user, item, rank) for at, user, item in fetch(prospect_id))
        SOURCES[kind] = entries
        return fetch
    return register


def timeline(prospect_id: int) -> list[Entry]:
    """Every entry of every kind for one prospect, oldest first."""
    entries = [entry for entries in SOURCES.values() for entry in entries(prospect_id)]
    entries.sort(key=lambda entry: entry.sort_key)
    return entries


# --- the sources --------------------------------------------------------------------------------------------

@source("temperature", rank=0)
def _temperature_changes(prospect_id: int):
    query = (TemperatureChange.select(TemperatureChange, User)
             .join(User, JOIN.LEFT_OUTER, on=(TemperatureChange.user == User.id))
             .where(TemperatureChange.prospect == prospect_id))
    return ((change.changed_at, change.user, change) for change in query)


@source("owner", rank=25)
def _owner_changes(prospect_id: int):
    """Reassignments: from whom, to whom, by whom."""
    old, new = User.alias(), User.alias()
    query = (OwnerChange.select(OwnerChange, old, new, User)
             .join(old, JOIN.LEFT_OUTER, on=(OwnerChange.old == old.id)).switch(OwnerChange)
             .join(new, JOIN.LEFT_OUTER, on=(OwnerChange.new == new.id)).switch(OwnerChange)
             .join(User, JOIN.LEFT_OUTER, on=(OwnerChange.user == User.id))
             .where(OwnerChange.prospect == prospect_id))
    return ((change.changed_at, change.user, change) for change in query)


@source("interaction", rank=10)
def _interactions(prospect_id: int):
    """Contacts logged by hand or through the API; those recorded by completing a follow-up are shown
    in the follow-up's entry instead."""
    query = (Interaction.select(Interaction, User, ActionCode)
             .join(User, JOIN.LEFT_OUTER, on=(Interaction.user == User.id)).switch(Interaction)
             .join(ActionCode, JOIN.LEFT_OUTER, on=(Interaction.action_code == ActionCode.id)).switch(Interaction)
             .join(FollowUp, JOIN.LEFT_OUTER, on=(FollowUp.interaction == Interaction.id))
             .where((Interaction.prospect == prospect_id) & FollowUp.id.is_null()))
    return ((item.occurred_at, item.user, item) for item in query)


@source("followup", rank=10)
def _followup_outcomes(prospect_id: int):
    """Completed follow-ups: their outcome, note and the contact they were (seed 002)."""
    query = (FollowUp.select(FollowUp, FollowUpType, User, Interaction, ActionCode)
             .join(FollowUpType, JOIN.LEFT_OUTER, on=(FollowUp.type == FollowUpType.id)).switch(FollowUp)
             .join(User, JOIN.LEFT_OUTER, on=(FollowUp.done_by == User.id)).switch(FollowUp)
             .join(Interaction, JOIN.LEFT_OUTER, on=(FollowUp.interaction == Interaction.id))
             .join(ActionCode, JOIN.LEFT_OUTER, on=(Interaction.action_code == ActionCode.id))
             .where((FollowUp.prospect == prospect_id) & (FollowUp.state == "done")))
    return ((followup.done_at, followup.done_by, followup) for followup in query)


def answers_not_confirmed(*, prospect_id: int | None = None, patient_id: int | None = None) -> list[OutboundMail]:
    """Answers by mail to a prospect or a patient whose send started and never ended
    (services/answer_sending.py), oldest first, each with `cut_off`: True once it cannot be still going. A
    sent one is shown as its contact; these are shown so that nobody takes them for sent, nor forgets them."""
    owner = (OutboundMail.prospect == prospect_id) if prospect_id is not None else (OutboundMail.patient == patient_id)
    now = utcnow()
    mails = list(OutboundMail.select(OutboundMail, User)
                 .join(User, JOIN.LEFT_OUTER, on=(OutboundMail.user == User.id))
                 .where(owner & (OutboundMail.state == "sending")).order_by(OutboundMail.created_at))
    for mail in mails:
        mail.cut_off = send_cut_off(mail.state, mail.created_at, now)
    return mails


@source("outbound", rank=10)
def _answers_not_confirmed(prospect_id: int):
    return ((mail.created_at, mail.user, mail) for mail in answers_not_confirmed(prospect_id=prospect_id))


@source("stage", rank=20)
def _stage_moves(prospect_id: int):
    """Moves between stages, with the conversion, the loss and its reason, and reopenings."""
    from_stage, to_stage = Stage.alias(), Stage.alias()
    query = (StageChange.select(StageChange, from_stage, to_stage, LostReason, User)
             .join(from_stage, JOIN.LEFT_OUTER, on=(StageChange.from_stage == from_stage.id)).switch(StageChange)
             .join(to_stage, JOIN.LEFT_OUTER, on=(StageChange.to_stage == to_stage.id)).switch(StageChange)
             .join(LostReason, JOIN.LEFT_OUTER, on=(StageChange.lost_reason == LostReason.id)).switch(StageChange)
             .join(User, JOIN.LEFT_OUTER, on=(StageChange.user == User.id))
             .where(StageChange.prospect == prospect_id))
    return ((change.changed_at, change.user, change) for change in query)


@source("consent", rank=30)
def _consent_changes(prospect_id: int):
    query = (ConsentChange.select(ConsentChange, User)
             .join(User, JOIN.LEFT_OUTER, on=(ConsentChange.user == User.id))
             .where(ConsentChange.prospect == prospect_id))
    return ((change.changed_at, change.user, change) for change in query)


@source("activity", rank=15)
def _activity_changes(prospect_id: int):
    """Computed by the sweep, or brought back to normal by a contact (so ranked right after contacts):
    nobody's decision."""
    query = ActivityStatusChange.select().where(ActivityStatusChange.prospect == prospect_id)
    return ((change.changed_at, None, change) for change in query)
