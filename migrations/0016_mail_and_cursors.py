"""Shared ground for the mailbox and the patient sources (issues 16 and 17).

- `source_cursor`: how far a source has been read (an IMAP folder's UIDVALIDITY and last UID, a FHIR
  server's `_lastUpdated`), one row per (source, key), written in the same transaction as what was read.
- `inboundrequest.message_id`, `interaction.message_id`: a mail's Message-ID, to recognise a message seen
  again and to thread a reply onto the record whose mail it answers.
- `email_undeliverable_at` on prospects and patients: a bounce says the address does not work.
"""
from peewee import *


def up(migrator, db):
    class Source(Model):
        class Meta:
            database = db
            table_name = "source"

    class SourceCursor(Model):
        source = ForeignKeyField(Source, on_delete="CASCADE", index=False)
        key = CharField()
        value = TextField(default="")
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "source_cursor"
            indexes = ((("source", "key"), True),)

    db.create_tables([SourceCursor])
    migrator.migrate(
        migrator.add_column("inbound_request", "message_id", CharField(null=True)),
        migrator.add_index("inbound_request", ("message_id",), False),
        migrator.add_column("interaction", "message_id", CharField(null=True)),
        migrator.add_index("interaction", ("message_id",), False),
        migrator.add_column("prospect", "email_undeliverable_at", DateTimeField(null=True)),
        migrator.add_column("patient", "email_undeliverable_at", DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("patient", "email_undeliverable_at"),
        migrator.drop_column("prospect", "email_undeliverable_at"),
        migrator.drop_index("interaction", "interaction_message_id"),
        migrator.drop_column("interaction", "message_id"),
        migrator.drop_index("inbound_request", "inbound_request_message_id"),
        migrator.drop_column("inbound_request", "message_id"),
    )
    db.execute_sql('DROP TABLE IF EXISTS "source_cursor"')
