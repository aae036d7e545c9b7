"""A stored mail (an InboundRequest's RFC 822 bytes) read for staff: who, what, the text, the HTML made
safe, the attachments (issue 16 §4).

`_read` is the one place that parses: the project's parser (`webapp.mailreader.read_mail`) for what the
mail says, the standard library's walk for the attachments' bytes.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from ..mailreader import read_mail
from ..rules.mail_html import SafeHtml, sanitise

MAIL_CONTENT_TYPE = "message/rfc822"


@dataclass(frozen=True)
class Attachment:
    index: int
    filename: str           # a safe name to offer for download
    content_type: str
    size: int
    inline: bool            # referenced by the HTML (cid:), an image in the text


@dataclass
class StoredMail:
    sender_name: str = ""
    sender_address: str = ""
    subject: str = ""
    date: str = ""
    message_id: str = ""
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)

    def safe_html(self, notes: dict[str, str]) -> SafeHtml | None:
        return sanitise(self.html, notes) if self.html.strip() else None


def is_mail(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == MAIL_CONTENT_TYPE


def _parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw or b"", policy=policy.default)


def _leaves(part, depth: int = 0):
    """The non-multipart parts in order; an attached mail (message/*) is one leaf, never descended."""
    if depth > 20:
        return
    if part.get_content_maintype() == "message" or not part.is_multipart():
        yield part
        return
    for sub in part.iter_parts():
        yield from _leaves(sub, depth + 1)


def _attachment_parts(message: EmailMessage, bodies: list) -> list:
    """Every leaf part that is not one of the bodies shown: files, inline images, forwarded mails."""
    parts = []
    for part in _leaves(message):
        if any(part is body for body in bodies):
            continue
        disposition = (part.get_content_disposition() or "").lower()
        if part.get_content_maintype() == "text" and disposition != "attachment" and not part.get_filename():
            continue   # another alternative of the body
        parts.append(part)
    return parts


def safe_filename(name: str | None, index: int, content_type: str) -> str:
    """A download name that cannot reach a path or a header: letters, digits, `.-_ ` only, no leading
    dot, at most 100 characters; `piece-jointe-N` when nothing is left."""
    name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._ -]+", "_", name).strip(" ._")[:100]
    if not name:
        extension = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(content_type, "")
        name = f"piece-jointe-{index + 1}{extension}"
    return name


def _read(raw: bytes) -> tuple[StoredMail, list]:
    """The mail (read by the project's parser, `read_mail`: charsets, HTML-only mail as text) and its
    attachment parts, in order, with their bytes (the standard library's walk)."""
    reading = read_mail(raw or b"")
    message = _parse(raw)
    date = str(message.get("Date", "") or "")
    mail = StoredMail(sender_name=reading.sender_name, sender_address=reading.sender_address,
                      subject=reading.subject, date=" ".join(date.split()), message_id=reading.message_id or "",
                      text=reading.text, html=reading.html or "")
    try:
        bodies = [message.get_body(("plain",)), message.get_body(("html",))]
    except (KeyError, AttributeError):
        bodies = []
    parts = _attachment_parts(message, [p for p in bodies if p is not None])
    for index, part in enumerate(parts):
        content_type = part.get_content_type()
        mail.attachments.append(Attachment(
            index=index, filename=safe_filename(part.get_filename(), index, content_type),
            content_type=content_type, size=len(_bytes(part)),
            inline=bool(part.get("Content-ID")) and (part.get_content_disposition() or "inline") == "inline"))
    return mail, parts


def _bytes(part) -> bytes:
    """An attachment's bytes; an attached mail (message/rfc822) as its own RFC 822 bytes."""
    if part.get_content_maintype() == "message":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        return inner.as_bytes() if inner is not None else b""
    return part.get_payload(decode=True) or b""


def read_stored(raw: bytes) -> StoredMail:
    """The stored mail as staff read it; never raises on a broken message (an empty reading instead)."""
    try:
        return _read(raw)[0]
    except Exception:   # noqa: BLE001 - a hostile or broken mail is shown as what could be read: nothing
        return StoredMail()


def attachment(raw: bytes, index: int) -> tuple[Attachment, bytes] | None:
    """One attachment's description and bytes, None when there is no such attachment."""
    try:
        mail, parts = _read(raw)
    except Exception:   # noqa: BLE001
        return None
    if not 0 <= index < len(parts):
        return None
    return mail.attachments[index], _bytes(parts[index])
