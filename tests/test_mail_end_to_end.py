"""Issue 16's whole loop with the real parts: a mail sent to the clinic's mailbox (dovecot) shows up in the
lead's triage queue in French, is answered from Relance with a template (delivered to aiosmtpd), and the
answer is on the prospect's timeline with the response clock stopped."""
import re
from html import unescape

import pytest

from tests.conftest import login, make_app
from tests.servers import SmtpServer
from webapp.models import FollowUp, InboundRequest, Interaction, Source, database
from webapp.services import intake, mailbox
from webapp.services.sources import create_source
from webapp.services.users import create_user

CLINIC = "accueil@nest.example.sn"
PASSWORD = "Mot2passe-Accueil!"
QUESTION = ("From: =?utf-8?q?Ad=C3=A8le_Faye?= <adele.faye@gmail.com>\n"
            f"To: Clinique NEST <{CLINIC}>\n"
            "Subject: =?utf-8?q?Renseignements_sur_le_programme_de_pr=C3=A9paration?=\n"
            "Date: Fri, 04 Dec 2026 09:12:00 +0000\n"
            "Message-ID: <CAF=adele.1@mail.gmail.com>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\n"
            "Bonjour,\n\nJe voudrais des renseignements sur votre programme de préparation à "
            "l'accouchement.\nMon numéro : 77 654 32 10.\n\nMerci,\nAdèle\n\n"
            "Envoyé de mon iPhone\n").encode()


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.mark.slow
def test_a_mail_to_the_clinic_is_triaged_answered_with_a_template_and_stops_the_clock(sqlite_url, smtp, dovecot):
    app = make_app(sqlite_url, SMTP_URL=smtp.url, MAIL_FROM=CLINIC)
    dovecot.add_user("accueil-e2e", PASSWORD)
    dovecot.append("accueil-e2e", QUESTION)
    with app.test_request_context(), database.connection_context():
        lead = create_user("fatou@nest.example.sn", "Fatou Diallo", "lead", "Mot2passe-Fatou!")
        create_source("boite-accueil", "imap", "Boîte de l'accueil",
                      {"host": "127.0.0.1", "port": dovecot.port, "security": "plain", "user": "accueil-e2e",
                       "password": PASSWORD, "folder": "INBOX"})
        mailbox.poll_source(Source.get(Source.slug == "boite-accueil"), dispatch=None)
        [request] = InboundRequest.select()
        assert intake.process(request.id) == "processed"

    client = app.test_client()
    login(client, lead, password="Mot2passe-Fatou!")
    queue = client.get("/requests").get_data(as_text=True)
    assert "Adèle Faye" in queue and "Renseignements sur le programme de préparation" in queue
    assert "<h1>Demandes</h1>" in queue and "À traiter" in queue   # the lead's queue, in French

    page = client.get(f"/requests/{request.id}/answer").get_data(as_text=True)
    key = re.search(r'name="submission" type="hidden" value="([^"]+)"', page).group(1)
    subject = unescape(re.search(r'name="subject"[^>]*value="([^"]*)"', page).group(1))
    body = unescape(re.search(r'<textarea[^>]*name="body"[^>]*>\r?\n?(.*?)</textarea>', page, re.S).group(1))
    assert "Adèle" in body                                   # the template, filled with her name
    sent = client.post(f"/requests/{request.id}/answer",
                       data={"submission": key, "subject": subject, "body": body, "step": "send"})
    assert sent.status_code == 303

    [answer] = smtp.messages
    assert answer.envelope_to == ["adele.faye@gmail.com"]
    assert answer["In-Reply-To"] == "<CAF=adele.1@mail.gmail.com>"
    assert "Adèle" in answer.get_body(("plain",)).get_content()

    prospect_url = sent.headers["Location"]
    timeline = client.get(prospect_url).get_data(as_text=True)
    assert subject in timeline                               # the answer, on the prospect's timeline
    with app.test_request_context(), database.connection_context():
        stored = InboundRequest.get_by_id(request.id)
        assert stored.triage is False and stored.prospect_id
        out = Interaction.get((Interaction.prospect == stored.prospect_id) & (Interaction.direction == "out"))
        assert out.message_id == answer["Message-ID"]
        first_answer = FollowUp.get((FollowUp.prospect == stored.prospect_id) & (FollowUp.rule == "first_answer"))
        assert first_answer.state == "done" and first_answer.interaction_id == out.id   # the clock stopped
