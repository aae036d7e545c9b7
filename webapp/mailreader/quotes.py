"""The new text of a mail: what the person wrote this time, without the quoted history or the signature.

Rules written for the forms real clients use (NOTES: mail), French first: "Le <date>, <nom> a écrit :"
wrapped over two or three lines and possibly `>`-quoted; Outlook's "De : … Envoyé : … À : … Objet :"
block (a non-breaking space may precede the colon); "-----Message d'origine-----", "Message transféré",
"Début du message réexpédié :"; "Envoyé de mon iPhone", "Envoyé depuis …"; the "-- " signature; and the
English forms. A history header followed by `>`-quoted lines only removes that quote (the reply may be
written below it or between quotes); one followed by unquoted text ends the new text.
"""
import re
from dataclasses import dataclass

_WINDOW = 3                          # an attribution wraps over at most three lines
_ATTRIBUTION_MAX = 400               # characters: longer is a paragraph, not an attribution
_QUOTED = re.compile(r"^[ \t]*>")
_SEPARATOR = re.compile(
    r"^[\s>]*-{2,}\s*(?:message d['’]origine|original message|message transf[ée]r[ée]|mail transf[ée]r[ée]|"
    r"forwarded message|ursprüngliche nachricht|mensaje original|messaggio originale|oorspronkelijk bericht|"
    r"mensagem original)\s*-{2,}\s*$", re.I)
_FORWARD = re.compile(r"^[\s>]*(?:début du message réexpédié|debut du message reexpedie|begin forwarded message|"
                      r"message transféré)\s*:?\s*$", re.I)
# Orange's webmail: "Message du 03/11/25 10:12" above its "De : … A : … Copie à : … Objet :" block.
_ORANGE = re.compile(r"^[\s>]*message du \d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}\s*$", re.I)
_RULE = re.compile(r"^[\s>]*[-_=*~]{3,}[\s\-_=*~]*$")
_FRENCH = re.compile(r"^\s*le\s.{4,380}?\ba\s+[ée]crit\s*:\s*$", re.I | re.S)
# Yahoo writes the attribution and the first quoted line on one line: an address must name the author.
_FRENCH_INLINE = re.compile(r"^\s*le\s[^\n]{4,300}?@[^\n]{1,200}?\ba\s+[ée]crit\s*:\s*\S", re.I)
_ENGLISH_INLINE = re.compile(r"^\s*on\s[^\n]{4,300}?@[^\n]{1,200}?\bwrote\s*:\s*\S", re.I)
_ENGLISH = re.compile(r"^\s*on\s.{4,380}?\bwrote\s*:\s*$", re.I | re.S)
# Any language: a line or two ending with a colon, naming an address or a date, above a quote.
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}[:h]\d{2}|\b\d{4}\b")
_HEADER_LINE = re.compile(r"^[\s>*]*([^\W\d_][^\W\d_' ’-]*(?:[ '’-][^\W\d_]+){0,2})[\s*]*:")
_SENDER_VALUE = re.compile(r"@|[^\W\d_]{2,}")
_FROM_NAMES = {"from", "de", "von", "van", "da", "от", "från", "fra", "od", "desde", "expéditeur"}
_OTHER_NAMES = {
    "sent", "date", "to", "cc", "bcc", "subject", "reply-to", "reply to", "envoyé", "envoye", "à", "a",
    "objet", "répondre à", "repondre a", "cci", "copie", "copie à", "destinataire",
    "gesendet", "an", "betreff", "datum", "отправлено", "кому", "тема", "дата", "копия", "enviado", "para", "asunto",
    "fecha", "inviato", "oggetto", "data", "verzonden", "aan", "onderwerp", "skickat", "till", "ämne"}
_MOBILE = re.compile(
    r"^\s*(?:envoy[ée] (?:de mon|de ma|depuis|à partir de|a partir de|avec)\b|sent from\b|sent with\b|"
    r"get outlook for\b|obtenir outlook pour\b|télécharger outlook pour\b)", re.I)
_SIGNATURE = re.compile(r"^--\s*$")


@dataclass(frozen=True)
class Reply:
    new_text: str          # what the person wrote
    signature: str         # their signature (a phone number may be there)


def _windows(lines: list[str], start: int):
    """(end, text) for the line at `start` joined with up to two wrapped lines after it; a blank or
    quoted line, or a finished sentence, ends the window."""
    joined = ""
    for end in range(start, min(start + _WINDOW, len(lines))):
        if end > start and (not lines[end].strip() or _QUOTED.match(lines[end])
                            or lines[end - 1].rstrip().endswith((".", "?", "!"))):
            return
        joined = (joined + " " + lines[end].strip()).strip()
        if len(joined) > _ATTRIBUTION_MAX:
            return
        yield end, joined


def _attribution_end(lines: list[str], start: int) -> int | None:
    """The index after a "Le … a écrit :" / "On … wrote:" beginning at `start`, or None."""
    if _QUOTED.match(lines[start]) or not re.match(r"^\s*(?:le|on)\s", lines[start], re.I):
        return None
    for end, joined in _windows(lines, start):
        if joined.endswith(":") and (_FRENCH.match(joined) or _ENGLISH.match(joined)):
            return end + 1
    return None


def _generic_attribution_end(lines: list[str], start: int) -> int | None:
    """The end of an attribution in any language ("… пользователь … написал:"), only above a quote."""
    first = lines[start]
    if _QUOTED.match(first) or not (re.search(r"\d", first) or "@" in first):
        return None
    for end, joined in _windows(lines, start):
        if joined.endswith(":") and (_ADDRESS.search(joined) or _DATE.search(joined)):
            following = _next_filled(lines, end + 1)
            return end + 1 if following is not None and _QUOTED.match(lines[following]) else None
    return None


def _header_name(line: str) -> str | None:
    match = _HEADER_LINE.match(line)
    return match.group(1).strip().lower() if match else None


def _is_header_block(lines: list[str], start: int) -> bool:
    """Outlook's "De : … Envoyé : … À : … Objet :" (or From/Sent/To/Subject, in any order): a run of
    header lines naming a sender and at least one other header."""
    names, sender = [], False
    for line in lines[start:start + 8]:
        name = _header_name(line)
        if name is None or (name not in _FROM_NAMES and name not in _OTHER_NAMES):
            break
        names.append(name)
        # "De : Clinique Nest" names someone; "De : 8h" (opening hours) does not.
        sender = sender or (name in _FROM_NAMES and bool(_SENDER_VALUE.search(line.split(":", 1)[1])))
    return len(names) >= 2 and sender and any(n in _OTHER_NAMES for n in names)


def _next_filled(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if lines[index].strip():
            return index
    return None


def _history_start(lines: list[str], index: int) -> tuple[str, int] | None:
    """("cut", _) when the unquoted history starts at `index`; ("skip", end) for an attribution whose
    quote follows (only the attribution and the quote go)."""
    line = lines[index]
    if _SEPARATOR.match(line) or _FORWARD.match(line) or _ORANGE.match(line) or _is_header_block(lines, index):
        return "cut", index
    if _RULE.match(line):
        following = _next_filled(lines, index + 1)
        if following is not None and following - index <= 2 and _is_header_block(lines, following):
            return "cut", index
    lowered = line.lower()
    if ("crit" in lowered or "wrote" in lowered) and (_FRENCH_INLINE.match(line) or _ENGLISH_INLINE.match(line)):
        return "cut", index
    end = _attribution_end(lines, index)
    if end is not None:
        following = _next_filled(lines, end)
        quoted = following is not None and _QUOTED.match(lines[following])
        return ("skip", end) if quoted else ("cut", index)
    end = _generic_attribution_end(lines, index)
    if end is not None:
        return "skip", end
    return None


def _trim(lines: list[str]) -> str:
    while lines and (not lines[-1].strip() or _RULE.match(lines[-1])):
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    out, blank = [], False
    for line in lines:
        if not line.strip():
            if not blank:
                out.append("")
            blank = True
        else:
            out.append(line)
            blank = False
    return "\n".join(out)


def split_reply(text: str) -> Reply:
    """The new text and the signature of a mail's text (quoted lines `>`, history headers, signatures)."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _QUOTED.match(line):
            index += 1
            continue
        found = _history_start(lines, index)
        if found is not None:
            action, end = found
            if action == "cut":
                break
            index = end
            continue
        kept.append(line)
        index += 1
    signature: list[str] = []
    for number, line in enumerate(kept):
        if _SIGNATURE.match(line) or _MOBILE.match(line):
            kept, signature = kept[:number], kept[number:]
            break
    return Reply(_trim(kept), _trim(signature))
