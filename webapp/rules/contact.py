"""What a contact needs and what an email looks like: one rule for the staff forms, the API and intake.

A person can be followed up only if we know who they are and how to reach them: a name (first or
last) and a phone or an email. The web form is the one exception on the name: a visitor who left only
a number is still a request, and the lead asks the name when she calls back.
"""
import re

EMAIL_MAX = 254
_LOCAL_MAX = 64
# The local part as people type it (dots, plus, hyphens, underscores, accented letters: RFC 6531);
# no spaces, no second "@", no dot at either end or twice in a row.
_LOCAL = re.compile(r"^[^\s@\"(),:;<>\[\\\]]+$")
# A domain label: letters (any script), digits and inner hyphens; the last label (the TLD) has
# at least two letters. "awa@gmail" and "awa@gmail..com" are typing mistakes, not addresses.
_LABEL = re.compile(r"^(?!-)[^\W_](?:[\w-]*[^\W_])?$")
_TLD = re.compile(r"^[^\W\d_]{2,}$|^xn--[a-z0-9-]+$")


def is_email(text: str | None) -> bool:
    """True for an address a mail server would take (awa.diop@gmail.com, m.ndiaye+rdv@orange.sn)."""
    text = (text or "").strip()
    if not text or len(text) > EMAIL_MAX or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    if not local or len(local) > _LOCAL_MAX or not _LOCAL.match(local):
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return False
    return bool(_TLD.match(labels[-1]))


def normalise_email(text: str | None) -> str | None:
    """The stored form of an email: trimmed and in lower case, or None when empty."""
    text = (text or "").strip().lower()
    return text or None


def contact_problems(first_name: str | None, last_name: str | None, phone: str | None,
                     email: str | None, *, name_required: bool = True) -> list[str]:
    """What keeps these details from being a contact, as codes of the refusal catalogue:
    `email_invalid`, `name_required`, `contact_required` (a phone or an email). Empty when fine."""
    problems = []
    email = (email or "").strip()
    if email and not is_email(email):
        problems.append("email_invalid")
    if name_required and not ((first_name or "").strip() or (last_name or "").strip()):
        problems.append("name_required")
    if not (phone or "").strip() and not (email and is_email(email)):
        problems.append("contact_required")
    return problems
