"""Reconciliation of patients with prospects (issue 17).

- `patient`: unique per (source, external_id) instead of external_id alone (two patient systems may number
  alike); the admission date; the blocking keys `match_name` (folded names, sorted, with the birth date)
  and `match_initial` (the surname's spelling-variant initial, with the birth date), indexed, filled for
  existing rows; the birth-date index dropped, (birth_date, match_initial) serves it.
- `patient_phones`: every number a patient gave, E.164, indexed (the phone block); filled from `patient.phone`.
- `prospect`: the same two blocking keys, indexed and filled, and `provenance` (what the patient stated).
- `patient_match`: one row per (patient, prospect) pair matched: verdict, reasons, state (open, converted,
  confirmed, rejected, undone), who decided and when, and what a conversion changed (to undo it).
"""
from peewee import *

from webapp.rules.matching import name_block_key, surname_initial

JSONField = TextField  # webapp.models.base.JSONField stores text (see 0001)


def _backfill(db, table):
    rows = db.execute_sql(f'SELECT id, first_name, last_name FROM "{table}"').fetchall()
    sql = f'UPDATE "{table}" SET match_name = %s, match_initial = %s WHERE id = %s'.replace("%s", db.param)
    for row_id, first, last in rows:
        db.execute_sql(sql, (name_block_key(first, last), surname_initial(last), row_id))


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Patient(Model):
        class Meta:
            database = db
            table_name = "patient"

    class Prospect(Model):
        class Meta:
            database = db
            table_name = "prospect"

    class PatientPhone(Model):
        patient = ForeignKeyField(Patient, on_delete="CASCADE", index=False)
        phone = CharField(index=True)

        class Meta:
            database = db
            table_name = "patient_phones"
            indexes = ((("patient", "phone"), True),)

    class PatientMatch(Model):
        patient = ForeignKeyField(Patient, on_delete="CASCADE", index=False)
        prospect = ForeignKeyField(Prospect, on_delete="CASCADE")
        verdict = CharField()
        reasons = JSONField(default="[]")
        state = CharField(default="open", index=True)
        created_at = DateTimeField()
        decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        decided_at = DateTimeField(null=True)
        note = CharField(default="")
        detail = JSONField(null=True)

        class Meta:
            database = db
            table_name = "patient_match"
            indexes = ((("patient", "prospect"), True),)

    migrator.migrate(
        migrator.drop_index("patient", "patient_external_id"),
        migrator.add_index("patient", ("source", "external_id"), True),
        migrator.add_column("patient", "admission_date", DateField(null=True)),
    )
    # Plain ALTER TABLE … NOT NULL DEFAULT: Peewee's SQLite migrator would rebuild the table for a NOT NULL
    # column, and a rebuilt prospect table loses the search index's triggers (migration 0003).
    for table, column in (("patient", "match_name"), ("patient", "match_initial"), ("prospect", "provenance"),
                          ("prospect", "match_name"), ("prospect", "match_initial")):
        db.execute_sql(f"ALTER TABLE \"{table}\" ADD COLUMN \"{column}\" VARCHAR(255) NOT NULL DEFAULT ''")
    _backfill(db, "patient")
    _backfill(db, "prospect")
    migrator.migrate(
        # (birth_date, match_initial) serves a search by birth date alone too: one index less to write
        migrator.drop_index("patient", "patient_birth_date"),
        migrator.add_index("patient", ("match_name", "birth_date"), False),
        migrator.add_index("patient", ("birth_date", "match_initial"), False),
        migrator.add_index("prospect", ("match_name", "birth_date"), False),
        migrator.add_index("prospect", ("birth_date", "match_initial"), False),
    )
    db.create_tables([PatientPhone, PatientMatch])
    db.execute_sql('INSERT INTO "patient_phones" (patient_id, phone) '
                   'SELECT id, phone FROM "patient" WHERE phone IS NOT NULL')


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "patient_match"')
    db.execute_sql('DROP TABLE IF EXISTS "patient_phones"')
    migrator.migrate(
        migrator.drop_index("prospect", "prospect_birth_date_match_initial"),
        migrator.drop_index("prospect", "prospect_match_name_birth_date"),
        migrator.drop_index("patient", "patient_birth_date_match_initial"),
        migrator.drop_index("patient", "patient_match_name_birth_date"),
        migrator.add_index("patient", ("birth_date",), False),
        migrator.drop_column("prospect", "match_initial"),
        migrator.drop_column("prospect", "match_name"),
        migrator.drop_column("prospect", "provenance"),
        migrator.drop_column("patient", "admission_date"),
        migrator.drop_column("patient", "match_initial"),
        migrator.drop_column("patient", "match_name"),
        migrator.drop_index("patient", "patient_source_external_id"),
        migrator.add_index("patient", ("external_id",), True),
    )
