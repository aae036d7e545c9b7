"""The built-in mailbox plugin: an IMAP folder polled for mail (issue 16).

It declares the `imap` source type and its settings (the settings page and `relance add-source --type
imap` are built from them), refuses settings that cannot work or would send the password in clear over
a network, and reads a stored mail (the raw RFC 822 bytes) into `Inbound` fields. The polling itself
(connect, EXAMINE, UIDs after the cursor, `BODY.PEEK[]`, store-first) is the core's:
`webapp/services/mailbox.py`.
"""
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses

from webapp.rules.web import is_loopback

from .contract import MODE_SETTING, N_, OWNER_SETTING, Inbound, PluginError, Setting, SourceType
from .hookspecs import hookimpl

SOURCE_TYPE = "imap"
SECURITY = ("tls", "starttls", "plain")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "plain": 143}


def _control_free(value: str) -> bool:
    """No control characters: these values go into IMAP commands (CR/LF would inject another one)."""
    return not any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


class ImapSourceType(SourceType):
    name = SOURCE_TYPE
    label = N_("Mailbox (IMAP)")
    channel = "email"
    settings = (
        Setting("host", N_("Mail server"), required=True, help=N_("For example imap.gmail.com or mail.clinique.sn.")),
        Setting("port", N_("Port"), kind="int", default=993,
                help=N_("993 for TLS; 143 for STARTTLS or without encryption.")),
        Setting("security", N_("Connection security"), kind="choice", default="tls", choices=SECURITY,
                help=N_("TLS unless the server only offers STARTTLS. Without encryption (plain): only to "
                        "a server on this machine (localhost).")),
        Setting("user", N_("User name"), required=True, help=N_("Usually the full address of the mailbox.")),
        Setting("password", N_("Password"), kind="secret", required=True,
                help=N_("Stored encrypted; never shown again. An application password if the mailbox "
                        "asks for one.")),
        Setting("folder", N_("Folder"), default="INBOX",
                help=N_("The folder read; nothing in it is deleted, moved or marked as read.")),
        Setting("interval_minutes", N_("Check every (minutes)"), kind="int", default=5),
        MODE_SETTING,
        OWNER_SETTING,
    )

    def validate(self, values: dict) -> dict:
        cleaned = super().validate(values)
        for name in ("host", "user", "folder"):
            text = str(cleaned.get(name) or "")
            if not _control_free(text) or len(text) > 255:
                raise PluginError("setting_invalid", 422, field=name)
        host = cleaned.get("host", "")
        if host and (" " in host or "/" in host):
            raise PluginError("setting_invalid", 422, field="host")
        if not cleaned.get("folder"):
            cleaned["folder"] = "INBOX"
        if not 1 <= int(cleaned.get("port", 993)) <= 65535:
            raise PluginError("setting_invalid", 422, field="port")
        if int(cleaned.get("interval_minutes", 5)) < 1:
            raise PluginError("setting_invalid", 422, field="interval_minutes")
        if cleaned.get("security") == "plain" and host and not is_loopback(host):
            # The password would cross the network in clear.
            raise PluginError("plain_needs_loopback", 422, field="security")
        return cleaned


IMAP = ImapSourceType()


@hookimpl
def source_types():
    return [IMAP]


@hookimpl
def parse_message(source, raw):
    """A stored mail of an imap source as `Inbound` fields (the mail reader's, once it is there)."""
    if source.type != SOURCE_TYPE:
        return None
    try:
        from webapp.mailreader import read_mail
    except ImportError:  # the mail reader is not in this build yet: the headers and the plain text
        return _plain_reading(raw)
    return read_mail(bytes(raw)).to_inbound()


def _plain_reading(raw: bytes) -> Inbound:
    """Who wrote, the subject and the text part, with the standard library alone."""
    message = BytesParser(policy=policy.default).parsebytes(bytes(raw))
    try:
        senders = getaddresses([str(message.get("From", ""))])
    except Exception:  # noqa: BLE001 (a broken header reads as no sender)
        senders = []
    name, address = senders[0] if senders else ("", "")
    words = name.split()
    first, last = " ".join(words[:-1]), " ".join(words[-1:])
    try:
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
    except Exception:  # noqa: BLE001 (an unreadable part: the raw mail is kept for staff)
        text = ""
    thread = tuple(str(message.get(name, "")).split() for name in ("In-Reply-To", "References"))
    return Inbound(channel="email", first_name=first, last_name=last,
                   email=address or None, request=str(message.get("Subject", ""))[:500],
                   message=text.strip()[:5000], message_id=(str(message.get("Message-ID", "")).strip() or None),
                   thread=tuple(dict.fromkeys(ref for refs in thread for ref in refs)))
