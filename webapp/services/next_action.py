"""Each prospect's next action due time, stored on the prospect (migration 0005) for the board's order.

`Prospect.next_action_at` is the earliest planned follow-up's due time, null when nothing is planned
("à faire", seed 004). It is derived data: every write that plans, completes, cancels or reschedules
follow-ups calls `refresh_next_action` with the prospects it touched, in the same transaction, and the
value is recomputed from the follow-ups themselves, never adjusted by hand.
"""
from collections.abc import Iterable

from peewee import PostgresqlDatabase, fn

from ..models import FollowUp, Prospect, database


def earliest_planned_due():
    """The row's prospect's earliest planned due time (served by the follow_up (prospect, state, due_at) index)."""
    return (FollowUp.select(fn.MIN(FollowUp.due_at))
            .where((FollowUp.prospect == Prospect.id) & (FollowUp.state == "planned")))


def refresh_next_action(prospect_ids: Iterable[int] | None = None) -> int:
    """Recompute the stored next action of these prospects (of every prospect when None) from their
    planned follow-ups, in one UPDATE; returns the number of rows updated. Call it inside the
    transaction that changed the follow-ups."""
    query = Prospect.update(next_action_at=earliest_planned_due())
    if prospect_ids is None:
        # Only a prospect with something planned or a stored value can need a change.
        planned = FollowUp.select(FollowUp.prospect).where(FollowUp.state == "planned")
        return query.where(Prospect.next_action_at.is_null(False) | Prospect.id.in_(planned)).execute()
    ids = sorted(set(prospect_ids))
    if not ids:
        return 0
    if isinstance(database.obj, PostgresqlDatabase):
        # READ COMMITTED: wait for anyone else changing these prospects' follow-ups to commit, so that
        # the UPDATE's snapshot (taken after the lock) sees their follow-ups too. NO KEY UPDATE does
        # not conflict with the key-share locks that inserting a follow-up takes on its prospect.
        list(Prospect.select(Prospect.id).where(Prospect.id.in_(ids)).order_by(Prospect.id)
             .for_update("FOR NO KEY UPDATE").tuples())
    return query.where(Prospect.id.in_(ids)).execute()
