"""The integration contract: what a plugin hands the core, and how it refuses.

Every integration (the website form, a mailbox, a patient system, the next ones) speaks in these types
and only these: the core never imports a plugin's own module. A plugin declares its source types
(`SourceType`, with the settings each one takes), turns what arrived from outside into `Inbound`
fields (a request or a mail) or `PatientRecord`s (a patient system), and raises `PluginError` for
content it cannot read. The hooks that carry them are in `integrations.hookspecs`.
"""
from dataclasses import asdict, dataclass, field, fields as dataclass_fields
from datetime import date

# What arrived by which way (the vocabulary of `webapp.models.prospects.CHANNELS`).
INBOUND_CHANNELS = ("webform", "email", "phone", "facebook", "whatsapp", "sms", "event", "other")
# What an automated mail is (null for a person's mail): never a request, never answered.
AUTOMATED_KINDS = ("auto_reply", "bounce", "delivery_report", "complaint", "newsletter")
# What the core does with a source's requests, and who owns the prospects it creates (settings a
# request-bringing source type offers: see MODE_SETTING, OWNER_SETTING below).
INTAKE_MODES = ("triage", "auto")
OWNER_POLICIES = ("round_robin", "none")    # or a staff member's id
# The content type under which a mail is stored raw (RFC 822 bytes): the core reads it with
# `parse_message`, anything else with `parse_request`.
MAIL_CONTENT_TYPE = "message/rfc822"


def N_(text: str) -> str:
    """Marks an English msgid (a source type's label, a setting's label or help) for extraction: the
    core translates it where it shows it."""
    return text


class PluginError(Exception):
    """Content a plugin cannot read or settings it refuses: a stable code for machines (translated for
    staff by the core) and the HTTP status a sender gets back (4xx)."""

    def __init__(self, code: str, status: int = 400, field: str | None = None):
        super().__init__(code)
        self.code, self.status, self.field = code, status, field


@dataclass(frozen=True)
class Inbound:
    """One request or message as a plugin read it: who, how to reach them, what they ask, by which way.

    `channel` says how it came (a call centre's plugin says "phone", not "webform"). The mail fields
    (`message_id`, `thread`: In-Reply-To then References, `automated`, `bounced`) let the core thread a
    reply onto its record and keep automated mail out of the requests; other plugins leave them empty.
    """
    channel: str = "webform"
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    email: str | None = None
    birth_date: str | None = None          # ISO date
    request: str = ""                      # what they chose or wrote as the subject
    message: str = ""                      # the new text they wrote
    origin: str = ""
    extra: dict = field(default_factory=dict)   # anything else worth showing to the lead
    message_id: str | None = None
    thread: tuple[str, ...] = ()
    automated: str | None = None
    bounced: tuple[str, ...] = ()

    def __post_init__(self):
        if self.channel not in INBOUND_CHANNELS:
            raise PluginError("unknown_channel", 500)
        if self.automated is not None and self.automated not in AUTOMATED_KINDS:
            raise PluginError("unknown_automated_kind", 500)

    def as_dict(self) -> dict:
        """JSON-ready (stored as the request's `parsed`)."""
        data = asdict(self)
        data["thread"], data["bounced"] = list(self.thread), list(self.bounced)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Inbound":
        known = {f.name for f in dataclass_fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for name in ("thread", "bounced"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)


@dataclass(frozen=True)
class PatientRecord:
    """One patient as a patient system knows them; `external_id` is unique within its source."""
    external_id: str
    first_name: str = ""
    last_name: str = ""
    phones: tuple[str, ...] = ()           # as written in the source: the core normalises them
    email: str | None = None
    birth_date: date | None = None
    provenance: str = ""                   # how they heard of the clinic, as stated at admission
    admission_date: date | None = None


@dataclass(frozen=True)
class Setting:
    """One setting a source type takes, as the settings page and `relance add-source` show it.

    kind: "text", "int", "bool", "choice", "secret" (write-only: stored encrypted, never shown back),
    "list" (comma-separated) or "mapping" (names to text; `choices` lists the names it takes).
    `label` and `help` are English msgids the core translates.
    """
    name: str
    label: str
    kind: str = "text"
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    help: str = ""


MODE_SETTING = Setting("mode", N_("What happens to a request"), "choice", default="triage",
                       choices=INTAKE_MODES)
OWNER_SETTING = Setting("owner", N_("Owner of the prospects created"), default="round_robin",
                        help=N_("round_robin, none, or a staff member's id"))


@dataclass(frozen=True)
class Inspection:
    """What acceptance needs to know of a post before storing it, read without a database: the bytes
    that say "same content" (two posts with equal `content` are one submission sent twice) and, if
    the post is spam by the source's own rule (a filled honeypot), why."""
    content: bytes
    spam: str | None = None


class SourceType:
    """A kind of source a plugin provides. Subclass it, set the class attributes, and override
    `validate` to refuse settings that cannot work (raise PluginError with `field` set).

    A source type that receives posts at `/intake/<slug>` says so (`receives_posts`; a mailbox or a
    patient system does not, and posts to their sources are refused unread) and may override `inspect`
    (acceptance's fast look at a post) and `embed_html` (a snippet a website pastes).
    """
    name: str = ""
    label: str = ""                 # English msgid
    channel: str = "other"          # the channel of what it brings in
    settings: tuple[Setting, ...] = ()
    receives_posts: bool = False

    def defaults(self) -> dict:
        """The configuration a source of this type has before anyone changes it (copies: safe to edit)."""
        return {s.name: _copy(s.default) for s in self.settings if s.default is not None}

    def inspect(self, config: dict, content_type: str, headers: dict, body: bytes) -> "Inspection | None":
        """Acceptance's look at a post, on the web request's hot path: no database, no network.

        Return an `Inspection`, raise PluginError for a post processing could never read (it is stored
        as failed and the sender gets the error's status), or return None to let the core read the
        post with `parse_request` and compare what it read.
        """
        return None

    def embed_html(self, config: dict, action_url: str) -> str | None:
        """HTML to paste on a website that posts to `action_url` (escaped where needed), or None."""
        return None

    def validate(self, values: dict) -> dict:
        """The settings, cleaned and complete (defaults filled); PluginError for the first bad one."""
        cleaned = self.defaults()
        for setting in self.settings:
            value = values.get(setting.name)
            if value is None or value == "":
                if setting.required and setting.name not in cleaned:
                    raise PluginError("setting_required", 422, field=setting.name)
                continue
            cleaned[setting.name] = _coerce(setting, value)
        return cleaned


def _coerce(setting: Setting, value):
    if setting.kind == "int":
        try:
            number = int(str(value).strip())
        except ValueError:
            raise PluginError("setting_not_a_number", 422, field=setting.name) from None
        if number < 0:
            raise PluginError("setting_not_a_number", 422, field=setting.name)
        return number
    if setting.kind == "bool":
        return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "on", "yes", "oui")
    if setting.kind == "choice":
        if str(value) not in setting.choices:
            raise PluginError("setting_not_a_choice", 422, field=setting.name)
        return str(value)
    if setting.kind == "list":
        items = value if isinstance(value, (list, tuple)) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]
    if setting.kind == "mapping":
        if not isinstance(value, dict) or any(setting.choices and key not in setting.choices for key in value):
            raise PluginError("setting_not_a_mapping", 422, field=setting.name)
        return {str(key): str(item).strip() for key, item in value.items() if str(item or "").strip()}
    return str(value).strip()


def _copy(value):
    return type(value)(value) if isinstance(value, (dict, list)) else value
