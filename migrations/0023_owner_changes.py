"""Who a prospect was given to, and when (issue 17 §4: the cohort's figures by owner "as of" a date read
the owner as it was then, as they read the temperature). Existing prospects have no history: their owner
is taken to be the one they had from the start.
"""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Prospect(Model):
        class Meta:
            database = db
            table_name = "prospect"

    class OwnerChange(Model):
        prospect = ForeignKeyField(Prospect, on_delete="CASCADE")
        old = ForeignKeyField(User, null=True, on_delete="SET NULL")
        new = ForeignKeyField(User, null=True, on_delete="SET NULL")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        changed_at = DateTimeField()

        class Meta:
            database = db
            table_name = "owner_change"

    db.create_tables([OwnerChange])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "owner_change"')
