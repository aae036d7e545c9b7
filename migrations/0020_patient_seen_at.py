"""Patient retention (issue 17 §5): when a sync last saw each patient.

`patient.seen_at` is set by every file import, push and pull that names the patient; the retention sweep
deletes patients no sync has seen for the configured months and that nothing links to (setting
`patient_retention_months`). Existing patients start as seen at their last update.
"""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("patient", "seen_at", DateTimeField(null=True)),
        migrator.add_index("patient", ("seen_at",), False),
    )
    db.execute_sql('UPDATE "patient" SET "seen_at" = "updated_at" WHERE "external_id" IS NOT NULL')


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("patient", "patient_seen_at"),
        migrator.drop_column("patient", "seen_at"),
    )
