"""Outgoing mail reaches a real SMTP server, in plain text and HTML, escaped."""
import pytest

from tests.servers import SmtpServer
from webapp.mail import build_message, send, smtp_settings


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def test_a_message_reaches_the_smtp_server_with_text_and_html_parts(smtp):
    settings = smtp_settings(smtp.url, "relance@clinic.test")
    message = build_message(sender=settings.sender, to="codou@clinic.test", to_name="Codou Ndiaye",
                            subject="Votre journée", text="Bonjour Codou", html="<p>Bonjour Codou</p>")
    assert send([message], settings) == 1
    received = smtp.messages[0]
    assert received["Subject"] == "Votre journée" and received.envelope_to == ["codou@clinic.test"]
    assert received.get_body(("plain",)).get_content().strip() == "Bonjour Codou"
    assert "<p>Bonjour Codou</p>" in received.get_body(("html",)).get_content()


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.clinic.sn", ("mail.clinic.sn", 25, "none", None)),
    ("smtp://u%40x:p%3Aw@mail.clinic.sn:587?starttls=1", ("mail.clinic.sn", 587, "starttls", "u@x")),
    ("smtps://u:p@mail.clinic.sn", ("mail.clinic.sn", 465, "ssl", "u")),
])
def test_smtp_url_is_read_from_configuration(url, expected):
    settings = smtp_settings(url, None)
    assert (settings.host, settings.port, settings.security, settings.user) == expected


def test_mail_is_off_without_a_url_and_a_bad_url_is_refused():
    assert smtp_settings(None, None) is None
    with pytest.raises(ValueError):
        smtp_settings("http://mail.clinic.sn", None)
