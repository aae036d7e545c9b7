"""Integration sources, as an admin configures them (settings page and `relance add-source`).

One validation for both: a bad value is a `SourceError` with a stable code the page translates.
The HMAC secret is write-only: it can be set, replaced or cleared, never read back (SECURITY.md).

A type a plugin declares with a `SourceType` (the mailbox) validates its own settings; the core adds the
request mode and owner every source has. Its "secret" setting (a mailbox password) is encrypted with
`webapp.secrets` into the write-only `Source.secret` column, never into the config: an empty value
keeps the stored one.
"""
import re
from urllib.parse import urlparse

from limits import parse as parse_limit
from markupsafe import escape

from integrations.contract import PluginError, SourceType
from integrations.plugins import source_type, source_types
from integrations.webform import PRESET_NAMES, TARGETS, mapping_for

from ..models import Source, User, database
from ..rules.numbers import parse_id
from ..rules.text import fold
from ..secrets import SecretsUnavailable, seal
from .audit import record as audit
from .intake import DEFAULT_CONFIG, MODES, OWNER_POLICIES, config_of
from .intake_store import forget_sources
from .users import may_own_work

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HONEYPOT = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")


# The words people write for a rate limit's period, French and English, and the unit `limits` reads.
RATE_UNITS = {
    "second": ("s", "sec", "secs", "seconde", "secondes", "second", "seconds"),
    "minute": ("m", "mn", "min", "mins", "minute", "minutes"),
    "hour": ("h", "hr", "hrs", "heure", "heures", "hour", "hours"),
    "day": ("d", "j", "jour", "jours", "day", "days"),
}
_UNIT = {word: unit for unit, words in RATE_UNITS.items() for word in words}
# count, an optional word ("envois", "posts"), "par"/"per"/"/"/"à la", an optional multiple, the unit
_RATE = re.compile(r"(\d+)\s*(?:[a-z]+\s+)??(?:(?:/|per|par|a la|a l'|an|every|chaque)\s*)?(?:(\d+)\s*)?([a-z]+)?\.?")


class SourceError(ValueError):
    def __init__(self, code: str, field: str | None = None):
        super().__init__(code)
        self.code, self.field = code, field


def is_web_url(value: str) -> bool:
    """An http(s) address with a host and no whitespace or control characters: safe to put in a
    Location header (CR/LF would split it)."""
    parsed = urlparse(value)
    return (parsed.scheme in ("http", "https") and bool(parsed.netloc)
            and not any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value))



def read_rate_limit(text: str | None) -> str:
    """A rate limit as a person writes it, in French or English or as figures ("20 par minute",
    "20/min", "100 per hour", "20": a minute), as `limits` reads it ("20 per minute"); "" for none."""
    text = " ".join(fold(text or "").replace("’", "'").split())
    if not text:
        return ""
    match = _RATE.fullmatch(text)
    unit = _UNIT.get(match.group(3) or "minute") if match else None
    if not match or unit is None or int(match.group(1)) == 0:
        raise SourceError("invalid_rate_limit")
    multiple = int(match.group(2) or 1)
    if multiple == 0:
        raise SourceError("invalid_rate_limit")
    count = int(match.group(1))
    limit = f"{count} per {multiple} {unit}" if multiple > 1 else f"{count} per {unit}"
    try:
        parse_limit(limit)
    except ValueError:
        raise SourceError("invalid_rate_limit") from None
    return limit


def _url(value: str, code: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if not is_web_url(value):
        raise SourceError(code)
    return value


def _origin(value: str) -> str:
    parsed = urlparse(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path not in ("", "/"):
        raise SourceError("invalid_origin")
    return f"{parsed.scheme}://{parsed.netloc}".lower()


def clean_config(data: dict) -> dict:
    """A complete, valid source configuration from form or CLI values (strings or lists)."""
    config = dict(DEFAULT_CONFIG)
    preset = (data.get("preset") or config["preset"]).strip()
    if preset not in PRESET_NAMES:
        raise SourceError("unknown_preset")
    mode = (data.get("mode") or config["mode"]).strip()
    if mode not in MODES:
        raise SourceError("unknown_mode")
    owner = str(data.get("owner") or config["owner"]).strip()
    if owner not in OWNER_POLICIES:
        if not parse_id(owner) or not may_own_work(User.get_or_none(User.id == parse_id(owner))):
            raise SourceError("unknown_owner")
    origins = data.get("allowed_origins") or []
    if isinstance(origins, str):
        origins = origins.replace(",", "\n").splitlines()
    rate_limit = read_rate_limit(data.get("rate_limit") if data.get("rate_limit") is not None
                                 else config["rate_limit"])
    honeypot = (data.get("honeypot") if data.get("honeypot") is not None else config["honeypot"]).strip()
    if honeypot and not HONEYPOT.match(honeypot):
        raise SourceError("invalid_honeypot")
    fields = {}
    for target in TARGETS:
        names = ",".join(n.strip() for n in str((data.get("fields") or {}).get(target) or "").split(",")
                         if n.strip())
        if len(names) > 300:
            raise SourceError("invalid_fields")
        if names:
            fields[target] = names
    config.update(
        preset=preset, mode=mode, owner=owner, rate_limit=rate_limit, honeypot=honeypot, fields=fields,
        thank_you_url=_url(data.get("thank_you_url", ""), "invalid_thank_you_url"),
        allowed_origins=sorted({_origin(o) for o in origins if o.strip()}))
    return config


MAX_PLUGIN_SECRET = 500


def secret_setting(kind: SourceType | None):
    """The type's write-only setting (a mailbox password), if it has one."""
    return next((s for s in kind.settings if s.kind == "secret"), None) if kind else None


def clean_plugin_config(kind: SourceType, data: dict) -> dict:
    """A plugin-declared type's settings, validated by the type itself, plus the core's mode and owner.
    Its secret setting is left out: it never goes into the config."""
    secret = secret_setting(kind)
    values = {key: value for key, value in data.items() if not secret or key != secret.name}
    cleaned = {"mode": DEFAULT_CONFIG["mode"], "owner": DEFAULT_CONFIG["owner"]}
    mode = str(data.get("mode") or cleaned["mode"]).strip()
    if mode not in MODES:
        raise SourceError("unknown_mode", "mode")
    owner = str(data.get("owner") or cleaned["owner"]).strip()
    if owner not in OWNER_POLICIES:
        if not parse_id(owner) or not may_own_work(User.get_or_none(User.id == parse_id(owner))):
            raise SourceError("unknown_owner", "owner")
    if secret is not None:  # checked on its own (create: required; update: empty keeps it)
        values[secret.name] = "*"
    try:
        settings = kind.validate(values)
    except PluginError as refusal:
        raise SourceError(refusal.code, refusal.field) from None
    if secret is not None:
        settings.pop(secret.name, None)
    return {**settings, "mode": mode, "owner": owner}


def _sealed(value: str | None) -> str | None:
    """A plugin secret encrypted for storage; SourceError when it cannot be stored."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_PLUGIN_SECRET:
        raise SourceError("secret_too_long", "secret")
    try:
        return seal(value)
    except SecretsUnavailable as missing:
        raise SourceError(missing.code, "secret") from None


def _config_for(type_: str, config: dict | None) -> dict:
    kind = source_type(type_)
    return clean_plugin_config(kind, config or {}) if kind is not None else clean_config(config or {})


def create_source(slug: str, type: str, name: str = "", config: dict | None = None,
                  secret: str | None = None, actor=None) -> Source:
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise SourceError("invalid_slug")
    if type not in source_types():
        raise SourceError("unknown_type")
    kind = source_type(type)
    cleaned = _config_for(type, config)
    secret_field = secret_setting(kind)
    if secret_field is not None:
        secret = secret or (config or {}).get(secret_field.name)
        if secret_field.required and not (secret or "").strip():
            raise SourceError("setting_required", secret_field.name)
        stored_secret = _sealed(secret)
    else:
        stored_secret = (secret or "").strip() or None
    with database.atomic():
        if Source.select().where(Source.slug == slug).exists():
            raise SourceError("slug_taken")
        source = Source.create(slug=slug, type=type, name=(name or slug).strip()[:100],
                               config=cleaned, secret=stored_secret)
        audit("source.create", "source", source.id, detail=f"type={type}", actor=actor)
    forget_sources()
    return source


def update_source(source: Source, *, name: str | None = None, config: dict | None = None,
                  secret: str | None = None, clear_secret: bool = False, active: bool | None = None,
                  actor=None) -> Source:
    """Change what is given; an empty secret leaves the stored one as it is."""
    kind = source_type(source.type)
    secret_field = secret_setting(kind)
    if secret_field is not None and config is not None and not secret:
        secret = config.get(secret_field.name)
    if name is not None:
        source.name = name.strip()[:100] or source.slug
    if config is not None:
        source.config = _config_for(source.type, config)
    if clear_secret:
        source.secret = None
    elif secret and secret.strip():
        source.secret = _sealed(secret) if secret_field is not None else secret.strip()
    if active is not None:
        source.active = active
    source.save()
    audit("source.update", "source", source.id, actor=actor)
    forget_sources()
    return source


FIELD_INPUTS = {  # our field: (input type, autocomplete, required)
    "first_name": ("text", "given-name", False),
    "last_name": ("text", "family-name", True),
    "phone": ("tel", "tel", True),
    "email": ("email", "email", False),
    "request": ("select", "off", False),
    "message": ("textarea", "off", False),
}
FIELD_LABELS_FR = {"first_name": "Prénom", "last_name": "Nom", "phone": "Téléphone", "email": "E-mail",
                   "request": "Votre demande", "message": "Message"}
REQUEST_CHOICES_FR = (("rdv", "Prendre rendez-vous"), ("devis", "Recevoir un devis / les tarifs"),
                      ("programme", "Recevoir des informations sur le programme"))


def embed_snippet(source: Source, action_url: str) -> str:
    """The HTML form a website pastes in (French, like the website's visitors), escaped for display.

    It posts straight to the intake URL, names its fields as this source's mapping reads them, and
    carries the honeypot, hidden from people and left empty by them.
    """
    config = config_of(source)
    mapping = mapping_for(config)
    lines = [f'<form action="{escape(action_url)}" method="post" accept-charset="utf-8">']
    for target, (kind, autocomplete, required) in FIELD_INPUTS.items():
        name = escape(mapping[target][0])
        label = FIELD_LABELS_FR[target]
        need = " required" if required else ""
        lines.append(f"  <p><label>{label}<br>")
        if kind == "textarea":
            lines.append(f'    <textarea name="{name}" rows="4"></textarea></label></p>')
        elif kind == "select":
            lines.append(f'    <select name="{name}">')
            lines.extend(f'      <option value="{value}">{text}</option>' for value, text in REQUEST_CHOICES_FR)
            lines.append("    </select></label></p>")
        else:
            lines.append(f'    <input type="{kind}" name="{name}" autocomplete="{autocomplete}"{need}></label></p>')
    if config.get("honeypot"):
        lines.append(f'  <p style="position:absolute;left:-10000px" aria-hidden="true"><label>Ne pas remplir '
                     f'<input type="text" name="{escape(config["honeypot"])}" tabindex="-1" autocomplete="off">'
                     "</label></p>")
    lines.append('  <p><button type="submit">Envoyer</button></p>')
    lines.append("</form>")
    return "\n".join(lines)
