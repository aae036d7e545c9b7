"""Four indexes no query needs, each rewritten by every write to its column:

- `prospect_stage_id`: the two board indexes, (stage_id, next_action_at, id) and (stage_id, updated_at, id),
  begin with the stage; they serve every lookup by stage, the foreign key's included. Every move and every
  conversion rewrote it.
- `prospect_birth_date`: (birth_date, match_initial) begins with the birth date.
- `prospect_outcome`: three values, most rows "open"; a query for the open ones read the whole table
  through it, row by row, instead of reading the table (each stage's board index is the way in). Every
  conversion and every move to won or lost rewrote it.
- `patient_phone`: a patient's numbers are looked up in `patient_phones`, which holds the first one too;
  every patient import built it again.
"""


def up(migrator, db):
    for name in ("prospect_stage_id", "prospect_birth_date", "prospect_outcome", "patient_phone"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')


def down(migrator, db):
    db.execute_sql('CREATE INDEX "prospect_stage_id" ON "prospect" ("stage_id")')
    db.execute_sql('CREATE INDEX "prospect_birth_date" ON "prospect" ("birth_date")')
    db.execute_sql('CREATE INDEX "prospect_outcome" ON "prospect" ("outcome")')
    db.execute_sql('CREATE INDEX "patient_phone" ON "patient" ("phone")')
