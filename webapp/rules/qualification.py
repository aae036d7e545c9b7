"""What a request asks for (seed 001: an appointment, a quote or prices, the programme), read from a form's
choice or, failing that, from its free text. Pure: the same words always give the same answer.

The words are configuration (STYLE 8): `DEFAULT_KEYWORDS` is the seeded list (setting
`qualification_keywords`), and a caller may pass the business's own lists, French first.
"""
import re
from functools import lru_cache

from .text import fold

# Strongest intent first: a message asking for an appointment and the prices is an appointment request.
# Each keyword matches as a whole word, folded (no accents, any case), with an optional plural s; a space
# or hyphen inside a keyword matches a space, a hyphen or nothing ("rendez-vous", "rendez vous").
DEFAULT_KEYWORDS: dict[str, list[str]] = {
    "appointment": ["rdv", "rendez-vous", "prendre rendez", "consultation", "réserver", "réservation",
                    "créneau", "appointment", "booking", "book"],
    "quote": ["devis", "tarif", "prix", "coût", "combien", "montant", "quote", "price", "pricing", "cost"],
    "programme": ["programme", "program", "information", "renseignement", "info", "brochure", "détail",
                  "documentation", "plaquette", "details"],
}

_RANK = {code: rank for rank, code in enumerate(DEFAULT_KEYWORDS)}


@lru_cache(maxsize=32)
def _compile(keywords: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, re.Pattern], ...]:
    patterns = []
    for code, words in keywords:
        alternatives = []
        for word in words:
            folded = fold(word)
            if folded:
                alternatives.append(r"[\s-]*".join(re.escape(part) for part in re.split(r"[\s-]+", folded)))
        if alternatives:
            patterns.append((code, re.compile(r"\b(?:" + "|".join(alternatives) + r")s?\b")))
    return tuple(patterns)


def _patterns(keywords: dict | None) -> tuple[tuple[str, re.Pattern], ...]:
    keywords = keywords if keywords else DEFAULT_KEYWORDS
    # The seed's order of strength whatever the order of the mapping (settings store JSON keys sorted);
    # codes a business adds come after, in their own order.
    ranked = sorted(keywords, key=lambda code: _RANK.get(code, len(_RANK)))
    return _compile(tuple((str(code), tuple(str(w) for w in (keywords[code] or ()))) for code in ranked))


def read_qualification(choice: str | None, text: str | None, keywords: dict | None = None) -> str | None:
    """A qualification code (`appointment`, `quote`, `programme` by default) or None. A choice that names
    one wins over the text. `keywords` maps each code to its words (the setting `qualification_keywords`);
    the seed's codes are tried strongest first, other codes after them."""
    patterns = _patterns(keywords)
    folded_choice = fold(choice)
    if folded_choice in {code for code, _ in patterns}:
        return folded_choice
    for folded in (folded_choice, fold(text)):
        for code, pattern in patterns:
            if folded and pattern.search(folded):
                return code
    return None
