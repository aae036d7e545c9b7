"""History an auditor can follow (issue 13, ISO 9001 §7.5).

- stage_change.from_outcome / to_outcome: the prospect's outcome before and after each move, so the
  timeline still says "converted", "lost" or "reopened" after a stage changes kind. Past moves are
  backfilled from their stages' kinds (the best that is known of them).
- follow_up.interaction and outcome_note: the contact recorded when the follow-up was completed (one at
  most: unique) and the note written then.
- interaction.reached: false for an attempt that did not reach the person (seed 003: it still counts
  against the action budget); every past interaction reached them.
"""
from peewee import *

BACKFILL_TO = """UPDATE stage_change SET to_outcome = (
    SELECT stage.kind FROM stage WHERE stage.id = stage_change.to_stage_id)"""
BACKFILL_FROM = """UPDATE stage_change SET from_outcome = (
    SELECT stage.kind FROM stage WHERE stage.id = stage_change.from_stage_id)
    WHERE from_stage_id IS NOT NULL"""


def up(migrator, db):
    class Interaction(Model):
        class Meta:
            database = db
            table_name = 'interaction'

    migrator.migrate(
        migrator.add_column('stage_change', 'from_outcome', CharField(null=True)),
        migrator.add_column('stage_change', 'to_outcome', CharField(null=True)),
        # Defaults in the schema too: raw INSERTs that predate these columns (bench/sweep.py) still work.
        migrator.add_column('interaction', 'reached', BooleanField(default=True, constraints=[SQL('DEFAULT TRUE')])),
        migrator.add_column('follow_up', 'outcome_note', TextField(default='', constraints=[SQL("DEFAULT ''")])),
        migrator.add_column('follow_up', 'interaction_id',
                            ForeignKeyField(Interaction, field=Interaction.id, null=True, unique=True,
                                            on_delete='SET NULL')),
    )
    db.execute_sql(BACKFILL_TO)
    db.execute_sql(BACKFILL_FROM)


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('follow_up', 'follow_up_interaction_id'),
        migrator.drop_column('follow_up', 'interaction_id'),
        migrator.drop_column('follow_up', 'outcome_note'),
        migrator.drop_column('interaction', 'reached'),
        migrator.drop_column('stage_change', 'to_outcome'),
        migrator.drop_column('stage_change', 'from_outcome'),
    )
