"""Answers by mail (issue 16 §5): `outbound_mail` keeps each answer sent, its Message-ID and threading,
and the outbound interaction it was recorded as; the daily cap per address reads it."""
from peewee import *


def up(migrator, db):
    def table(name):
        return type(name, (Model,), {"Meta": type("Meta", (), {"database": db, "table_name": name})})

    Prospect, Patient, InboundRequest, Interaction, User = (
        table(name) for name in ("prospect", "patient", "inbound_request", "interaction", "user"))

    class OutboundMail(Model):
        prospect = ForeignKeyField(Prospect, null=True, on_delete="CASCADE")
        patient = ForeignKeyField(Patient, null=True, on_delete="CASCADE")
        request = ForeignKeyField(InboundRequest, null=True, on_delete="SET NULL")
        interaction = ForeignKeyField(Interaction, null=True, unique=True, on_delete="SET NULL")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        to_address = CharField()
        to_name = CharField(default="")
        subject = CharField(max_length=255, default="")
        text = TextField(default="")
        template = CharField(default="")
        message_id = CharField(unique=True)
        in_reply_to = CharField(null=True)
        references = TextField(default="")
        state = CharField(default="sending")
        created_at = DateTimeField()
        sent_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "outbound_mail"
            indexes = ((("to_address", "created_at"), False),)

    db.create_tables([OutboundMail])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "outbound_mail"')
