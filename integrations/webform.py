"""The built-in web-form plugin: a stored form post (form-encoded, multipart or JSON) to contact fields.

Each source maps our fields to the names its form uses. Presets cover a plain HTML form, WordPress
Contact Form 7 and a JSON webhook; an admin can override any field with a comma-separated list of names
(the first non-empty one wins; JSON nests with dots: `contact.phone`).
"""
import codecs
import io
import json
from datetime import date, datetime
from urllib.parse import parse_qsl

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser
from werkzeug.http import parse_options_header

from webapp.rules.contact import is_email

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


class IntakeError(Exception):
    """A body we cannot read: a stable code for machines and the HTTP status to answer with."""

    def __init__(self, code: str, status: int = 400):
        super().__init__(code)
        self.code, self.status = code, status


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


@hookimpl
def source_types():
    return [SOURCE_TYPE]


@hookimpl
def parse_request(source, content_type, headers, body):
    if source.type != SOURCE_TYPE:
        return None
    return read_post(source.config or {}, content_type, body)
