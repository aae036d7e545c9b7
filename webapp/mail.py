"""Outgoing mail: plain text and HTML in one message, sent over SMTP as RELANCE_SMTP_URL says.

RELANCE_SMTP_URL is `smtp://[user:password@]host[:port]` (add `?starttls=1` to upgrade the
connection) or `smtps://…` for TLS from the start; RELANCE_MAIL_FROM is the sender. Without a URL,
nothing is sent and the caller is told so.
"""
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, unquote, urlparse


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    security: str   # "none", "starttls" or "ssl"
    sender: str


def smtp_settings(url: str | None, sender: str | None) -> SmtpSettings | None:
    """Parse RELANCE_SMTP_URL; None when mail is not configured. Raises ValueError on a bad URL."""
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        raise ValueError("RELANCE_SMTP_URL must look like smtp://user:password@host:587?starttls=1")
    starttls = parse_qs(parsed.query).get("starttls", ["0"])[0] in ("1", "true", "yes")
    security = "ssl" if parsed.scheme == "smtps" else ("starttls" if starttls else "none")
    port = parsed.port or (465 if security == "ssl" else 587 if starttls else 25)
    return SmtpSettings(host=parsed.hostname, port=port,
                        user=unquote(parsed.username) if parsed.username else None,
                        password=unquote(parsed.password) if parsed.password else None,
                        security=security, sender=sender or f"relance@{parsed.hostname}")


def new_message_id(sender: str) -> str:
    """A fresh Message-ID on the sender's domain, in angle brackets as headers write it."""
    return make_msgid(domain=sender.rsplit("@", 1)[-1] or None)


def build_message(*, sender: str, to: str, to_name: str, subject: str, text: str, html: str,
                  sender_name: str = "", message_id: str | None = None, in_reply_to: str | None = None,
                  references: tuple[str, ...] | list[str] = ()) -> EmailMessage:
    """A multipart/alternative message: the text part first, the HTML part for clients that show it.
    An answer passes its own `message_id` (kept, so that the reply threads back) and the mail it answers
    (`in_reply_to`, `references`)."""
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender)) if sender_name else sender
    message["To"] = formataddr((to_name, to))
    message["Subject"] = subject
    message["Message-ID"] = message_id or new_message_id(sender)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(messages: list[EmailMessage], settings: SmtpSettings, timeout: float = 30.0) -> int:
    """Send over one connection; returns how many were accepted. The password is never logged."""
    if not messages:
        return 0
    context = ssl.create_default_context()
    if settings.security == "ssl":
        server = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with server:
        if settings.security == "starttls":
            server.starttls(context=context)
        if settings.user:
            server.login(settings.user, settings.password or "")
        for message in messages:
            server.send_message(message)
    return len(messages)
