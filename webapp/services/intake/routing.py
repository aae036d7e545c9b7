"""Where a mail goes before anyone triages it (issue 16, routing): automated mail and copies of our own
answers nowhere, a reply in a thread we know onto that thread's record, a known sender's mail onto her
record; the rest to triage.

Patient first, as everywhere (seed 001). The automated check comes before any routing: some real
auto-replies carry In-Reply-To, and routing first would file them as the prospect's answer.
"""
from dataclasses import dataclass
from datetime import datetime

from peewee import fn

from integrations.contract import Inbound

from ...models import Interaction, OutboundMail, Patient, Prospect
from ...rules.contact import normalise_email
from ..dedupe import Identity, find_existing
from ..prospects import add_interaction
from .recording import note_of, stamp


@dataclass
class Routed:
    """The record a mail belongs to (a patient, else a prospect) and the interaction logged on it."""
    patient: Patient | None
    prospect: Prospect | None
    interaction: Interaction


def is_mail_like(inbound: Inbound) -> bool:
    """A message with a mail's identity (a Message-ID, a thread): routed by thread and sender. A web
    form's post is not: the lead decides where it goes, or the source's mode does."""
    return bool(inbound.message_id or inbound.thread)


def is_our_own(inbound: Inbound) -> bool:
    """A copy of a mail we sent (the mailbox polled gets our answers in Bcc, or a sent folder): its
    Message-ID is one of our answers'. Nobody asked anything: it is neither a request nor an answer."""
    message_id = inbound.message_id
    if not message_id:
        return False
    return (OutboundMail.select().where(OutboundMail.message_id == message_id).exists()
            or Interaction.select().where((Interaction.message_id == message_id)
                                          & (Interaction.direction == "out")).exists())


def mark_undeliverable(addresses, now: datetime) -> int:
    """A bounce: every prospect and patient with one of these addresses is marked undeliverable (the
    first time); returns how many records were marked."""
    emails = sorted({email for email in map(normalise_email, addresses) if email})
    if not emails:
        return 0
    marked = 0
    for model in (Patient, Prospect):
        marked += (model.update(email_undeliverable_at=now)
                   .where(fn.LOWER(model.email).in_(emails) & model.email_undeliverable_at.is_null()).execute())
    return marked


def route(inbound: Inbound, received_at: datetime, now: datetime) -> Routed | None:
    """Log the mail on the record it belongs to, if any: the thread first, then the sender's address."""
    patient, prospect = known_thread(inbound.thread)
    if patient is None and prospect is None:
        patient, prospect = known_sender(inbound.email)
    if patient is None and prospect is None:
        return None
    note = note_of(inbound.as_dict(), with_extra=False)
    if patient is not None:
        interaction = Interaction.create(patient=patient, channel=inbound.channel, direction="in", note=note,
                                         occurred_at=received_at, created_at=now)
        prospect = None
    else:
        interaction = add_interaction(prospect, channel=inbound.channel, direction="in", note=note,
                                      occurred_at=received_at, now=now)
    stamp(interaction, inbound.message_id)
    return Routed(patient, prospect, interaction)


def known_thread(thread) -> tuple[Patient | None, Prospect | None]:
    """The record of a message of this thread we stored (ours or theirs), patient first."""
    ids = [message_id for message_id in thread if message_id][:50]
    if not ids:
        return None, None
    known = list(Interaction.select(Interaction.patient, Interaction.prospect)
                 .where(Interaction.message_id.in_(ids)).order_by(Interaction.id.desc()).limit(20))
    on_patient = next((row for row in known if row.patient_id), None)
    if on_patient is not None:
        return on_patient.patient, None
    on_prospect = next((row for row in known if row.prospect_id), None)
    return (None, on_prospect.prospect) if on_prospect is not None else (None, None)


def known_sender(email: str | None) -> tuple[Patient | None, Prospect | None]:
    """The patient, else the prospect, with exactly this address (the dedupe's own lookup: merged
    prospects lead to the one kept, an open prospect before a closed one)."""
    email = normalise_email(email)
    if not email:
        return None, None
    match = find_existing(Identity(email=email))
    return match.patient, (match.prospect if match.patient is None else None)
