"""Phone numbers to E.164 (DESIGN: identity). A number that does not parse is kept as typed, flagged."""
import re
from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True)
class Phone:
    raw: str
    e164: str | None

    @property
    def valid(self) -> bool:
        return self.e164 is not None

    @property
    def digits(self) -> str:
        """The digits a wa.me link or a search needs."""
        return (self.e164 or "").lstrip("+")


def normalise_phone(raw: str | None, region: str) -> Phone:
    """Parse with the business's default region; a number valid in its own country is kept too.

    `77 123 45 67`, `+221 77 123 45 67`, `00221771234567` all give `+221771234567` for SN.
    """
    raw = (raw or "").strip()
    if not raw:
        return Phone(raw="", e164=None)
    text = raw
    if text.startswith("00"):
        text = "+" + text[2:]
    for candidate_region in (region, None):
        try:
            number = phonenumbers.parse(text, candidate_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return Phone(raw=raw, e164=phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164))
    return Phone(raw=raw, e164=None)


def looks_like_phone(text: str) -> bool:
    """A search string that is mostly digits is a phone number, not a name."""
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 6 and digits >= len(text.replace(" ", "")) * 0.7


def display_phone(e164: str | None, region: str) -> str:
    """National format for numbers of the business's country, international otherwise."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, None)
    same_country = phonenumbers.region_code_for_number(number) == region
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if same_country
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, fmt)


def repair_phone(raw: str, region: str, other_regions=("FR",)) -> str | None:
    """A number from a spreadsheet or another system in E.164, or None: undoes what spreadsheets do to
    numbers (Excel drops the `00` of `00221771234567`, giving 221771234567, and the leading 0 of a
    French `06 12 34 56 78`, giving 612345678), then tries the diaspora's countries (`other_regions`)."""
    raw = (raw or "").strip()
    phone = normalise_phone(raw, region)
    if phone.valid:
        return phone.e164
    digits = re.sub(r"[\s.\-()]", "", raw)
    if not digits.isdigit():
        return None
    if len(digits) >= 10 and not digits.startswith("0"):
        phone = normalise_phone("+" + digits, region)   # an international number without its 00
        if phone.valid:
            return phone.e164
    for other in other_regions:
        for candidate in (digits, "0" + digits):
            phone = normalise_phone(candidate, other)
            if phone.valid:
                return phone.e164
    return None


# A run of 7 to 15 digits as people write phone numbers: "+221 77 123 45 67", "00221-77-123-45-67",
# "(33) 821 00 00", "771234567"; separators are spaces, dots, hyphens, slashes and brackets.
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d(?:[ \t\u00a0.\-/()]{0,2}\d){6,14}(?!\w)")


def phones_in_text(text: str | None, region: str, limit: int = 50) -> list[str]:
    """The valid phone numbers written in a text, E.164, in order of appearance, each once. Only the
    first `limit` digit runs are tried: a person's message holds a few numbers, not thousands."""
    found = []
    for tried, match in enumerate(_PHONE_CANDIDATE.finditer(text or "")):
        if tried >= limit:
            break
        e164 = normalise_phone(match.group(0).strip(" .-/"), region).e164
        if e164 and e164 not in found:
            found.append(e164)
    return found
