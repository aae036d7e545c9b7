"""Three indexes that served only a delete of their parent row, which never happens: users and lost reasons
are kept (a departed user is deactivated, a lost reason made inactive), so SQLite never looks for the rows that
name them. Each was written again by every stage change and every reconciliation decision (a whole
export's conversions: 20,000 rows into each). Should a parent ever be deleted, SQLite reads the table
once to set its references to NULL.

- `stagechange_user_id`, `stagechange_lost_reason_id`: the history is read by prospect, and joined to its
  user and lost reason from its own side (their primary keys).
- `patientmatch_decided_by_id`: the decisions are read by state, patient or prospect.
"""


def up(migrator, db):
    for name in ("stagechange_user_id", "stagechange_lost_reason_id", "patientmatch_decided_by_id"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')


def down(migrator, db):
    db.execute_sql('CREATE INDEX "stagechange_user_id" ON "stage_change" ("user_id")')
    db.execute_sql('CREATE INDEX "stagechange_lost_reason_id" ON "stage_change" ("lost_reason_id")')
    db.execute_sql('CREATE INDEX "patientmatch_decided_by_id" ON "patient_match" ("decided_by_id")')
