"""No indexes on inbound_request's links to a prospect or a patient: nothing reads requests by them
(only an erasure's ON DELETE SET NULL, rare and fine with a scan), and every intake post paid for two
more index pages in its fsynced write (bench intake)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.drop_index("inbound_request", "inboundrequest_prospect_id"),
        migrator.drop_index("inbound_request", "inboundrequest_patient_id"),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.add_index("inbound_request", ("prospect_id",), False),
        migrator.add_index("inbound_request", ("patient_id",), False),
    )
