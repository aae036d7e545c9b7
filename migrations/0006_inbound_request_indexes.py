"""Fewer, better indexes on inbound_request: every intake post inserts a row, and each index is paid
for in CPU and in fsynced bytes before the sender hears back.

- source_id alone is the prefix of the unique (source_id, idempotency_key) index;
- received_at is only read by the nightly retention purge, which can scan;
- state and triage are read together (the queues' counts on every staff page, the triage list, the
  re-scan): one (state, triage) index, so that counting the waiting requests reads index ranges and not
  every request ever received.

The duplicate check reads the fingerprint index (bench intake: the planner used to prefer source_id
and scan every request of the source).
"""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.drop_index("inbound_request", "inboundrequest_source_id"),
        migrator.drop_index("inbound_request", "inboundrequest_received_at"),
        migrator.drop_index("inbound_request", "inboundrequest_triage"),
        migrator.drop_index("inbound_request", "inboundrequest_state"),
        migrator.add_index("inbound_request", ("state", "triage"), False),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.add_index("inbound_request", ("source_id",), False),
        migrator.add_index("inbound_request", ("received_at",), False),
        migrator.add_index("inbound_request", ("triage",), False),
        migrator.drop_index("inbound_request", "inbound_request_state_triage"),
        migrator.add_index("inbound_request", ("state",), False),
    )
