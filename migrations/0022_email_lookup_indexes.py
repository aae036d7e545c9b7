"""Emails are looked up as `LOWER(email) = ?` (the "patient first" and duplicate lookups of every contact
recorded, inbound mail's routing, bounces): an index on that expression for prospects and patients, so
that a lookup seeks instead of reading every row (at 100,000 prospects: 0.06 ms instead of 20 ms). The
patient's plain email index goes: nothing compares patient emails any other way. The prospect's stays:
reconciliation's blocking compares the stored, already lower-case, email.
"""


def up(migrator, db):
    db.execute_sql('CREATE INDEX "prospect_email_lower" ON "prospect" (LOWER("email"))')
    db.execute_sql('CREATE INDEX "patient_email_lower" ON "patient" (LOWER("email"))')
    db.execute_sql('DROP INDEX "patient_email"')


def down(migrator, db):
    db.execute_sql('CREATE INDEX "patient_email" ON "patient" ("email")')
    db.execute_sql('DROP INDEX "patient_email_lower"')
    db.execute_sql('DROP INDEX "prospect_email_lower"')
