"""A person's rights over their data (Senegal's law 2008-12; GDPR Art. 15 and 17 as the reference):
everything held on a prospect as one export, and erasure that anonymises the person while keeping
every row, date, channel, stage, outcome and count, so that the dashboards' figures do not change.

A record merged into this one (a tombstone, services/duplicates.py) was judged the same person: it is
exported and erased with it. A linked patient belongs to the patient system and is left alone, and so
are the interactions and requests recorded on the patient.
"""
import base64
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import force_locale, gettext

from ..models import (ActivityStatusChange, AuditEvent, ConsentChange, DuplicateCandidate, FollowUp, OutboundMail,
                      InboundRequest, Interaction, ListContact, OwnerChange, Prospect, StageChange, TemperatureChange,
                      database)
from ..timeutil import isoformat, utcnow
from . import timeline as timeline_service
from .audit import record as audit
from .intake import empty_raw
from .next_action import refresh_next_action

FORMAT = "relance.person-export/1"
# Derived from the fields exported beside it, or internal bookkeeping.
NOT_EXPORTED = {"search_text", "version"}


# --- export (right of access) -----------------------------------------------------------------------

def _value(value):
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return _body(bytes(value))
    return value


def _body(raw: bytes) -> dict:
    """A raw body as text when it is text, else base64."""
    try:
        return {"encoding": "text", "text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"encoding": "base64", "text": base64.b64encode(raw).decode("ascii")}


def row(instance) -> dict:
    """Every stored column of a row, foreign keys as `<name>_id`, times ISO 8601 with offset."""
    data = {}
    for column in instance._meta.sorted_fields:
        if column.name in NOT_EXPORTED:
            continue
        data[column.column_name] = _value(instance.__data__.get(column.name))
    return data


def _name(user) -> str | None:
    return user.name if user is not None else None


def _rows(model, prospect_ids, order) -> list[dict]:
    return [row(item) for item in model.select().where(model.prospect.in_(prospect_ids)).order_by(order, model.id)]


def _merged_into(prospect: Prospect) -> list[Prospect]:
    """The tombstones merged into this record: the same person, by a lead's decision."""
    ids = [pair.merged_id for pair in DuplicateCandidate.select(DuplicateCandidate.merged)
           .where((DuplicateCandidate.state == "merged") & (DuplicateCandidate.kept == prospect.id)
                  & DuplicateCandidate.merged.is_null(False))]
    return list(Prospect.select().where(Prospect.id.in_(ids)).order_by(Prospect.id)) if ids else []


def _pairs(prospect_ids: list[int]):
    P = DuplicateCandidate
    return P.select().where(P.prospect.in_(prospect_ids) | P.other_prospect.in_(prospect_ids)
                            | P.kept.in_(prospect_ids) | P.merged.in_(prospect_ids)).order_by(P.id)


def export_person(prospect: Prospect, now: datetime | None = None) -> dict:
    """Everything held on the person: the record, contacts, follow-ups (outcomes and notes), the history
    the timeline shows, every classification change, duplicate decisions, the prospecting-list rows and
    the raw requests that name them, and who read or changed the record (the audit log)."""
    now = now or utcnow()
    merged = _merged_into(prospect)
    ids = [prospect.id] + [other.id for other in merged]
    record = row(prospect)
    record.update(stage=prospect.stage.name, owner=_name(prospect.owner),
                  lost_reason=prospect.lost_reason.label if prospect.lost_reason else None)
    followups = []
    for followup in FollowUp.select().where(FollowUp.prospect.in_(ids)).order_by(FollowUp.due_at, FollowUp.id):
        followups.append({**row(followup), "type": followup.type.name if followup.type else None,
                          "owner": _name(followup.owner), "done_by": _name(followup.done_by)})
    history = [{"kind": entry.kind, "at": isoformat(entry.at), "by": _name(entry.user), "record": row(entry.item)}
               for entry in timeline_service.timeline(prospect.id)]
    return {
        "format": FORMAT,
        "exported_at": isoformat(now),
        "prospect": record,
        "merged_records": [row(other) for other in merged],
        "interactions": [{**row(item), "action_code": item.action_code.code if item.action_code else None,
                          "by": _name(item.user)}
                         for item in Interaction.select().where(Interaction.prospect.in_(ids))
                         .order_by(Interaction.occurred_at, Interaction.id)],
        "followups": followups,
        "history": history,
        "temperature_changes": _rows(TemperatureChange, ids, TemperatureChange.changed_at),
        "activity_changes": _rows(ActivityStatusChange, ids, ActivityStatusChange.changed_at),
        "stage_changes": [{**row(change), "from_stage": change.from_stage.name if change.from_stage else None,
                           "to_stage": change.to_stage.name}
                          for change in StageChange.select().where(StageChange.prospect.in_(ids))
                          .order_by(StageChange.changed_at, StageChange.id)],
        "consent_changes": _rows(ConsentChange, ids, ConsentChange.changed_at),
        "owner_changes": [{"changed_at": isoformat(change.changed_at), "from": _name(change.old),
                           "to": _name(change.new), "by": _name(change.user)}
                          for change in OwnerChange.select().where(OwnerChange.prospect.in_(ids))
                          .order_by(OwnerChange.changed_at, OwnerChange.id)],
        "duplicate_decisions": [row(pair) for pair in _pairs(ids)],
        "prospecting_list_rows": [row(item) for item in ListContact.select().where(ListContact.prospect.in_(ids))],
        "inbound_requests": [row(item) for item in InboundRequest.select().where(InboundRequest.prospect.in_(ids))
                             .order_by(InboundRequest.id)],
        "sent_mails": _rows(OutboundMail, ids, OutboundMail.created_at),
        "access_log": [{"at": isoformat(event.at), "action": event.action, "by": event.actor_label,
                        "detail": event.detail}
                       for event in AuditEvent.select().where((AuditEvent.record_type == "prospect")
                                                              & AuditEvent.record_id.in_(ids))
                       .order_by(AuditEvent.at, AuditEvent.id)],
    }


# --- erasure (right to erasure) ---------------------------------------------------------------------

@dataclass
class Erasure:
    """What an erasure did, in counts only (the audit log's detail): never a name or a value."""
    prospect_ids: list[int] = field(default_factory=list)
    interactions: int = 0
    followups: int = 0
    requests: int = 0
    cancelled: int = 0
    first: bool = True

    @property
    def detail(self) -> str:
        merged = ",".join(str(i) for i in self.prospect_ids[1:])
        return (f"interactions={self.interactions} followups={self.followups} requests={self.requests} "
                f"cancelled={self.cancelled}" + (f" merged={merged}" if merged else "")
                + ("" if self.first else " again"))


def erased_name() -> str:
    """The neutral name an erased record shows, in the business's language (it is stored)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return gettext("Erased person")


def erase_person(prospect: Prospect, user, now: datetime | None = None) -> Erasure:
    """Anonymise the person in one transaction: names, phones, email, birth date, notes, comments,
    reasons and the linked raw requests are emptied; the record becomes do-not-contact with its open
    follow-ups cancelled, and is marked erased. Idempotent: a second run finds nothing left to empty
    (and keeps the first erasure's date). The audit log gets counts, never personal data."""
    now = now or utcnow()
    with database.atomic():
        # As stored now, not as the caller loaded it; locked where the database can (PostgreSQL), so
        # that a contact logged meanwhile waits for the erasure and a second erasure for the first.
        query = Prospect.select().where(Prospect.id == prospect.id)
        prospect = (query.for_update() if database.for_update else query).get()
        ids = [prospect.id] + [other.id for other in _merged_into(prospect)]
        result = Erasure(prospect_ids=ids, first=prospect.erased_at is None)
        result.interactions = Interaction.update(note="").where(
            Interaction.prospect.in_(ids) & (Interaction.note != "")).execute()
        result.followups = FollowUp.update(comment="", outcome_note="").where(
            FollowUp.prospect.in_(ids) & ((FollowUp.comment != "") | (FollowUp.outcome_note != ""))).execute()
        result.cancelled = FollowUp.update(state="cancelled", done_at=now).where(
            FollowUp.prospect.in_(ids) & (FollowUp.state == "planned")).execute()
        TemperatureChange.update(reason="").where(TemperatureChange.prospect.in_(ids)).execute()
        ConsentChange.update(reason="").where(ConsentChange.prospect.in_(ids)).execute()
        result.requests = empty_raw(InboundRequest.prospect.in_(ids))
        # The answers sent by mail (issue 16): the row stays for the counts, its address and words go.
        OutboundMail.update(to_address="", to_name="", subject="", text="").where(
            OutboundMail.prospect.in_(ids)).execute()
        ListContact.update(first_name="", last_name="", phone=None, phone_raw="", email=None, data={}).where(
            ListContact.prospect.in_(ids)).execute()
        _forget_copied_details(ids)
        for record in Prospect.select().where(Prospect.id.in_(ids)):
            _anonymise(record, user, now)
        refresh_next_action(ids)
        audit("prospect.erase", "prospect", prospect.id, detail=result.detail, actor=user)
    return result


def _anonymise(prospect: Prospect, user, now: datetime) -> None:
    from .prospects import prospect_search_text  # prospects imports duplicates, which this module reads

    if not prospect.do_not_contact:  # the consent history says when contact stopped, without a reason
        ConsentChange.create(prospect=prospect, do_not_contact=True, reason="", user=user, changed_at=now)
    prospect.first_name, prospect.last_name = "", erased_name()
    prospect.phone, prospect.phone_raw, prospect.phone_valid = None, "", True
    prospect.email, prospect.birth_date, prospect.origin_detail = None, None, ""
    prospect.do_not_contact = True
    prospect.erased_at = prospect.erased_at or now
    prospect.search_text = prospect_search_text(prospect)
    prospect.updated_at, prospect.version = now, prospect.version + 1
    prospect.save()


def _forget_copied_details(prospect_ids: list[int]) -> None:
    """A merge wrote down the details it copied from one record to the other (to undo it): the values
    go, the names of the fields stay."""
    for pair in _pairs(prospect_ids):
        detail = pair.detail or {}
        if detail.get("filled"):
            detail["filled"] = {name: None for name in detail["filled"]}
            pair.detail = detail
            pair.save()
