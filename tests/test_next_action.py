"""Each prospect's stored next action (migration 0005) stays the earliest planned follow-up whatever
changes the follow-ups: planning, each outcome, the sweep, do-not-contact, a move to a closed stage;
and the board orders its cards by it."""
from datetime import datetime, timedelta

import pytest
from playhouse.migrations import Runner

from tests import factories as make
from tests.factories import followup_type
from webapp.db import MIGRATIONS_DIR, bind, migrate
from webapp.models import FollowUp, LostReason, Prospect, Stage, database
from webapp.services import board
from webapp.services.followups import complete_followup, plan_followup
from webapp.services.prospects import add_interaction, change_temperature, set_do_not_contact
from webapp.services.search import Criteria
from webapp.services.sweep import run_sweep

NOW = datetime(2026, 11, 24, 10, 0)   # a Tuesday; Dakar is UTC all year
FIRST = "Rappel de qualification"      # a first step, followed by NEXT
NEXT = "Envoi de documentation"
YESTERDAY = NOW - timedelta(days=1)


def plan(prospect, hours: float, user=None, type_name=FIRST, now=NOW):
    return plan_followup(prospect, followup_type(type_name), user, now + timedelta(hours=hours), "warm", "", user,
                         now)


def next_action(prospect):
    return Prospect.get_by_id(prospect.id).next_action_at


def first_column(criteria=None) -> list[str]:
    """The names on the first open column, in the board's order."""
    return [card["last_name"] for card in board.columns(criteria or Criteria(filters={}), now=NOW)[0].cards]


@pytest.fixture
def user(any_ctx):
    return make.user("secretary", name="Codou Diop")


def test_planning_keeps_the_earliest_planned_due_time(user):
    prospect = make.prospect(user, last_name="Diop", at=YESTERDAY)
    assert next_action(prospect) is None
    plan(prospect, 48, user)
    assert next_action(prospect) == NOW + timedelta(hours=48)
    plan(prospect, 72, user)
    assert next_action(prospect) == NOW + timedelta(hours=48)
    plan(prospect, 24, user)
    assert next_action(prospect) == NOW + timedelta(hours=24)


def test_cards_are_ordered_by_the_stored_next_action_then_to_do(user):
    later, soon, nothing, also_soon = (make.prospect(user, last_name=n, at=YESTERDAY)
                                       for n in ("Later", "Soon", "Nothing", "AlsoSoon"))
    plan(later, 72, user)
    plan(soon, 24, user)
    plan(also_soon, 24, user)   # the same time: the older prospect first
    assert first_column() == ["Soon", "AlsoSoon", "Later", "Nothing"]


def test_filtered_columns_keep_the_urgency_order(user):
    other = make.user("secretary", name="Awa Fall")
    for name, owner, hours in [("Ndiaye Later", user, 72), ("Ndiaye Soon", user, 24), ("Ndiaye Other", other, 1),
                               ("Sarr Soon", user, 2), ("Ndiaye Nothing", user, None)]:
        prospect = make.prospect(owner, last_name=name, at=YESTERDAY)
        if hours:
            plan(prospect, hours, user)
    mine_named = Criteria(q="ndiaye", filters={"temperature": "warm"}, owner=user.id)
    assert first_column(mine_named) == ["Ndiaye Soon", "Ndiaye Later", "Ndiaye Nothing"]
    assert board.columns(mine_named, now=NOW)[0].count == 3


def test_not_reached_moves_the_next_action_to_the_new_date_and_the_card_down(user):
    first, second = (make.prospect(user, last_name=name, at=YESTERDAY) for name in ("First", "Second"))
    followup = plan(first, 1, user)
    plan(second, 5, user)
    assert first_column() == ["First", "Second"]
    complete_followup(followup, "not_reached", user, NOW, reschedule_at=NOW + timedelta(days=3))
    assert next_action(first) == NOW + timedelta(days=3)
    assert first_column() == ["Second", "First"]


def test_next_step_moves_the_next_action_to_the_following_step(user):
    prospect = make.prospect(user, last_name="Diop", at=YESTERDAY)
    followup = plan(prospect, 1, user)
    complete_followup(followup, "next_step", user, NOW, next_type=followup_type(NEXT),
                      next_due_at=NOW + timedelta(days=2))
    assert next_action(prospect) == NOW + timedelta(days=2)
    assert board.card(prospect.id, now=NOW)["next_type"] == NEXT


def test_completing_the_earliest_makes_the_next_planned_one_the_next_action(user):
    prospect, other = (make.prospect(user, last_name=name, at=YESTERDAY) for name in ("Done", "Other"))
    followup = plan(prospect, 1, user)
    later = plan(prospect, 48, user)
    plan(other, 24, user)
    complete_followup(followup, "not_reached", user, NOW, reschedule_at=NOW + timedelta(days=4))
    assert next_action(prospect) == later.due_at   # the other planned one is now the earliest
    assert first_column() == ["Other", "Done"]


@pytest.mark.parametrize("outcome", ["signed_up", "not_interested"])
def test_an_outcome_that_closes_the_prospect_clears_its_next_action(user, outcome):
    prospect = make.prospect(user, last_name="Diop", at=YESTERDAY)
    followup = plan(prospect, 1, user)
    plan(prospect, 48, user)
    reason = LostReason.get(LostReason.code == "not_interested")
    complete_followup(followup, outcome, user, NOW, lost_reason=reason)
    assert next_action(prospect) is None
    assert not FollowUp.select().where((FollowUp.prospect == prospect.id) & (FollowUp.state == "planned")).exists()


@pytest.mark.parametrize("kind_", ["won", "lost"])
def test_a_move_to_a_closed_stage_clears_the_next_action(user, kind_):
    prospect = make.prospect(user, last_name="Diop", at=YESTERDAY)
    plan(prospect, 24, user)
    stage = Stage.get(Stage.kind == kind_)
    reason = LostReason.get(LostReason.code == "not_interested") if kind_ == "lost" else None
    board.move(prospect.id, stage, user, version=Prospect.get_by_id(prospect.id).version, lost_reason=reason,
               confirmed=True, now=NOW)
    assert next_action(prospect) is None


def test_do_not_contact_clears_the_next_action_and_the_card_becomes_to_do(user):
    quiet, other = (make.prospect(user, last_name=name, at=YESTERDAY) for name in ("Quiet", "Other"))
    plan(quiet, 1, user)
    plan(other, 24, user)
    assert first_column() == ["Quiet", "Other"]
    set_do_not_contact(Prospect.get_by_id(quiet.id), True, "Ne plus appeler", user, now=NOW)
    assert next_action(quiet) is None
    assert first_column() == ["Other", "Quiet"]


def test_saving_a_prospect_loaded_before_a_plan_keeps_the_new_next_action(user):
    loaded = Prospect.get_by_id(make.prospect(user, last_name="Diop", at=YESTERDAY).id)
    plan(loaded, 24, user)
    change_temperature(loaded, "hot", "Rappelle souvent", user, now=NOW)   # saves the stale record
    add_interaction(loaded, channel="phone", direction="in", user=user, occurred_at=NOW, now=NOW)
    assert next_action(loaded) == NOW + timedelta(hours=24)


def test_the_sweep_sets_the_next_action_of_the_prospects_it_plans_for(any_ctx):
    t0 = datetime(2026, 11, 2, 9, 0)   # a Monday morning
    owner = make.user("secretary", email="codou@clinic.test", name="Codou")
    hot = make.prospect(owner, last_name="Hot", temperature="hot", at=t0)
    add_interaction(hot, channel="phone", direction="out", occurred_at=t0 + timedelta(hours=1),
                    now=t0 + timedelta(hours=1))
    cold = make.prospect(owner, last_name="Cold", temperature="cold", at=t0)

    result = run_sweep(t0 + timedelta(hours=50))
    assert result.followups_created == 1
    followup = FollowUp.get(FollowUp.prospect == hot.id)
    assert next_action(hot) == followup.due_at
    assert next_action(cold) is None
    assert first_column() == ["Hot", "Cold"]
    run_sweep(t0 + timedelta(hours=51))   # nothing new: nothing changes
    assert next_action(hot) == followup.due_at


def test_migration_0005_backfills_the_next_action_from_planned_followups(db_url):
    db = bind(db_url)
    with database.connection_context():
        Runner(db, str(MIGRATIONS_DIR)).up(target="0004_prospect_updated_at_index")
        stage_id = db.execute_sql("INSERT INTO stage (name, position, kind, retired) VALUES ('Nouveau', 0, 'open', "
                                  "%s) RETURNING id".replace("%s", db.param), (False,)).fetchone()[0]
        ids = []
        for name in ("Planned", "Nothing", "OnlyDone"):
            ids.append(db.execute_sql(
                """INSERT INTO prospect (first_name, last_name, phone_raw, phone_valid, channel, origin_detail,
                   temperature, activity_status, stage_id, outcome, do_not_contact, action_budget,
                   actions_used, interaction_count, created_at, updated_at, version, search_text)
                   VALUES ('', %s, '', %s, 'phone', '', 'warm', 'normal', %s, 'open', %s, 15, 0, 0,
                   '2026-01-05 10:00:00', '2026-01-05 10:00:00', 1, '') RETURNING id""".replace("%s", db.param),
                (name, True, stage_id, False)).fetchone()[0])
        planned, nothing, only_done = ids
        for prospect_id, due, state in [(planned, "2026-02-03 09:00:00", "planned"),
                                        (planned, "2026-02-01 09:00:00", "planned"),
                                        (planned, "2026-01-20 09:00:00", "done"),
                                        (only_done, "2026-01-21 09:00:00", "cancelled")]:
            db.execute_sql("""INSERT INTO follow_up (prospect_id, due_at, value, comment, rule_reason, state,
                              created_at) VALUES (%s, %s, 'warm', '', '', %s, '2026-01-05 10:00:00')"""
                           .replace("%s", db.param), (prospect_id, due, state))
        assert "0005_next_action_at" in migrate()
        stored = {p.id: p.next_action_at for p in Prospect.select()}
    assert stored == {planned: datetime(2026, 2, 1, 9, 0), nothing: None, only_done: None}


@pytest.mark.parametrize("kind_, index", [("open", "prospect_stage_id_next_action_at_id"),
                                            ("won", "prospect_stage_id_updated_at_id")])
def test_a_column_query_is_an_index_range_scan_without_a_sort(app, kind_, index):
    with app.app_context(), database.connection_context():
        stage = next(s for s in board.stages() if s.kind == kind_)
        query = board._ColumnQuery(Criteria(filters={}), kind_)
        params = [*query.head, stage.id, *query.filters, board.PAGE, 0]
        plan = " ".join(row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + query.sql, params))
    assert f"SEARCH t1 USING INDEX {index} (stage_id=?)" in plan
    assert "TEMP B-TREE" not in plan


def test_the_boards_changed_since_token_seeks_indexes_and_reads_no_table(app):
    """board_version runs on every live board's poll: each part an index seek or a count from an index,
    the latest change read per stage from the board's (stage_id, updated_at, id) index."""
    with app.app_context(), database.connection_context():
        sql, params = database.get_sql_context().sql(board._version_query()).query()
        plan = [row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]
    assert "SEARCH t1 USING COVERING INDEX prospect_stage_id_updated_at_id (stage_id=?)" in plan, plan
    assert not [step for step in plan if step.startswith("SCAN") and step != "SCAN CONSTANT ROW"
                and "COVERING INDEX" not in step], plan


def _many_prospects_with_followups(count: int, owner_id: int) -> None:
    """`count` prospects, a fifth of them won, each with one follow-up, a quarter of those planned."""
    open_stage, won_stage = make.stage("open"), make.stage("won")
    with database.atomic():
        for n in range(count):
            stage, outcome = (won_stage, "won") if n % 5 == 0 else (open_stage, "open")
            prospect_id = database.execute_sql(
                "INSERT INTO prospect (first_name, last_name, phone_raw, phone_valid, channel, origin_detail, "
                "temperature, activity_status, stage_id, outcome, owner_id, do_not_contact, action_budget, "
                "actions_used, interaction_count, created_at, updated_at, version, search_text, next_action_at) "
                "VALUES ('Awa', ?, '', 1, 'phone', '', 'warm', 'normal', ?, ?, ?, 0, 15, 0, 0, "
                "'2026-01-05 10:00:00', ?, 1, '', ?) RETURNING id",
                (f"Diop {n}", stage.id, outcome, owner_id, f"2026-01-{1 + n % 28:02d} 10:00:00",
                 f"2026-02-{1 + n % 28:02d} 10:00:00")).fetchone()[0]
            database.execute_sql(
                "INSERT INTO follow_up (prospect_id, due_at, value, comment, rule_reason, state, created_at) "
                "VALUES (?, ?, 'warm', '', '', ?, '2026-01-05 10:00:00')",
                (prospect_id, f"2026-02-{1 + n % 28:02d} 09:00:00", ("planned", "done", "done", "cancelled")[n % 4]))


def test_the_nightly_statistics_give_ma_journee_the_due_date_index_and_leave_the_board_alone(app, monkeypatch):
    """Without statistics SQLite read every planned follow-up through the state index and sorted them;
    with them (the nightly task), the due ones by date, already in order. The board's columns keep their
    index range scans."""
    from tasks.maintenance import query_statistics
    from webapp import queue
    from webapp.services.followups import _due_followups

    monkeypatch.setattr(queue, "_app", app)      # the task runs on this app's database

    def plans(owner):
        due = _due_followups(owner, datetime(2026, 2, 2)).sql()
        found = {"due": " ".join(row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + due[0], due[1]))}
        for kind_ in ("open", "won"):
            stage = next(s for s in board.stages() if s.kind == kind_)
            query = board._ColumnQuery(Criteria(filters={}), kind_)
            params = [*query.head, stage.id, *query.filters, board.PAGE, 0]
            found[kind_] = " ".join(row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + query.sql, params))
        return found

    with app.app_context(), database.connection_context():
        owner = make.user("secretary")
        _many_prospects_with_followups(3000, owner.id)
        before = plans(owner)
        assert "USING INDEX followup_state" in before["due"] and "TEMP B-TREE" in before["due"]
        assert query_statistics.call_local() is True
        after = plans(owner)
    assert "USING INDEX followup_due_at (due_at<?)" in after["due"] and "TEMP B-TREE" not in after["due"]
    assert after["open"] == before["open"] and "USING INDEX prospect_stage_id_next_action_at_id" in after["open"]
    assert after["won"] == before["won"] and "TEMP B-TREE" not in after["won"]
