"""Is this the same person's name? Pure comparison used by the dedupe (seed 001, shared family phones).

Names are folded as search folds them (case, accents) and also lose apostrophes, hyphens, dots and
spaces, so that N'Diaye = Ndiaye and Mame-Diarra = Mame Diarra (NOTES: phonetic codes mislead on
Senegalese names, folding does not). First and last name may be typed in either order.
"""
from datetime import date

from .text import fold_name

_DROPPED = str.maketrans("", "", "‐‑–. ")


def name_key(text: str | None) -> str:
    """`N'Diaye`, `ndiaye` and `N Diaye` give the same key: search's folding, without the spaces."""
    return fold_name(text).translate(_DROPPED)


def same_name(first_a: str | None, last_a: str | None, first_b: str | None, last_b: str | None) -> bool:
    """True unless the two names contradict each other. A missing name contradicts nothing; a single
    name given on one side must be one of the other side's names (or the whole name)."""
    a = (name_key(first_a), name_key(last_a))
    b = (name_key(first_b), name_key(last_b))
    if not any(a) or not any(b):
        return True
    if all(a) and all(b):
        return a[0] + a[1] in (b[0] + b[1], b[1] + b[0])
    single, other = (a, b) if not all(a) else (b, a)
    word = single[0] or single[1]
    return word in {part for part in other if part} | {other[0] + other[1], other[1] + other[0]}


def same_birth_date(a: date | None, b: date | None) -> bool:
    """Only two known, different dates contradict."""
    return a is None or b is None or a == b


def same_person(first_a, last_a, birth_a, first_b, last_b, birth_b) -> bool:
    """The identity typed and a record's identity do not contradict each other."""
    return same_name(first_a, last_a, first_b, last_b) and same_birth_date(birth_a, birth_b)


def split_full_name(full: str | None) -> tuple[str, str]:
    """"Mame Diarra Ndiaye" gives ("Mame Diarra", "Ndiaye"): family names come last, as on the web form
    (integrations.webform.split_name). A lone word is a last name; an address is no name."""
    full = " ".join((full or "").replace('"', " ").split())
    if not full or "@" in full:
        return "", ""
    parts = full.split()
    if len(parts) < 2:
        return "", full
    return " ".join(parts[:-1]), parts[-1]
