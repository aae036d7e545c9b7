"""A person's rights (issue 14): a prospect whose data was erased on request says when; the row stays,
anonymised, so that the figures do not change."""
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column("prospect", "erased_at", DateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("prospect", "erased_at"))
