"""Answer templates and the mail that answers (seed 000, issue 16 §5): pure functions, no Flask, no database.

Seed 000: "La réponse à la première question doit se terminer par une incitation à prendre contact [...]
personnalisées avec recommandation (ex : demandez Codou au standard)"; for cold prospects, "le lien du
site web et de la page Facebook". A template is French text with placeholders in braces (`{prenom}`);
`{{` and `}}` write a brace. Filling is plain substitution (never `str.format`: no attribute access,
no format specs), and the HTML part escapes every character of the filled text.
"""
import html
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# Placeholder -> what it is filled with (the settings page lists them in this order).
PLACEHOLDERS = ("prenom", "nom", "demander", "interlocuteur", "etablissement", "telephone", "adresse",
                "site", "facebook", "expediteur")
GENERAL = "general"   # the templates for a person whose request is not qualified yet
TEMPERATURES = ("hot", "warm", "cold")
SUBJECT_MAX = 200
# An SMTP conversation gives up after 30 s a step (webapp/mail.py): an answer still `sending` this long after
# it started was cut off (the process stopped in the middle): it may have left, or not.
SEND_SETTLED_WITHIN = timedelta(minutes=10)
BODY_MAX = 10000
REFERENCES_KEPT = 20   # RFC 5322 asks for the whole chain; a very long one is trimmed from the start


class TemplateError(ValueError):
    """A template that cannot be saved: `code` says why, `names` lists the placeholders in question."""

    def __init__(self, code: str, names: tuple[str, ...] = ()):
        super().__init__(code)
        self.code, self.names = code, names


def template_key(qualification: str | None, temperature: str) -> str:
    """The template for a prospect: per qualification (or the general one) and per temperature."""
    return f"{qualification or GENERAL}:{temperature}"


def _parts(text: str):
    """(literal, placeholder name or None) pairs; TemplateError for a lone brace or a format spec."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise TemplateError("unbalanced_braces") from None
    for literal, name, spec, conversion in parsed:
        if name is not None and (spec or conversion):
            raise TemplateError("unknown_placeholders", (f"{name}!{conversion}" if conversion else f"{name}:{spec}",))
        yield literal, name


def check_template(text: str) -> None:
    """Refuse a template whose placeholders are not all known (TemplateError, with the unknown names)."""
    unknown = []
    for _literal, name in _parts(text):
        if name is not None and name not in PLACEHOLDERS and name not in unknown:
            unknown.append(name)
    if unknown:
        raise TemplateError("unknown_placeholders", tuple(unknown))


def fill(text: str, values: Mapping[str, str]) -> str:
    """The template with each placeholder replaced by its value (a missing value is empty)."""
    check_template(text)
    return "".join(literal + (str(values.get(name) or "") if name is not None else "")
                   for literal, name in _parts(text))


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def _linked(line: str) -> str:
    """One line, escaped, its http(s) addresses as links (the address is escaped too)."""
    out, last = [], 0
    for match in _URL.finditer(line):
        out.append(html.escape(line[last:match.start()]))
        url = html.escape(match.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)


def text_body_html(text: str) -> str:
    """The answer's text as HTML paragraphs: every character escaped, paragraphs on blank lines, web
    addresses as links."""
    paragraphs = [p for p in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip()) if p.strip()]
    return "\n".join("<p>" + "<br>\n".join(_linked(line) for line in p.split("\n")) + "</p>" for p in paragraphs)


def text_to_html(text: str) -> str:
    """The HTML part of an answer: a whole document around `text_body_html`."""
    body = text_body_html(text)
    return f'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"></head><body>\n{body}\n</body></html>\n'


def message_id(value: str | None) -> str | None:
    """A Message-ID as headers write it, in angle brackets (None for an empty one)."""
    value = (value or "").strip()
    if not value:
        return None
    return value if value.startswith("<") and value.endswith(">") else f"<{value.strip('<>')}>"


@dataclass(frozen=True)
class Threading:
    in_reply_to: str | None
    references: tuple[str, ...]


def threading(parent_id: str | None, parent_thread: tuple[str, ...] | list = ()) -> Threading:
    """In-Reply-To and References for an answer to the mail `parent_id` (RFC 5322 §3.6.4): References
    is the parent's own chain, then the parent. `parent_thread` is what the parser kept of the parent's
    headers: its In-Reply-To first, then its References, each id once (Inbound.thread); the chain is
    its References in order, ending with its In-Reply-To."""
    parent = message_id(parent_id)
    if parent is None:
        return Threading(None, ())
    thread = [m for m in (message_id(v) for v in parent_thread or ()) if m]
    chain = [*thread[1:], *thread[:1]]
    references = list(dict.fromkeys([*chain, parent]))[-REFERENCES_KEPT:]
    return Threading(parent, tuple(references))


def reply_subject(subject: str | None) -> str:
    """"Re: " before the subject of the mail answered, once."""
    subject = " ".join((subject or "").split())
    if not subject:
        return ""
    return subject if re.match(r"(?i)^(re|tr|fw|fwd)\s*:", subject) else f"Re: {subject}"


def day_start(now: datetime, tz: str) -> datetime:
    """The start of `now`'s day in the business timezone, naive UTC: the daily cap's window."""
    zone = ZoneInfo(tz)
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone) if now.tzinfo is None else now.astimezone(zone)
    start = datetime.combine(local.date(), time(0), tzinfo=zone)
    return start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def over_daily_cap(sent_today: int, cap: int) -> bool:
    """True when one more mail to an address would pass the daily cap (a cap of 0 sends nothing)."""
    return sent_today >= max(int(cap), 0)


def send_cut_off(state: str, started_at: datetime, now: datetime) -> bool:
    """An answer whose send started at `started_at` and never reached `sent`: nobody knows whether the mail
    server took it (the sent folder tells)."""
    return state == "sending" and now - started_at > SEND_SETTLED_WITHIN
