"""The mail reader: what a raw RFC 822 message says, as pure functions (no Flask, no database).

`read_mail(raw)` gives a `MailReading`: sender, subject, threading ids, whether it is automated mail (and
which addresses bounced), the whole text and the new text a person wrote, the phones, qualification and
attachments. Polling, routing, answering and `relance parse-mail` all read mail through it.

Modules: `message` (MIME structure, charsets, headers), `html` (HTML to text), `automated` (auto-replies,
bounces, reports, newsletters), `quotes` (quoted history and signatures), `read` (the entry point).
"""
from .read import MailReading, read_mail

__all__ = ["MailReading", "read_mail"]
