"""Reminder mails reach a real SMTP server: each person's day, the lead's digest, escaped, in French."""
from datetime import timedelta

import pytest

from tests import factories as make
from tests.conftest import make_app
from tests.servers import SmtpServer
from webapp.models import FollowUp, database
from webapp.services.prospects import ContactInput, record_contact
from webapp.services.reminders import send_reminders
from webapp.timeutil import utcnow


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mail_app(sqlite_url, smtp):
    return make_app(sqlite_url, SMTP_URL=smtp.url, MAIL_FROM="relance@clinic.test")


def test_each_person_gets_their_day_and_nobody_with_nothing_gets_mail(mail_app, smtp):
    now = utcnow()
    with mail_app.test_request_context(), database.connection_context():
        codou = make.user("secretary", email="codou@clinic.test", name="Codou Ndiaye")
        make.user("secretary", email="idle@clinic.test", name="Idle Person")
        make.user("admin", email="admin@clinic.test", name="Admin")
        prospect = record_contact(ContactInput(first_name="<b>Awa</b>", last_name="Diop", phone="77 123 45 67",
                                               owner=codou), codou).prospect
        FollowUp.create(prospect=prospect.id, owner=codou.id, due_at=now - timedelta(days=1),
                        rule_reason="Chaud sans interaction depuis 48 h")
        assert send_reminders(now, "morning") == 1
    message = smtp.messages[0]
    assert message.envelope_to == ["codou@clinic.test"] and message["Subject"] == "Votre journée dans Relance"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Bonjour Codou Ndiaye" in text and "<b>Awa</b> Diop" in text and "Chaud sans interaction" in text
    assert "&lt;b&gt;Awa&lt;/b&gt;" in html and "<b>Awa</b>" not in html


def test_without_smtp_configuration_nothing_is_sent(sqlite_url):
    app = make_app(sqlite_url)
    with app.test_request_context(), database.connection_context():
        assert send_reminders(utcnow(), "morning") == 0


def test_the_lead_gets_a_digest_of_requests_past_their_target(mail_app, smtp):
    now = utcnow()
    with mail_app.test_request_context(), database.connection_context():
        make.user("lead", email="fatou@clinic.test", name="Fatou Diallo")
        record_contact(ContactInput(last_name="Sarr", phone="77 222 33 44", temperature="hot", channel="webform",
                                    occurred_at=now - timedelta(days=10)), None)  # two working days passed
        assert send_reminders(now, "digest") == 1
    message = smtp.messages[0]
    assert message.envelope_to == ["fatou@clinic.test"] and "Sarr" in message.get_body(("plain",)).get_content()
