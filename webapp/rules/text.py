"""Text folding for search: lower case, no accents, single spaces ("Ndèye" finds "ndeye")."""
import unicodedata

# Apostrophes join the parts of a name (N'Diaye is Ndiaye, M'Bengue is Mbengue); hyphens separate them.
_APOSTROPHES = str.maketrans("", "", "'’ʼ`´")


def fold(text: str | None) -> str:
    if not text:
        return ""
    if text.isascii():   # nothing to decompose; casefold is lower() on ASCII (a large import: 5x faster)
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def fold_name(text: str | None) -> str:
    """fold() for names as people spell them differently: `N'Diaye`, `Ndiaye` and `n diaye` are one
    key once apostrophes go and hyphens become spaces ("Diop-Fall" is "diop fall")."""
    return " ".join(fold(text).translate(_APOSTROPHES).replace("-", " ").split())


def search_text(*parts: str | None) -> str:
    """The stored, folded text a LIKE search runs over. A part of several words is also kept joined
    ("n diaye" and "ndiaye"), so a search ignores the spaces, apostrophes and hyphens of a name."""
    words = []
    for part in parts:
        folded = fold_name(part)
        if folded:
            words.append(folded)
            if " " in folded:
                words.append(folded.replace(" ", ""))
    return " ".join(words)
