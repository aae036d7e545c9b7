"""What a request asks for (seed 001: an appointment, a quote or prices, the programme), read from a form's
choice or, failing that, from its free text. Pure: the same words always give the same answer."""
import re

from .text import fold

# Strongest intent first: a message asking for an appointment and the prices is an appointment request.
_PATTERNS = (
    ("appointment", re.compile(r"\b(rdv|rendez[- ]?vous|appointment|consultation|prendre rendez|"
                               r"reserver|reservation|booking|book)\b")),
    ("quote", re.compile(r"\b(devis|tarifs?|prix|cout|couts|combien|quote|price|prices|pricing|cost)\b")),
    ("programme", re.compile(r"\b(programme|program|information|informations|renseignements?|infos?|"
                             r"brochure|details?)\b")),
)
_CODES = {"appointment", "quote", "programme"}


def read_qualification(choice: str | None, text: str | None) -> str | None:
    """`appointment`, `quote`, `programme` or None. A choice that names one wins over the text."""
    folded_choice = fold(choice)
    if folded_choice in _CODES:
        return folded_choice
    for folded in (folded_choice, fold(text)):
        for code, pattern in _PATTERNS:
            if folded and pattern.search(folded):
                return code
    return None
