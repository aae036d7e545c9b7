"""The prospect's `updated_at` index dropped: it served one query, the board's "changed since" token, whose
latest change is now the latest of each stage's, each a seek to the last entry of that stage in the
board's (stage_id, updated_at, id) index (services/board.board_version). Every move, edit and conversion
wrote it again.
"""


def up(migrator, db):
    db.execute_sql('DROP INDEX IF EXISTS "prospect_updated_at"')


def down(migrator, db):
    db.execute_sql('CREATE INDEX "prospect_updated_at" ON "prospect" ("updated_at")')
