"""Text folding for search: lower case, no accents, single spaces ("Ndèye" finds "ndeye")."""
import unicodedata


def fold(text: str | None) -> str:
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def search_text(*parts: str | None) -> str:
    """The stored, folded text a LIKE search runs over."""
    return " ".join(fold(p) for p in parts if p)
