"""Numbers typed by people or machines (ids in URLs and forms, page numbers), read without surprises:
only ASCII digits ("²" and "٣" are digits to Python's str methods), within what the databases store."""
MAX_ID = 2**63 - 1      # SQLite's INTEGER and PostgreSQL's BIGINT
MAX_PAGE = 100_000


def parse_id(value) -> int | None:
    """A record id from text: a positive integer a database can hold, or None."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_count(value, default: int, lowest: int = 0, highest: int = MAX_PAGE) -> int:
    """A page number, an offset or a size from text, clamped to [lowest, highest]; `default` if unreadable."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return default
    return min(max(int(text), lowest), highest)
