"""Is this mail automated, and what kind: `auto_reply`, `bounce`, `delivery_report`, `complaint`,
`newsletter`, or None for a person's mail (the kinds of `integrations.contract.AUTOMATED_KINDS`).

Classified from the signals seen in real mail (NOTES: mail), strongest first: a multipart/report says
exactly what it is (`delivery-status`: a failed recipient is a bounce, a delivered one is a report;
`feedback-report`: a complaint); then auto-reply headers (`Auto-Submitted` other than `no`,
`X-Autoreply`, `X-Autorespond`, `X-Apple-Action: VACATION`…), bounce senders and subjects, list headers,
and auto-reply subjects: some real out-of-office replies carry In-Reply-To and no Auto-Submitted header.
"""
import re
from email.message import Message

from . import message

_FAILED = {"failed"}
_SUCCESS = {"delivered", "relayed", "expanded", "deliverable"}
_BOUNCE_SENDERS = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.I)
_NO_REPLY_SENDERS = re.compile(r"^(?:no-?reply|ne-?pas-?repondre|nepasrepondre|do-?not-?reply|donotreply|"
                               r"noreponse|no-?response|notifications?|newsletters?|bounces?)[\w.+-]*@", re.I)
_BOUNCE_SUBJECTS = re.compile(
    r"undeliver|undelivered mail|returned mail|returned to sender|delivery (?:status notification|"
    r"failure|has failed|failed|notification: delivery has failed)|mail delivery failed|failure notice|"
    r"non remis|non distribu|échec de (?:la )?(?:remise|distribution)|echec de (?:la )?(?:remise|distribution)|"
    r"impossible de remettre|message (?:non délivré|non delivre)|unzustellbar|nicht zustellbar", re.I)
_REPORT_SUBJECTS = re.compile(
    r"delivery status notification \((?:success|delay)\)|^delivered:|^relayed:|^remis ?:|^distribué ?:|"
    r"delivery status report|^read:|^lu ?:|accusé de (?:réception|lecture)|return receipt", re.I)
_AUTO_REPLY_SUBJECTS = re.compile(
    r"réponse automatique|reponse automatique|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|"
    r"out of (?:the )?office|absence du bureau|absente? du bureau|message d['’]absence|"
    r"away from (?:the )?office|abwesenheitsnotiz|automatische antwort|respuesta automática|"
    r"risposta automatica|resposta automática", re.I)
_RECIPIENT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_HEADER_LIKE = re.compile(r"^\s*(?:from|to|cc|reply-to|return-path|sender|message-id|received|date|subject|"
                          r"de|à|objet|x-[\w-]+)\s*:", re.I)


def _fields(block: Message) -> dict[str, str]:
    values = {}
    for key, value in block.raw_items():
        values.setdefault(key.lower(), " ".join(str(value).split()))
    return values


def _dsn_blocks(part: Message) -> list[dict[str, str]]:
    """The field blocks of a delivery-status part (per-message block, then one per recipient)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [_fields(block) for block in payload if isinstance(block, Message)]
    blocks, current = [], {}
    for line in str(payload or "").replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
        elif ":" in line and not line[0].isspace():
            key, value = line.split(":", 1)
            current.setdefault(key.strip().lower(), value.strip())
    if current:
        blocks.append(current)
    return blocks


def _recipient(block: dict[str, str]) -> str | None:
    value = block.get("final-recipient") or block.get("original-recipient") or ""
    value = value.split(";", 1)[-1].strip().strip("<>").strip()
    return value or None


def delivery_status(reports: tuple[Message, ...]) -> tuple[list[str], bool]:
    """(failed recipients, whether any recipient block says delivered or delayed)."""
    failed, other = [], False
    for part in reports:
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        for block in _dsn_blocks(part):
            address = _recipient(block)
            if not address:
                continue
            action = block.get("action", "").lower().split()[0] if block.get("action") else ""
            status = block.get("status", "").strip()
            if action in _FAILED or (not action and status.startswith("5")):
                if address.lower() not in (a.lower() for a in failed):
                    failed.append(address)
            else:
                other = True
    return failed, other


def recipients_in_text(text: str, exclude: set[str]) -> list[str]:
    """Addresses a bounce's human-readable notice names, when it has no readable delivery-status part;
    lines that quote the original message's headers are not read."""
    found = []
    for line in text.split("\n")[:200]:
        if _HEADER_LIKE.match(line):
            continue
        for address in _RECIPIENT.findall(line):
            address = address.strip(".'")
            lowered = address.lower()
            if lowered in exclude or _BOUNCE_SENDERS.match(lowered) or lowered in (a.lower() for a in found):
                continue
            found.append(address)
    return found


def _has(msg: Message, name: str) -> str | None:
    value = message.raw_header(msg, name)
    return value.strip().lower() if value is not None else None


def _auto_reply_headers(msg: Message) -> bool:
    submitted = _has(msg, "Auto-Submitted")
    if submitted is not None and submitted.split(";")[0].strip() not in ("no", ""):
        return True
    if _has(msg, "X-Autoreply") is not None or _has(msg, "X-Autorespond") is not None:
        return True
    if "vacation" in (_has(msg, "X-Apple-Action") or ""):
        return True
    return (_has(msg, "X-Autogenerated") or "") == "reply" or (_has(msg, "Precedence") or "") == "auto_reply"


def _list_headers(msg: Message) -> bool:
    precedence = _has(msg, "Precedence") or ""
    return (_has(msg, "List-Id") is not None or _has(msg, "List-Unsubscribe") is not None
            or precedence in ("bulk", "list", "junk"))


def classify(msg: Message, subject: str, sender: str, reports: tuple[Message, ...],
             notice: str) -> tuple[str | None, tuple[str, ...]]:
    """(kind or None, bounced recipients). `notice` is the mail's text (a bounce's human-readable part)."""
    report_type = (msg.get_param("report-type") or "").lower() if msg.get_content_type() == "multipart/report" \
        else ""
    if report_type == "feedback-report" or any(
            p.get_content_type() == "message/feedback-report" for p in reports):
        return "complaint", ()
    if report_type == "disposition-notification":
        return "delivery_report", ()
    failed, delivered = delivery_status(reports)
    if failed:
        return "bounce", tuple(failed)
    if delivered:
        return "delivery_report", ()
    null_sender = (_has(msg, "Return-Path") or "x").strip("<> ") == ""
    bounce_sender = bool(_BOUNCE_SENDERS.match(sender or ""))
    machine = bounce_sender or null_sender or report_type == "delivery-status" or _auto_reply_headers(msg)
    if machine and _REPORT_SUBJECTS.search(subject):
        return "delivery_report", ()
    if bounce_sender or report_type == "delivery-status" or (machine and _BOUNCE_SUBJECTS.search(subject)):
        exclude = {a.lower() for a in message.addresses(msg, "To") + message.addresses(msg, "From")}
        return "bounce", tuple(recipients_in_text(notice, exclude))
    if _auto_reply_headers(msg) or _AUTO_REPLY_SUBJECTS.search(subject):
        return "auto_reply", ()
    if _list_headers(msg) or _NO_REPLY_SENDERS.match(sender or ""):
        return "newsletter", ()
    if _has(msg, "X-Auto-Response-Suppress") is not None or null_sender:
        return "auto_reply", ()
    return None, ()
