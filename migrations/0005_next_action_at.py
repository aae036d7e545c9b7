"""Each prospect's next action due time on the prospect itself, backfilled from the planned follow-ups,
and the indexes that serve the board's columns: open ones by stage, soonest first, "à faire" (null)
last; won and lost ones by stage, most recently closed first.

The board used to compute MIN(due_at) over the follow-ups of every prospect of a column, then sort
them all, to show the first 30 (about 7 ms of SQL at 10,000 prospects); with this index a column is
one range scan that stops at its 30th card. PostgreSQL's B-tree keeps NULLs last in ascending order;
SQLite reads the non-null range first and the null range after, so neither sorts (EXPLAIN QUERY PLAN
in bench/board.py --profile). The won and lost columns walked the updated_at index of every
prospect until they had found 30 of their stage.
"""
from peewee import *

BACKFILL = """UPDATE prospect SET next_action_at = (
    SELECT MIN(follow_up.due_at) FROM follow_up
    WHERE follow_up.prospect_id = prospect.id AND follow_up.state = 'planned')"""


def up(migrator, db):
    migrator.migrate(migrator.add_column('prospect', 'next_action_at', DateTimeField(null=True)))
    db.execute_sql(BACKFILL)
    migrator.migrate(migrator.add_index('prospect', ('stage_id', 'next_action_at', 'id'), False))
    migrator.migrate(migrator.add_index('prospect', ('stage_id', 'updated_at', 'id'), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('prospect', 'prospect_stage_id_updated_at_id'))
    migrator.migrate(migrator.drop_index('prospect', 'prospect_stage_id_next_action_at_id'))
    migrator.migrate(migrator.drop_column('prospect', 'next_action_at'))
