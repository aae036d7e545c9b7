"""Three indexes no query needs, each rewritten by every write to its column:

- `prospect_stage_id`: the two board indexes, (stage_id, next_action_at, id) and (stage_id, updated_at, id),
  begin with the stage; they serve every lookup by stage, the foreign key's included. Every move and every
  conversion rewrote it.
- `prospect_birth_date`: (birth_date, match_initial) begins with the birth date.
- `patient_phone`: a patient's numbers are looked up in `patient_phones`, which holds the first one too;
  every patient import built it again.
"""


def up(migrator, db):
    for name in ("prospect_stage_id", "prospect_birth_date", "patient_phone"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')


def down(migrator, db):
    db.execute_sql('CREATE INDEX "prospect_stage_id" ON "prospect" ("stage_id")')
    db.execute_sql('CREATE INDEX "prospect_birth_date" ON "prospect" ("birth_date")')
    db.execute_sql('CREATE INDEX "patient_phone" ON "patient" ("phone")')
