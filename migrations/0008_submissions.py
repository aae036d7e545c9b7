"""Form submissions already applied (webapp/models/submissions.py): a resent form records once."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Submission(Model):
        key = CharField(max_length=64, unique=True)
        user = ForeignKeyField(User, null=True, on_delete='CASCADE')
        result = CharField(max_length=200, default='')
        created_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'submission'
    db.create_tables([Submission])


def down(migrator, db):
    db.execute_sql('DROP TABLE submission')
