"""`read_mail(raw)`: everything Relance reads in one raw mail, as a `MailReading`. Never raises: a message
the parser cannot make sense of gives a best-effort reading of its bytes as text."""
import re
from dataclasses import dataclass

from integrations.contract import Inbound

from ..rules.contact import is_email, normalise_email
from ..rules.names import split_full_name
from ..rules.phones import phones_in_text
from ..rules.qualification import read_qualification
from . import automated, message
from .html import html_to_text
from .message import Attachment, clean, decode_bytes
from .quotes import split_reply

_REPLY_PREFIX = re.compile(r"^\s*(?:re|ré|réf|ref|tr|fw|fwd|aw|wg|sv|vs)\s*(?:\[\d+\])?\s*:", re.I)

_QUALIFICATION_CHARS = 5000


@dataclass(frozen=True)
class MailReading:
    """What a mail says. Message-IDs keep their angle brackets; `phones` are E.164; `html` is the raw
    HTML part if any (sanitise it before showing it); `text` is the whole body, `new_text` the part the
    sender wrote this time (no quoted history, no signature)."""
    subject: str = ""
    sender_name: str = ""
    sender_address: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    automated: str | None = None
    bounce_recipients: tuple[str, ...] = ()
    text: str = ""
    new_text: str = ""
    phones: tuple[str, ...] = ()
    qualification: str | None = None
    attachments: tuple[Attachment, ...] = ()
    html: str | None = None

    def as_json(self, file: str) -> dict:
        """The `relance parse-mail --json` line for this mail (the shape ../shared/tools/mail-score reads)."""
        return {
            "file": file, "subject": self.subject,
            "from": {"name": self.sender_name, "address": self.sender_address},
            "message_id": self.message_id, "in_reply_to": self.in_reply_to, "automated": self.automated,
            "bounce_recipients": list(self.bounce_recipients), "text": self.text, "new_text": self.new_text,
            "phones": list(self.phones), "qualification": self.qualification,
            "attachments": [{"filename": a.filename, "content_type": a.content_type} for a in self.attachments],
        }

    def to_inbound(self) -> Inbound:
        """The plugin contract's fields for this mail (channel "email")."""
        first_name, last_name = split_full_name(self.sender_name)
        thread = tuple(dict.fromkeys(i for i in ((self.in_reply_to,) + self.references) if i))
        extra = {"attachments": [a.filename for a in self.attachments]} if self.attachments else {}
        if len(self.phones) > 1:
            extra["phones"] = list(self.phones)
        return Inbound(channel="email", first_name=first_name, last_name=last_name,
                       phone=self.phones[0] if self.phones else "",
                       email=self.sender_address if is_email(self.sender_address) else None,
                       request=self.subject, message=self.new_text, extra=extra, message_id=self.message_id,
                       thread=thread, automated=self.automated, bounced=self.bounce_recipients)


def _bodies(parts: message.Parts) -> tuple[str, str]:
    """(the whole text, the same text with quoted history marked `>`) from the plain or the HTML part."""
    if parts.plain.strip() or not parts.html.strip():
        return parts.plain, parts.plain
    return html_to_text(parts.html), html_to_text(parts.html, mark_quotes=True)


def _own_words(subject: str, new_text: str) -> str:
    """The words the sender chose: a reply's subject ("Re: Votre demande") is ours, not theirs. A request
    says what it wants early: the qualification reads the first few thousand characters."""
    words = new_text if _REPLY_PREFIX.match(subject) else subject + "\n" + new_text
    return words[:_QUALIFICATION_CHARS]


def _read(raw: bytes, region: str, keywords: dict | None) -> MailReading:
    msg = message.parse(raw)
    subject = message.header(msg, "Subject")
    sender_name, sender_address = message.address(msg, "From")
    parts = message.read_parts(msg)
    text, marked = _bodies(parts)
    reply = split_reply(marked)
    kind, bounced = automated.classify(msg, subject, sender_address, parts.reports, text)
    in_reply_to = message.message_ids(msg, "In-Reply-To")
    message_id = message.message_ids(msg, "Message-ID")
    own_text = reply.new_text + "\n" + reply.signature
    return MailReading(
        subject=clean(subject), sender_name=clean(sender_name),
        sender_address=normalise_email(clean(sender_address)) or "",
        message_id=clean(message_id[0]) if message_id else None,
        in_reply_to=clean(in_reply_to[0]) if in_reply_to else None,
        references=tuple(clean(i) for i in message.message_ids(msg, "References")),
        automated=kind, bounce_recipients=tuple(clean(a).lower() for a in bounced),
        text=clean(text).strip("\n"), new_text=clean(reply.new_text),
        phones=tuple(phones_in_text(own_text, region)),
        qualification=None if kind else read_qualification(None, _own_words(subject, reply.new_text), keywords),
        attachments=tuple(Attachment(clean(a.filename), a.content_type, a.size) for a in parts.attachments),
        html=clean(parts.html) or None)


def _best_effort(raw: bytes, region: str, keywords: dict | None) -> MailReading:
    """The bytes read as text (the body after the first blank line) when the parser failed."""
    try:
        decoded = decode_bytes(raw).replace("\r\n", "\n")
        head, _, body = decoded.partition("\n\n")
        body = clean(body or head)
        new_text = split_reply(body).new_text
        return MailReading(text=body, new_text=new_text, phones=tuple(phones_in_text(new_text, region)),
                           qualification=read_qualification(None, new_text, keywords))
    except Exception:
        return MailReading()


def read_mail(raw: bytes, *, region: str = "SN", keywords: dict | None = None) -> MailReading:
    """Read one raw RFC 822 message. `region` is the default country of phone numbers (settings);
    `keywords` the qualification words by code (default: rules.qualification.DEFAULT_KEYWORDS)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    try:
        return _read(bytes(raw or b""), region, keywords)
    except Exception:
        return _best_effort(bytes(raw or b""), region, keywords)
