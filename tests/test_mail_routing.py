"""Routing a mail (issue 16 §4): automated mail is kept out, a reply in a thread we know and a known
sender's mail land on their record (patient first) and owe an answer, the rest waits in triage; a mail
seen twice gives one interaction. The mail comes from a small test plugin that hands the core an
`Inbound` as a mailbox plugin would (the real parser is the mailbox plugin's)."""
import json
from datetime import timedelta

import pytest

from integrations import plugins
from integrations.contract import MAIL_CONTENT_TYPE, Inbound, SourceType
from integrations.hookspecs import hookimpl
from webapp.models import FollowUp, InboundRequest, Interaction, Patient, Prospect
from webapp.services import intake
from webapp.services.prospects import ContactInput, add_interaction, record_contact
from webapp.services.sources import create_source
from webapp.timeutil import utcnow


class FakeMailbox(SourceType):
    name = "testmail"
    label = "Test mailbox"
    channel = "email"


class FakeMailPlugin:
    """Reads a "mail" whose bytes are the JSON of the Inbound it stands for."""

    @hookimpl
    def source_types(self):
        return [FakeMailbox()]

    @hookimpl
    def parse_message(self, source, raw):
        if source.type != "testmail":
            return None
        return Inbound.from_dict(json.loads(raw))


@pytest.fixture
def mailbox(ctx):
    plugin = FakeMailPlugin()
    plugins.plugin_manager().register(plugin)
    yield create_source("boite", "testmail", "Boîte de la clinique")
    plugins.plugin_manager().unregister(plugin)


def deliver(source, now=None, **fields) -> InboundRequest:
    """Store a mail as the mailbox plugin would, process it, and read the request back."""
    mail = Inbound(channel="email", **fields)
    received = intake.accept(source, content_type=MAIL_CONTENT_TYPE, headers={},
                             body=json.dumps(mail.as_dict()).encode(), remote_addr="", now=now)
    intake.process(received.id, now)
    return InboundRequest.get_by_id(received.id)


@pytest.fixture
def answered_prospect(ctx):
    """A warm prospect who asked by mail three days ago and got our answer two days ago (<ours-1@relance>)."""
    now = utcnow()
    prospect = record_contact(ContactInput(first_name="Awa", last_name="Ndiaye", email="awa.ndiaye@gmail.com",
                                           channel="email", note="Tarifs ?", occurred_at=now - timedelta(days=3)),
                              None, now=now - timedelta(days=3)).prospect
    ours = add_interaction(prospect, channel="email", direction="out", note="Nos tarifs",
                           occurred_at=now - timedelta(days=2), now=now - timedelta(days=2))
    ours.message_id = "<ours-1@relance.clinique.sn>"
    ours.save()
    return Prospect.get_by_id(prospect.id)


def inbound_interactions(record) -> list[Interaction]:
    return list(record.interactions.where(Interaction.direction == "in").order_by(Interaction.id))


def answers_planned(prospect) -> list[str]:
    return [f.rule for f in FollowUp.select().where((FollowUp.prospect == prospect) & (FollowUp.state == "planned"))]


def test_a_reply_in_a_thread_we_started_lands_on_its_prospect_and_owes_an_answer(mailbox, answered_prospect):
    # Written from her husband's address: the thread says whose it is.
    request = deliver(mailbox, email="m.ndiaye@orange.sn", first_name="Moussa", last_name="Ndiaye",
                      request="Re: Nos tarifs", message="Merci, et pour une échographie ?",
                      message_id="<CAK-42@mail.gmail.com>",
                      thread=("<ours-1@relance.clinique.sn>", "<CAK-1@mail.gmail.com>"))

    assert (request.state, request.triage, request.prospect_id) == ("processed", False, answered_prospect.id)
    first, reply = inbound_interactions(answered_prospect)
    assert (reply.channel, reply.note) == ("email", "Re: Nos tarifs\nMerci, et pour une échographie ?")
    assert reply.message_id == "<CAK-42@mail.gmail.com>" and reply.occurred_at == request.received_at
    assert answers_planned(answered_prospect) == ["answer_question"]   # seed 000: a new question is owed an answer


def test_a_known_senders_mail_lands_on_her_prospect(mailbox, answered_prospect):
    request = deliver(mailbox, email="Awa.Ndiaye@Gmail.com ", request="Rendez-vous",
                      message="Je peux venir jeudi ?", message_id="<new-thread@gmail.com>")

    assert (request.triage, request.prospect_id) == (False, answered_prospect.id)
    assert inbound_interactions(answered_prospect)[-1].note == "Rendez-vous\nJe peux venir jeudi ?"
    assert answers_planned(answered_prospect) == ["answer_question"]


def test_a_mail_from_someone_who_is_both_patient_and_prospect_lands_on_the_patient(mailbox, answered_prospect):
    patient = Patient.create(first_name="Awa", last_name="Ndiaye", email="awa.ndiaye@gmail.com", external_id="P-7")

    request = deliver(mailbox, email="awa.ndiaye@gmail.com", message="Mes résultats ?", message_id="<p1@gmail.com>")

    assert (request.patient_id, request.prospect_id, request.triage) == (patient.id, None, False)
    [logged] = inbound_interactions(patient)
    assert (logged.note, logged.message_id) == ("Mes résultats ?", "<p1@gmail.com>")
    assert len(inbound_interactions(answered_prospect)) == 1


def test_a_reply_to_a_patients_thread_lands_on_the_patient(mailbox):
    patient = Patient.create(first_name="Fatou", last_name="Sarr", email="fatou@yahoo.fr", external_id="P-8")
    Interaction.create(patient=patient, channel="email", direction="out", note="Votre rendez-vous",
                       message_id="<ours-2@relance.clinique.sn>")

    request = deliver(mailbox, email="autre@yahoo.fr", message="D'accord", message_id="<r2@yahoo.fr>",
                      thread=("<ours-2@relance.clinique.sn>",))

    assert request.patient_id == patient.id
    assert [i.note for i in inbound_interactions(patient)] == ["D'accord"]


def test_a_mail_from_a_stranger_waits_in_triage_beside_the_web_forms(mailbox, answered_prospect):
    request = deliver(mailbox, email="inconnue@gmail.com", first_name="Khady", request="Programme",
                      message="Bonjour, je suis enceinte de 3 mois", message_id="<s1@gmail.com>")

    assert (request.state, request.triage, request.prospect_id, request.patient_id) == ("processed", True, None, None)
    assert request.parsed["message_id"] == "<s1@gmail.com>" and request.message_id == "<s1@gmail.com>"
    items, _ = intake.triage_queue()
    assert [item.request.id for item in items] == [request.id]


def test_a_stranger_created_from_triage_keeps_the_mails_channel_and_thread(mailbox, ctx):
    from webapp.services.users import create_user
    request = deliver(mailbox, email="khady@gmail.com", last_name="Diallo", message="Vos tarifs ?",
                      message_id="<s2@gmail.com>")

    outcome = intake.create_from(request.id, create_user("lead@clinic.test", "Lead", "lead", "correct-horse-42"))

    assert outcome.prospect.channel == "email"
    assert (outcome.interaction.channel, outcome.interaction.message_id) == ("email", "<s2@gmail.com>")


def test_an_auto_reply_in_our_thread_is_neither_a_request_nor_her_answer(mailbox, answered_prospect):
    # Some real auto-replies carry In-Reply-To and no Auto-Submitted header: classified before routing.
    request = deliver(mailbox, email="awa.ndiaye@gmail.com", request="Réponse automatique : Nos tarifs",
                      message="Je suis absente jusqu'au 12.", message_id="<ooo@gmail.com>",
                      thread=("<ours-1@relance.clinique.sn>",), automated="auto_reply")

    assert (request.state, request.triage, request.prospect_id) == ("processed", False, None)
    assert request.parsed["automated"] == "auto_reply"
    assert len(inbound_interactions(answered_prospect)) == 1
    assert answers_planned(answered_prospect) == []
    assert intake.triage_queue()[0] == []


def test_a_bounce_marks_the_address_undeliverable_on_every_record_that_has_it(mailbox, answered_prospect):
    patient = Patient.create(last_name="Ndiaye", email="awa.ndiaye@gmail.com", external_id="P-9")
    other = record_contact(ContactInput(last_name="Fall", email="ibou@gmail.com"), None).prospect

    request = deliver(mailbox, request="Undelivered Mail Returned to Sender", automated="bounce",
                      bounced=("AWA.NDIAYE@gmail.com",), message_id="<bounce-1@mx.google.com>")

    assert (request.state, request.triage) == ("processed", False)
    assert Prospect.get_by_id(answered_prospect.id).email_undeliverable_at == request.processed_at
    assert Patient.get_by_id(patient.id).email_undeliverable_at == request.processed_at
    assert Prospect.get_by_id(other.id).email_undeliverable_at is None
    assert len(inbound_interactions(answered_prospect)) == 1


def test_a_mail_seen_again_gives_no_second_interaction_nor_a_second_answer(mailbox, answered_prospect):
    mail = {"email": "awa.ndiaye@gmail.com", "message": "Et le samedi ?", "message_id": "<again@gmail.com>"}
    first = deliver(mailbox, **mail)
    # The same Message-ID, other bytes (a server re-encoded it, or it was moved and moved back).
    again = deliver(mailbox, now=utcnow() + timedelta(days=3), extra={"x-moved": "1"}, **mail)

    assert again.state == "processed" and again.parsed["duplicate_of"] == first.id
    assert (again.prospect_id, again.triage) == (answered_prospect.id, False)
    assert [i.message_id for i in inbound_interactions(answered_prospect)] == [None, "<again@gmail.com>"]
    assert answers_planned(answered_prospect) == ["answer_question"]


def test_the_same_message_id_from_another_mailbox_is_another_message(mailbox, answered_prospect):
    other_box = create_source("boite-2", "testmail")
    mail = {"email": "awa.ndiaye@gmail.com", "message": "Bonjour", "message_id": "<both@gmail.com>"}
    deliver(mailbox, **mail)

    again = deliver(other_box, **mail)

    assert "duplicate_of" not in again.parsed


def test_a_copy_of_our_own_answer_in_the_mailbox_is_neither_a_request_nor_an_answer(mailbox, answered_prospect):
    """The mailbox polled may get our answers back (in Bcc, or a sent folder): stored, and nothing more."""
    before = len(inbound_interactions(answered_prospect))
    request = deliver(mailbox, email="accueil@clinique.sn", first_name="Clinique", request="Nos tarifs",
                      message="Bonjour Awa, voici nos tarifs.", message_id="<ours-1@relance.clinique.sn>")

    assert (request.state, request.triage, request.prospect_id, request.patient_id) == ("processed", False, None, None)
    assert request.parsed["own_mail"] is True and bytes(request.body)      # kept as it came
    assert len(inbound_interactions(answered_prospect)) == before
    assert answers_planned(answered_prospect) == []
    assert intake.triage_queue()[0] == []
