"""Integration sources, as an admin configures them (settings page and `relance add-source`).

One validation for both: the source type (a plugin's `SourceType`) checks its own settings, then
this module checks what only the core can (a staff owner, a rate limit in the person's words). A bad
value is a `SourceError` with a stable code the page translates. The HMAC secret is write-only: it
can be set, replaced or cleared, never read back (SECURITY.md).

A source type's "secret" setting (a mailbox password) never goes into the config: it is encrypted with
`webapp.secrets` into the same write-only `Source.secret` column; an empty value keeps the stored one.
"""
import re

from limits import parse as parse_limit

from integrations.contract import OWNER_POLICIES, PluginError
from integrations.plugins import source_type, source_types

from ..models import Source, User, database
from ..refusals import Refusal
from ..rules.numbers import parse_id
from ..rules.text import fold
from ..secrets import SecretsUnavailable, seal
from .audit import record as audit
from .intake import config_of
from .intake_store import forget_sources
from .users import may_own_work

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DEFAULT_TYPE = "webform"


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


class SourceError(Refusal, ValueError):
    """A refused setting: its stable code and, when a source type said which, the setting's name."""
    status = 400
    domain = "source"

    def __init__(self, code: str, field: str | None = None):
        super().__init__(code, field=field)


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


def clean_config(data: dict, type: str = DEFAULT_TYPE) -> dict:
    """A complete, valid configuration for a source of this type from form or CLI values (strings or
    lists); SourceError names the first bad one."""
    kind = source_type(type)
    if kind is None:
        raise SourceError("unknown_type")
    secret = secret_setting(kind)
    data = dict(data or {})
    if secret is not None:   # checked on its own (create: required; update: empty keeps it)
        data[secret.name] = "*"
    try:
        config = kind.validate(data)
    except PluginError as refusal:
        raise SourceError(refusal.code, refusal.field) from None
    if secret is not None:
        config.pop(secret.name, None)
    owner = config.get("owner")
    if owner is not None and str(owner) not in OWNER_POLICIES:
        if not parse_id(owner) or not may_own_work(User.get_or_none(User.id == parse_id(owner))):
            raise SourceError("unknown_owner", "owner")
    if "rate_limit" in config:
        config["rate_limit"] = read_rate_limit(config["rate_limit"])
    return config


MAX_PLUGIN_SECRET = 500


def secret_setting(kind):
    """The source type's write-only setting (a mailbox password), if it has one."""
    return next((s for s in kind.settings if s.kind == "secret"), None) if kind is not None else None


def _sealed(value: str | None) -> str | None:
    """A source type's secret setting encrypted for storage; SourceError when it cannot be stored."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_PLUGIN_SECRET:
        raise SourceError("secret_too_long", "secret")
    try:
        return seal(value)
    except SecretsUnavailable as missing:
        raise SourceError(missing.code, "secret") from None


def _stored_secret(kind, config: dict | None, secret: str | None, required: bool) -> str | None:
    """What goes into `Source.secret`: the type's secret setting sealed (from the config or `secret`),
    else the HMAC secret as given; None for nothing new."""
    field = secret_setting(kind)
    if field is None:
        return (secret or "").strip() or None
    value = secret or (config or {}).get(field.name)
    if required and field.required and not (value or "").strip():
        raise SourceError("setting_required", field.name)
    return _sealed(value)


def create_source(slug: str, type: str, name: str = "", config: dict | None = None,
                  secret: str | None = None, actor=None) -> Source:
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise SourceError("invalid_slug")
    if type not in source_types():
        raise SourceError("unknown_type")
    cleaned = clean_config(config or {}, type)
    stored_secret = _stored_secret(source_type(type), config, secret, required=True)
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
    """Change what is given; an empty secret leaves the stored one as it is (a source type's secret
    setting may come in `config`, as the settings page sends it)."""
    kind = source_type(source.type)
    new_secret = _stored_secret(kind, config, secret, required=False) if (secret or config) else None
    if name is not None:
        source.name = name.strip()[:100] or source.slug
    if config is not None:
        source.config = clean_config(config, source.type)
    if clear_secret:
        source.secret = None
    elif new_secret:
        source.secret = new_secret
    if active is not None:
        source.active = active
    source.save()
    audit("source.update", "source", source.id, actor=actor)
    forget_sources()
    return source


def embed_snippet(source: Source, action_url: str) -> str | None:
    """The HTML a website pastes to post to this source (a web form's), or None for a type without one."""
    kind = source_type(source.type)
    return kind.embed_html(config_of(source), action_url) if kind is not None else None
