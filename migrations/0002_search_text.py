"""Accent-folded search text on prospects and patients, backfilled for rows made before it existed."""
import unicodedata

import phonenumbers
from peewee import *


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def _backfill(db, table):
    rows = db.execute_sql(f"SELECT id, first_name, last_name, email, phone, phone_raw FROM {table}").fetchall()
    for row_id, first, last, email, phone, raw in rows:
        national = str(phonenumbers.parse(phone).national_number) if phone else ""
        text = " ".join(_fold(p) for p in (first, last, email, (phone or "").lstrip("+"), national, raw) if p)
        db.execute_sql(f"UPDATE {table} SET search_text = %s WHERE id = %s"
                       .replace("%s", db.param), (text, row_id))


def up(migrator, db):
    migrator.migrate(migrator.add_column('patient', 'search_text', TextField(default='')))
    migrator.migrate(migrator.add_column('prospect', 'search_text', TextField(default='')))
    _backfill(db, 'patient')
    _backfill(db, 'prospect')


def down(migrator, db):
    migrator.migrate(migrator.drop_column('prospect', 'search_text'))
    migrator.migrate(migrator.drop_column('patient', 'search_text'))
