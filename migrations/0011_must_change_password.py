"""An administrator can reset a staff member's password; the person must then choose her own."""
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column("user", "must_change_password", BooleanField(default=False)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("user", "must_change_password"))
