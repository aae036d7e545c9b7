"""Suspected duplicates get decided: who decided and when, which record was kept and which merged
(the merged one stays as a tombstone), and what a merge moved, so that it can be undone exactly.
An index on the state serves the review list (open pairs) and the dedupe's "never a tombstone"."""
from peewee import *

JSONField = TextField  # webapp.models.base.JSONField stores text (see 0001)


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Prospect(Model):
        class Meta:
            database = db
            table_name = 'prospect'

    migrator.migrate(
        migrator.add_column('duplicate_candidate', 'decided_by_id',
                            ForeignKeyField(User, null=True, on_delete='SET NULL', field=User.id)),
        migrator.add_column('duplicate_candidate', 'decided_at', DateTimeField(null=True)),
        migrator.add_column('duplicate_candidate', 'kept_id',
                            ForeignKeyField(Prospect, null=True, on_delete='SET NULL', field=Prospect.id)),
        migrator.add_column('duplicate_candidate', 'merged_id',
                            ForeignKeyField(Prospect, null=True, on_delete='SET NULL', field=Prospect.id)),
        migrator.add_column('duplicate_candidate', 'detail', JSONField(null=True)),
        migrator.add_index('duplicate_candidate', ('state',), False),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('duplicate_candidate', 'duplicate_candidate_state'),
        migrator.drop_index('duplicate_candidate', 'duplicate_candidate_merged_id'),
        migrator.drop_index('duplicate_candidate', 'duplicate_candidate_kept_id'),
        migrator.drop_index('duplicate_candidate', 'duplicate_candidate_decided_by_id'),
        migrator.drop_column('duplicate_candidate', 'detail'),
        migrator.drop_column('duplicate_candidate', 'merged_id'),
        migrator.drop_column('duplicate_candidate', 'kept_id'),
        migrator.drop_column('duplicate_candidate', 'decided_at'),
        migrator.drop_column('duplicate_candidate', 'decided_by_id'),
    )
