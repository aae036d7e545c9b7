"""A message's structure read with the standard library (`email`, policy.default), made tolerant of what
real mail does: undeclared 8-bit headers and bodies, wrong or unknown charsets, broken MIME.

NOTES (mail): the standard library read 51 of 51 real messages right but one undeclared 8-bit subject;
the charset rules here cover that case and a body declared ISO-8859-1 that is really UTF-8.
"""
import codecs
import email
import re
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

_MAX_DEPTH = 30                     # MIME nesting deeper than this is not a person's mail
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?]*\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ESCAPED = re.compile("[\udc80-\udcff]")       # raw bytes the parser kept as surrogate escapes
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\r\n]+")          # not the non-breaking space: "Réponse automatique\u00a0:"
_MSG_ID = re.compile(r"<[^<>\s]+>")
# Labels that mean Windows-1252 in practice (as browsers read them): ISO-8859-1 mail is written by
# Windows software, and 1252 only adds printable characters (€, œ, ’, …) where 8859-1 has controls.
_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "windows-1252",
                 "cp1252", "x-cp1252", "iso_8859-1"}


_REPORTS = {"message/delivery-status", "message/feedback-report", "message/disposition-notification",
            "message/global-delivery-status"}


@dataclass(frozen=True)
class Attachment:
    """A file carried by the mail (its bytes stay in the stored raw message)."""
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class Parts:
    """The readable parts of a message: its text and HTML bodies, attachments and report parts."""
    plain: str
    html: str
    attachments: tuple[Attachment, ...]
    reports: tuple[Message, ...]       # message/delivery-status, message/feedback-report…


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=policy.default)


# ---- text decoding --------------------------------------------------------------------------------

def _cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:          # the five bytes 1252 leaves undefined: ISO-8859-1 has them
        return data.decode("latin-1")


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Text from bytes: ASCII as is; valid UTF-8 as UTF-8 whatever was declared (8-bit text that happens
    to be valid UTF-8 is UTF-8); else the declared charset; else Windows-1252."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    label = (declared or "").strip().strip('"').lower()
    if label and label not in _WINDOWS_1252 and not label.startswith("utf"):
        try:
            codecs.lookup(label)
            return data.decode(label, errors="replace")
        except (LookupError, ValueError):
            pass
    return _cp1252(data)


def recover(text: str) -> str:
    """A string the parser decoded with surrogate escapes (raw 8-bit bytes) decoded properly."""
    if not _ESCAPED.search(text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"))


def clean(text: str | None) -> str:
    """No lone surrogates left (JSON and the database refuse them)."""
    text = recover(text or "")
    return text.encode("utf-8", "replace").decode("utf-8") if _SURROGATE.search(text) else text


# ---- headers --------------------------------------------------------------------------------------

def raw_header(msg: Message, name: str) -> str | None:
    """A header's value as written (unfolded, 8-bit bytes decoded), encoded words still encoded."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            value = value if isinstance(value, str) else str(value)
            return recover(_FOLD.sub("", value)).strip()
    return None


def _decode_words(text: str) -> str:
    if not _ENCODED_WORD.search(text):
        return text
    try:
        return str(make_header(decode_header(text)))
    except Exception:                   # a malformed encoded word: keep it as written
        return text


def header(msg: Message, name: str) -> str:
    """An unstructured header (Subject) as a person reads it: encoded words and 8-bit bytes decoded."""
    value = raw_header(msg, name)
    return _SPACES.sub(" ", _decode_words(value)).strip() if value else ""


def address(msg: Message, name: str = "From") -> tuple[str, str]:
    """(display name, address) of an address header; parsed before its encoded words are decoded, so that
    a name such as "Foo, Bar" stays one name."""
    value = raw_header(msg, name)
    if not value:
        return "", ""
    display, addr = parseaddr(value)
    if "@" not in addr:                 # "From: Awa Diop" names someone without an address
        display, addr = (display or value.strip("<> ") if "@" not in value else display), ""
    display = _SPACES.sub(" ", _decode_words(display)).strip('"\' ')
    return display, addr.strip()


def addresses(msg: Message, name: str) -> list[str]:
    value = raw_header(msg, name)
    return [addr for _, addr in getaddresses([value])] if value else []


def message_ids(msg: Message, name: str) -> list[str]:
    """The <id> tokens of Message-ID, In-Reply-To or References, angle brackets kept."""
    value = raw_header(msg, name)
    if not value:
        return []
    found = _MSG_ID.findall(value)
    return found or ([value.split()[0]] if value.split() else [])


# ---- the parts ------------------------------------------------------------------------------------

def _leaves(part: Message, depth: int = 0):
    """(part, content type) of the non-multipart parts, in order; an attached message (message/*) is one
    leaf, not descended. The content type is read once: policy.default parses a header at each access."""
    if depth > _MAX_DEPTH:
        return
    content_type = part.get_content_type()
    if content_type.startswith("message/") or not content_type.startswith("multipart/"):
        yield part, content_type
        return
    payload = part.get_payload()
    for sub in payload if isinstance(payload, list) else ():
        if isinstance(sub, Message):
            yield from _leaves(sub, depth + 1)


def part_text(part: Message) -> str:
    """A text part's content: transfer encoding undone, charset decoded, line ends as \\n."""
    data = part.get_payload(decode=True)
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    text = decode_bytes(data, part.get_param("charset"))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = part.get_param("name")
    if isinstance(name, tuple):         # an RFC 2231 value the parser left undecoded
        name = name[2]
    return " ".join(_decode_words(recover(str(name or ""))).split())


def _size(part: Message) -> int:
    try:
        data = part.get_payload(decode=True)
        if data is None:
            data = part.as_bytes()
        return len(data)
    except Exception:
        return 0


def read_parts(msg: Message) -> Parts:
    """The text bodies (every inline text/plain part, the first text/html part), attachments and reports."""
    plains, html, attachments, reports = [], "", [], []
    for part, content_type in _leaves(msg):
        if content_type in _REPORTS:
            reports.append(part)
            continue
        attached = (part.get_content_disposition() or "").lower() == "attachment"
        if not attached and content_type == "text/plain":
            plains.append(part_text(part))
            continue
        if not attached and content_type == "text/html":
            html = html or part_text(part)
            continue
        filename = _filename(part)
        if attached or filename or content_type == "message/rfc822":
            attachments.append(Attachment(filename, content_type, _size(part)))
    return Parts("\n\n".join(p for p in plains if p.strip()), html, tuple(attachments), tuple(reports))
