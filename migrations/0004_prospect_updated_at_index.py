"""An index on prospect.updated_at: every open board asks "what changed since?" every few seconds."""
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_index("prospect", ("updated_at",), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("prospect", "prospect_updated_at"))
