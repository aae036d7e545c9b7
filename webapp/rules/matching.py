"""Is this new patient that prospect? Pure rules for the patient-system reconciliation (issue 17, §2).

Three verdicts for a (patient, prospect) pair that shared a blocking key:
- CERTAIN, the prospect is converted by itself: an exact phone or email match whose names agree (folded,
  in either order) and whose birth dates do not contradict; or the same name, in the same order, and the
  same birth date, with nothing that contradicts them: when both records carry contacts (a phone or an
  email) and share none, that is a contradiction — the benchmark's generated set shows why: about 7 in
  100,000 patients share the names and birth date of an unrelated prospect known only by an email.
- UNCERTAIN, a person decides (the review blocks the conversion): a typo or a spelling variant of a name
  (Ndiaye / Njaay), swapped first and last names without a phone match, a shared phone or email whose
  names or birth dates disagree (a mother's number given for her child), the same name and birth date
  with contacts that disagree.
- NONE: homonyms with different birth dates, near-homonyms (Ba / Ka, Sène / Sané), strangers.

A false automatic conversion is the one unacceptable error, so CERTAIN needs every known fact to agree.
Blocking keys (`name_block_key`, `surname_initial`, the phones, the email) only say which pairs to
compare; they are never phonetic codes (NOTES: Soundex gives Sène and Sané one code, Ndiaye and Njaay two)
and never a name alone. Spelling variants (`variant_key`) are compared inside a block only, and only ever
give UNCERTAIN.
"""
import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz.distance import Levenshtein

from .names import name_key as _name_key
from .phones import normalise_phone

# Names repeat (a few thousand spellings over a hundred thousand people): folding each once is most of
# the cost of matching a large batch.
name_key = lru_cache(maxsize=100_000)(_name_key)

CERTAIN = "certain"
UNCERTAIN = "uncertain"
NONE = "none"

# Reason codes, stored on the match row and shown (translated) on the review screen.
PHONE = "phone"                      # a phone number in common
EMAIL = "email"                      # the same email address
NAME = "name"                        # the same first and last names
NAME_SWAPPED = "name_swapped"        # the same names, first and last swapped
BIRTH_DATE = "birth_date"            # the same birth date
NAME_VARIANT = "name_variant"        # a spelling variant or a typo (Ndiaye / Njaay, Thiam / Thiaw)
NAME_PARTIAL = "name_partial"        # one side has a single name, found in the other
NAMES_DIFFER = "names_differ"        # a contact in common, but other names
BIRTH_DATES_DIFFER = "birth_dates_differ"
PHONES_DIFFER = "phones_differ"      # both have phones, none in common
EMAILS_DIFFER = "emails_differ"
CONTACTS_DIFFER = "contacts_differ"  # both have a phone or an email, none in common (one a phone, one an email)
SEVERAL_PROSPECTS = "several_prospects"   # the patient matches more than one prospect
SEVERAL_PATIENTS = "several_patients"     # the prospect matches more than one patient

REASONS = (PHONE, EMAIL, NAME, NAME_SWAPPED, BIRTH_DATE, NAME_VARIANT, NAME_PARTIAL, NAMES_DIFFER,
           BIRTH_DATES_DIFFER, PHONES_DIFFER, EMAILS_DIFFER, CONTACTS_DIFFER, SEVERAL_PROSPECTS, SEVERAL_PATIENTS)


# --- keys -----------------------------------------------------------------------------------------

@lru_cache(maxsize=100_000)
def name_block_key(first: str | None, last: str | None) -> str:
    """The folded names, sorted so that swapped first and last names give one key; blocked only together
    with the birth date. `N'Diaye Ndèye` and `Ndeye Ndiaye` are `ndeye ndiaye`."""
    parts = sorted(p for p in (name_key(first), name_key(last)) if p)
    return " ".join(parts)


@lru_cache(maxsize=100_000)
def surname_initial(last: str | None) -> str:
    """The first letter of the surname's spelling-variant key (Diop and Jóob both give `j`, Ndiaye and Njaay
    `n`): blocked only together with the birth date, so a variant or a typo is still compared."""
    return variant_key(last)[:1]


_VARIANT_RULES = (
    (re.compile(r"ou"), "u"),                 # Mamadou / Mamadu
    (re.compile(r"dj"), "j"),                 # Djibril / Jibril
    (re.compile(r"di(?=[aeou])"), "j"),       # Ndiaye / Njaay, Diop / Joob, Diallo / Jallo
    (re.compile(r"th"), "t"),                 # Thiam / Tiam
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck"), "k"),                 # Seck / Sek
    (re.compile(r"gu(?=[ei])"), "g"),
    (re.compile(r"(.)\1+"), r"\1"),           # Njaay / Njay, Fall / Fal, Joob / Job
    (re.compile(r"(?<=.)e$"), ""),            # Ndiaye / Njaay, Mbaye / Mbay (French mute e)
    (re.compile(r"b$"), "p"),                 # Jóob / Diop
)


@lru_cache(maxsize=100_000)
def variant_key(name: str | None) -> str:
    """A name's spelling as French and Wolof transcriptions write it differently, reduced to one form.
    Only ever compared inside a block, and only ever gives UNCERTAIN: it keeps Sène and Sané, Gueye and
    Gaye, Ba and Ka apart (it merges no two different consonants or vowels)."""
    key = name_key(name)
    for pattern, replacement in _VARIANT_RULES:
        key = pattern.sub(replacement, key)
    return key


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().casefold()
    return email if "@" in email else None


_SEPARATORS = re.compile(r"[\s.\-()/]")
_SN_MOBILE_PREFIXES = ("70", "76", "77", "78")   # every 7[0678] + 7 digits is valid (phonenumbers' SN metadata)


def phone_e164(raw: str | None, region: str) -> str | None:
    """normalise_phone, with a fast path for the Senegalese mobile numbers a patient export is mostly
    made of (77 123 45 67, 771234567, +221…, 00221…, 221… as Excel writes it): the result is exactly
    what phonenumbers gives, many times faster. Anything else goes through phonenumbers."""
    text = (raw or "").strip()
    if not text:
        return None
    if region == "SN":
        national = _sn_mobile(text)
        if national is not None:
            return "+221" + national
    e164 = normalise_phone(text, region).e164
    if e164 is None and region == "SN":
        # Excel drops the 00 of 00221…: "221771234567" alone is read as a Senegalese number.
        bare = re.sub(r"\D", "", text)
        if len(bare) == 12 and bare.startswith("221"):
            e164 = normalise_phone("+" + bare, region).e164
    return e164


def _sn_mobile(text: str) -> str | None:
    """The 9 national digits of a Senegalese mobile number written in any of the usual ways, else None."""
    # the usual separators first (three str.replace cost a third of the regular expression), then the rest
    digits = text if text.isdigit() else text.replace(" ", "").replace("-", "").replace(".", "")
    if not digits[1:].isdigit():
        digits = _SEPARATORS.sub("", text)
    if digits.startswith("+221"):
        digits = digits[4:]
    elif digits.startswith("00221"):
        digits = digits[5:]
    elif len(digits) == 12 and digits.startswith("221"):
        digits = digits[3:]
    # ASCII digits only: phonenumbers reads other scripts' digits, and gives them as ASCII
    if len(digits) == 9 and digits.isascii() and digits.isdigit() and digits.startswith(_SN_MOBILE_PREFIXES):
        return digits
    return None


# --- the verdict ----------------------------------------------------------------------------------

class Person(NamedTuple):
    """What the rules compare of a patient or a prospect: names as written, E.164 phones, folded email.
    (Named tuples, this and Verdict: immutable, and made several times faster than a frozen dataclass; a
    large import makes one per record and per pair.)"""
    first_name: str = ""
    last_name: str = ""
    birth_date: date | None = None
    phones: frozenset = frozenset()
    email: str | None = None


class Verdict(NamedTuple):
    verdict: str
    reasons: tuple[str, ...] = ()

    @property
    def certain(self) -> bool:
        return self.verdict == CERTAIN


def compare_names(a: Person, b: Person) -> str | None:
    """NAME (same order), NAME_SWAPPED, NAME_PARTIAL (a single name on one side, found in the other),
    NAME_VARIANT (a spelling variant or a one-letter typo on a name of five letters or more, the other
    name the same), or None: the names disagree."""
    fa, la = name_key(a.first_name), name_key(a.last_name)
    fb, lb = name_key(b.first_name), name_key(b.last_name)
    if not (fa or la) or not (fb or lb):
        return NAME_PARTIAL if (fa or la or fb or lb) else None
    if fa and la and fb and lb:
        if fa == fb and la == lb or fa + la == fb + lb:
            return NAME
        if fa == lb and la == fb or fa + la == lb + fb:
            return NAME_SWAPPED
        # one name the same (folded, or its spelling variant), the other a variant or a typo
        first_alike = fa == fb or variant_key(fa) == variant_key(fb)
        last_alike = la == lb or variant_key(la) == variant_key(lb)
        if first_alike and (last_alike or _typo(la, lb)) or last_alike and _typo(fa, fb):
            return NAME_VARIANT
        return None
    single, other = ((fa or la), (fb, lb)) if not (fa and la) else ((fb or lb), (fa, la))
    return NAME_PARTIAL if single in other else None


def _typo(x: str, y: str) -> bool:
    """A one-letter typo on a name long enough for a typo to be told from another name (Thiam / Thiaw:
    yes; Ba / Ka, Sène / Sané, Faye / Fall: no, they are families)."""
    return min(len(x), len(y)) >= 5 and x[0] == y[0] and Levenshtein.distance(x, y) <= 1


def judge(patient: Person, prospect: Person) -> Verdict:
    """The verdict on one pair, with the reasons a reviewer reads."""
    names = compare_names(patient, prospect)
    phone = not patient.phones.isdisjoint(prospect.phones)
    email = bool(patient.email and patient.email == prospect.email)
    births_known = patient.birth_date is not None and prospect.birth_date is not None
    same_birth = births_known and patient.birth_date == prospect.birth_date
    births_differ = births_known and not same_birth
    phones_differ = bool(patient.phones and prospect.phones) and not phone
    emails_differ = bool(patient.email and prospect.email) and not email

    reasons = []
    if phone:
        reasons.append(PHONE)
    if email:
        reasons.append(EMAIL)
    if names:
        reasons.append(names)
    elif phone or email:
        reasons.append(NAMES_DIFFER)
    if same_birth:
        reasons.append(BIRTH_DATE)
    if births_differ:
        reasons.append(BIRTH_DATES_DIFFER)

    if phone or email:
        if names in (NAME, NAME_SWAPPED) and not births_differ:
            return Verdict(CERTAIN, tuple(reasons))
        # a contact in common but a variant, a single name, other names or another birth date: the
        # mother's number given for her child, a family email, a typo. A person decides.
        return Verdict(UNCERTAIN, tuple(reasons))

    # no contact in common: the birth date must be known and the same
    if not same_birth or names is None or names == NAME_PARTIAL:
        return Verdict(NONE, tuple(reasons))
    if phones_differ:
        reasons.append(PHONES_DIFFER)
    if emails_differ:
        reasons.append(EMAILS_DIFFER)
    contacts_differ = ((patient.phones or patient.email) and (prospect.phones or prospect.email)
                       and not phones_differ and not emails_differ)
    if contacts_differ:
        reasons.append(CONTACTS_DIFFER)
    if names == NAME and not phones_differ and not emails_differ and not contacts_differ:
        return Verdict(CERTAIN, tuple(reasons))
    return Verdict(UNCERTAIN, tuple(reasons))


def settle(pairs: dict[tuple[int, int], Verdict]) -> dict[tuple[int, int], Verdict]:
    """Verdicts over a whole batch: a patient with certain matches to two prospects (the same person
    entered twice) or a prospect certain for two patients (twins on their mother's number) is for a
    person to decide. `pairs` maps (patient key, prospect key) to the pair's own verdict; NONE pairs
    are dropped."""
    certain_by_patient: dict = {}
    certain_by_prospect: dict = {}
    for (patient, prospect), verdict in pairs.items():
        if verdict.certain:
            certain_by_patient[patient] = certain_by_patient.get(patient, 0) + 1
            certain_by_prospect[prospect] = certain_by_prospect.get(prospect, 0) + 1
    settled = {}
    for (patient, prospect), verdict in pairs.items():
        if verdict.verdict == NONE:
            continue
        if verdict.certain:
            extra = []
            if certain_by_patient[patient] > 1:
                extra.append(SEVERAL_PROSPECTS)
            if certain_by_prospect[prospect] > 1:
                extra.append(SEVERAL_PATIENTS)
            if extra:
                verdict = Verdict(UNCERTAIN, verdict.reasons + tuple(extra))
        settled[(patient, prospect)] = verdict
    return settled
