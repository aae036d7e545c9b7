"""The patient row trimmed to what matching and "patient first" use (issue 17 §5), and cheaper to import:

- `search_text` dropped: nothing searches patients by it; it was a second, folded copy of the names, email
  and phones, written for every patient of every import.
- the (match_name, birth_date) index dropped: blocking seeks the prospects' keys, never the patients'.
- the `seen_at` index dropped: only the daily retention sweep reads it, and every sync rewrote it for
  every patient it named.
"""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.drop_index("patient", "patient_match_name_birth_date"),
        migrator.drop_index("patient", "patient_seen_at"),
        migrator.drop_column("patient", "search_text"),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.add_column("patient", "search_text", TextField(default="")),
        migrator.add_index("patient", ("match_name", "birth_date"), False),
        migrator.add_index("patient", ("seen_at",), False),
    )
