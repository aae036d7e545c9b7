"""Search ignores the apostrophes, hyphens and spaces of names (`ndiaye` finds N'Diaye): the stored
search text of prospects and patients is rebuilt with names folded that way (webapp/rules/text.py;
a frozen copy below, as a migration must not change when the code does)."""
import unicodedata

import phonenumbers

_APOSTROPHES = str.maketrans("", "", "'’ʼ`´")


def _fold_name(text):
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().translate(_APOSTROPHES).replace("-", " ").split())


def _search_text(*parts):
    words = []
    for part in parts:
        folded = _fold_name(part)
        if folded:
            words.append(folded)
            if " " in folded:
                words.append(folded.replace(" ", ""))
    return " ".join(words)


def _national(phone):
    try:
        return str(phonenumbers.parse(phone).national_number) if phone else ""
    except phonenumbers.NumberParseException:
        return ""


def _rebuild(db, table):
    rows = db.execute_sql(f"SELECT id, first_name, last_name, email, phone, phone_raw FROM {table}").fetchall()
    update = f"UPDATE {table} SET search_text = %s WHERE id = %s".replace("%s", db.param)
    for row_id, first, last, email, phone, raw in rows:
        text = _search_text(first, last, email, (phone or "").lstrip("+"), _national(phone), raw)
        db.execute_sql(update, (text, row_id))


def up(migrator, db):
    with db.atomic():
        _rebuild(db, "patient")
        _rebuild(db, "prospect")


def down(migrator, db):
    pass  # the joined words only add matches: the older search reads this text as well
