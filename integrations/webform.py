"""The built-in web-form plugin: a stored form post (form-encoded, multipart or JSON) to contact fields.

Each source maps our fields to the names its form uses. Presets cover a plain HTML form, WordPress
Contact Form 7 and a JSON webhook; an admin can override any field with a comma-separated list of names
(the first non-empty one wins; JSON nests with dots: `contact.phone`). `WebformSource` declares the
settings a web-form source takes and checks them; it uses the same hooks an outside plugin would.
"""
import codecs
import io
import json
import re
from datetime import date, datetime
from urllib.parse import parse_qsl

from markupsafe import escape
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser
from werkzeug.http import parse_options_header

from webapp.rules.contact import is_email
from webapp.rules.web import is_web_url, web_origin

from .contract import (INTAKE_MODES, MODE_SETTING, N_, OWNER_POLICIES, OWNER_SETTING, Inbound, Inspection, PluginError,
                       Setting, SourceType)
from .hookspecs import hookimpl

SOURCE_TYPE = "webform"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
JSON_TYPES = ("application/json",)
ACCEPTED_TYPES = FORM_TYPES + JSON_TYPES

# Our fields, in the order the settings page shows them.
TARGETS = ("full_name", "first_name", "last_name", "phone", "email", "birth_date", "request", "message",
           "origin")

PRESETS = {
    "html": {
        "full_name": ["name", "nom_complet", "full_name"],
        "first_name": ["first_name", "prenom", "firstname"],
        "last_name": ["last_name", "nom", "lastname"],
        "phone": ["phone", "telephone", "tel", "mobile"],
        "email": ["email", "courriel", "mail"],
        "birth_date": ["birth_date", "date_naissance"],
        "request": ["request", "demande", "objet", "subject", "motif"],
        "message": ["message", "commentaire", "comment"],
        "origin": ["origin", "origine", "utm_campaign", "campaign"],
    },
    "cf7": {
        "full_name": ["your-name"],
        "first_name": ["your-first-name", "first-name", "prenom"],
        "last_name": ["your-last-name", "last-name", "nom"],
        "phone": ["your-phone", "your-tel", "tel", "phone", "telephone"],
        "email": ["your-email", "email"],
        "birth_date": ["your-birth-date", "date-naissance"],
        "request": ["your-subject", "demande", "menu-demande"],
        "message": ["your-message", "message"],
        "origin": ["utm_campaign", "campaign"],
    },
    "json": {
        "full_name": ["name", "full_name", "contact.name"],
        "first_name": ["first_name", "firstName", "contact.first_name", "contact.firstName"],
        "last_name": ["last_name", "lastName", "contact.last_name", "contact.lastName"],
        "phone": ["phone", "phone_number", "contact.phone", "contact.phone_number"],
        "email": ["email", "contact.email"],
        "birth_date": ["birth_date", "birthDate", "contact.birth_date"],
        "request": ["request", "subject", "type", "form.subject"],
        "message": ["message", "comment", "body", "form.message"],
        "origin": ["origin", "campaign", "utm.campaign", "utm_campaign"],
    },
}
PRESET_NAMES = tuple(PRESETS)
MAX_VALUE = 5000
MAX_FIELDS = 200


# The public plugin error is `contract.PluginError`; this name stays for the code that knew it.
IntakeError = PluginError


def mimetype_of(content_type: str) -> str:
    return parse_options_header(content_type or "")[0].lower()


def decode_body(content_type: str, body: bytes) -> dict[str, str]:
    """The posted values as one flat mapping of name to text. Raises IntakeError on what we cannot read."""
    mimetype, options = parse_options_header(content_type or "")
    mimetype = mimetype.lower()
    charset = options.get("charset", "utf-8")
    try:
        # A text encoding only: Python also names transforms (rot13, zlib, base64) that read no text.
        if not codecs.lookup(charset)._is_text_encoding:
            raise LookupError(charset)
    except LookupError:
        raise IntakeError("unknown_charset", 415) from None
    if mimetype == "application/x-www-form-urlencoded":
        return _urlencoded(body, charset)
    if mimetype == "multipart/form-data":
        return _multipart(body, options.get("boundary", ""), charset)
    if mimetype in JSON_TYPES or mimetype.endswith("+json"):
        return _json(body, charset)
    raise IntakeError("unsupported_content_type", 415)


def _text(body: bytes, charset: str) -> str:
    try:
        return body.decode(charset)
    except (UnicodeDecodeError, ValueError):
        raise IntakeError("bad_encoding") from None


def _urlencoded(body: bytes, charset: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(_text(body, charset), keep_blank_values=True, encoding=charset, errors="strict",
                          max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise IntakeError("bad_encoding") from None
    except ValueError:
        raise IntakeError("too_many_fields") from None
    return _collect(pairs)


def _multipart(body: bytes, boundary: str, charset: str) -> dict[str, str]:
    if not boundary:
        raise IntakeError("bad_multipart")
    parser = MultiPartParser(max_form_memory_size=len(body) + 1, max_form_parts=MAX_FIELDS)
    try:
        form, files = parser.parse(io.BytesIO(body), boundary.encode("latin-1", "replace"), len(body))
    except (ValueError, RequestEntityTooLarge):
        raise IntakeError("bad_multipart") from None
    for stored in files.values():
        stored.close()  # attachments stay in the raw body only
    return _collect(form.items(multi=True))


def _json(body: bytes, charset: str) -> dict[str, str]:
    try:
        data = json.loads(_text(body, charset))
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's parser goes
        raise IntakeError("bad_json") from None
    if not isinstance(data, dict):
        raise IntakeError("json_not_object")
    flat: list[tuple[str, str]] = []
    _flatten(data, "", flat, depth=0)
    return _collect(flat)


def _flatten(value, prefix: str, out: list, depth: int) -> None:
    if depth > 8:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _flatten(item, prefix, out, depth + 1)
    elif value is not None:
        out.append((prefix, value if isinstance(value, str) else json.dumps(value)))


def _collect(pairs) -> dict[str, str]:
    """Repeated names (checkboxes) are joined; every value is trimmed and bounded."""
    values: dict[str, str] = {}
    for key, value in pairs:
        value = str(value).replace("\x00", "").strip()[:MAX_VALUE]
        if key in values and value:
            values[key] = f"{values[key]}, {value}" if values[key] else value
        else:
            values.setdefault(key, value)
    return values


def mapping_for(config: dict) -> dict[str, list[str]]:
    """The preset's names for each field, with the source's own overrides in front."""
    preset = PRESETS.get(config.get("preset") or "html", PRESETS["html"])
    overrides = config.get("fields") or {}
    mapping = {}
    for target in TARGETS:
        own = [name.strip() for name in str(overrides.get(target) or "").split(",") if name.strip()]
        mapping[target] = own + [name for name in preset[target] if name not in own]
    return mapping


def contact_fields(values: dict[str, str], mapping: dict[str, list[str]], honeypot: str = "") -> dict:
    """The contact fields found in the posted values; what the mapping does not use is kept as `extra`."""
    used = {honeypot} if honeypot else set()
    found: dict[str, str] = {}
    for target, names in mapping.items():
        for name in names:
            if values.get(name):
                found[target] = values[name]
                used.add(name)
                break
        used.update(name for name in names if name in values)
    first, last = found.get("first_name", ""), found.get("last_name", "")
    if not (first or last) and found.get("full_name"):
        first, last = split_name(found["full_name"])
    email = found.get("email", "")
    extra = {key: value for key, value in values.items()
             if key not in used and value and not key.startswith("_wpcf7")}
    if email and not is_email(email):
        extra["email"], email = email, ""
    birth = parse_birth_date(found.get("birth_date", ""))
    if found.get("birth_date") and birth is None:
        extra["birth_date"] = found["birth_date"]
    return {
        "first_name": first[:100], "last_name": last[:100], "phone": found.get("phone", "")[:40],
        "email": email[:200] or None, "birth_date": birth.isoformat() if birth else None,
        "request": found.get("request", "")[:200], "message": found.get("message", ""),
        "origin": found.get("origin", "")[:200], "extra": extra,
    }


def split_name(full: str) -> tuple[str, str]:
    """"Mame Diarra Ndiaye" gives ("Mame Diarra", "Ndiaye"): family names come last on these forms."""
    parts = full.split()
    if len(parts) < 2:
        return "", full.strip()
    return " ".join(parts[:-1]), parts[-1]


def parse_birth_date(text: str) -> date | None:
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            parsed = datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
        return parsed if 1900 <= parsed.year <= date.today().year else None
    return None


def read_post(config: dict, content_type: str, body: bytes) -> dict:
    """Contact fields from a post to a web-form source; raises IntakeError when unreadable or empty."""
    values = decode_body(content_type, body)
    fields = contact_fields(values, mapping_for(config), honeypot=config.get("honeypot", ""))
    if not fields["phone"] and not fields["email"]:
        raise IntakeError("missing_contact", 422)
    return fields


# --- the source type: its settings, their checks, acceptance's look at a post, the form to paste ---------

HONEYPOT = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")
MAX_FIELD_NAMES = 300


class WebformSource(SourceType):
    """A website form or a webhook posting to `/intake/<slug>`."""
    name = SOURCE_TYPE
    label = N_("Website form")
    channel = "webform"
    receives_posts = True
    presets = PRESETS
    targets = TARGETS
    settings = (
        Setting("preset", N_("Form kind"), "choice", default="html", choices=PRESET_NAMES),
        Setting("fields", N_("Field names"), "mapping", default={}, choices=TARGETS),
        Setting("thank_you_url", N_("Thank-you page"), default=""),
        Setting("allowed_origins", N_("Allowed origins"), "list", default=[]),
        MODE_SETTING,
        OWNER_SETTING,
        Setting("honeypot", N_("Trap field"), default="website"),
        Setting("rate_limit", N_("Rate limit"), default="20 per minute"),
    )

    def validate(self, values: dict) -> dict:
        """The settings, complete; an empty honeypot, thank-you page or rate limit means none (the
        core reads the rate limit and checks a staff owner: it knows the words and the staff)."""
        config = self.defaults()
        preset = str(values.get("preset") or config["preset"]).strip()
        if preset not in PRESET_NAMES:
            raise PluginError("unknown_preset", 422, field="preset")
        mode = str(values.get("mode") or config["mode"]).strip()
        if mode not in INTAKE_MODES:
            raise PluginError("unknown_mode", 422, field="mode")
        owner = str(values.get("owner") or config["owner"]).strip()
        if owner not in OWNER_POLICIES and not owner.isdigit():
            raise PluginError("unknown_owner", 422, field="owner")
        honeypot = str(values["honeypot"] if values.get("honeypot") is not None else config["honeypot"]).strip()
        if honeypot and not HONEYPOT.match(honeypot):
            raise PluginError("invalid_honeypot", 422, field="honeypot")
        thanks = str(values.get("thank_you_url") or "").strip()
        if thanks and not is_web_url(thanks):
            raise PluginError("invalid_thank_you_url", 422, field="thank_you_url")
        config.update(preset=preset, mode=mode, owner=owner, honeypot=honeypot, thank_you_url=thanks,
                      fields=_field_names(values.get("fields")), allowed_origins=_origins(values.get("allowed_origins")),
                      rate_limit=str(values["rate_limit"] if values.get("rate_limit") is not None
                                     else config["rate_limit"]))
        return config

    def inspect(self, config: dict, content_type: str, headers: dict, body: bytes) -> Inspection:
        """The posted values, without the honeypot, are the content (the order of fields does not
        matter); a filled honeypot is spam."""
        values = decode_body(content_type, body)
        honeypot = config.get("honeypot") or ""
        if honeypot and values.get(honeypot):
            return Inspection(content=b"", spam="honeypot")
        fields = contact_fields(values, mapping_for(config), honeypot)
        if not fields["phone"] and not fields["email"]:
            raise PluginError("missing_contact", 422)
        return Inspection(content=b"form:" + json.dumps(
            sorted((k, v) for k, v in values.items() if k != honeypot)).encode())

    def embed_html(self, config: dict, action_url: str) -> str:
        return embed_snippet(config, action_url)


def _field_names(fields) -> dict:
    names_by_target = {}
    for target in TARGETS:
        names = ",".join(n.strip() for n in str((fields or {}).get(target) or "").split(",") if n.strip())
        if len(names) > MAX_FIELD_NAMES:
            raise PluginError("invalid_fields", 422, field="fields")
        if names:
            names_by_target[target] = names
    return names_by_target


def _origins(origins) -> list[str]:
    if isinstance(origins, str):
        origins = origins.replace(",", "\n").splitlines()
    cleaned = set()
    for text in origins or []:
        if str(text).strip():
            origin = web_origin(str(text))
            if origin is None:
                raise PluginError("invalid_origin", 422, field="allowed_origins")
            cleaned.add(origin)
    return sorted(cleaned)


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


def embed_snippet(config: dict, action_url: str) -> str:
    """The HTML form a website pastes in (French, like the website's visitors), escaped for display.

    It posts straight to the intake URL, names its fields as this source's mapping reads them, and
    carries the honeypot, hidden from people and left empty by them.
    """
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


WEBFORM = WebformSource()


@hookimpl
def source_types():
    return [WEBFORM]


@hookimpl
def parse_request(source, content_type, headers, body):
    if source.type != SOURCE_TYPE:
        return None
    return Inbound(channel=WebformSource.channel, **read_post(source.config or {}, content_type, body))
