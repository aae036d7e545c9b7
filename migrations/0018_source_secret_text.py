"""The mailbox (issue 16): a source's write-only secret holds a mailbox password encrypted at rest
(webapp/secrets.py, `fernet:<token>`), longer than 255 characters for a long password: TEXT.
SQLite never enforced the length; PostgreSQL's VARCHAR(255) does."""
from peewee import PostgresqlDatabase


def _postgres(db) -> bool:
    return isinstance(getattr(db, "obj", db), PostgresqlDatabase)


def up(migrator, db):
    if _postgres(db):
        db.execute_sql('ALTER TABLE "source" ALTER COLUMN "secret" TYPE TEXT')


def down(migrator, db):
    if _postgres(db):
        db.execute_sql('ALTER TABLE "source" ALTER COLUMN "secret" TYPE VARCHAR(255)')
