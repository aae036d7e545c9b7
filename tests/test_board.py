"""The pipeline board: columns and cards, urgency order, filters in the URL, moves and their refusals."""
from contextlib import contextmanager
from datetime import timedelta

import pytest

from tests import factories as make
from webapp.models import FollowUp, LostReason, Prospect, Stage, StageChange, database
from webapp.services.next_action import refresh_next_action
from webapp.timeutil import utcnow


def add(app, name, **fields):
    with app.test_request_context(), database.connection_context():
        return make.prospect(last_name=name, phone_number=fields.pop("phone", None), **fields)


def plan(app, prospect, due_in_hours):
    """A planned follow-up written directly (due in the past too), the prospect's next action refreshed
    as every service that writes follow-ups does."""
    with app.app_context(), database.connection_context():
        FollowUp.create(prospect=prospect.id, due_at=utcnow() + timedelta(hours=due_in_hours))
        refresh_next_action([prospect.id])


def stage(app, kind, n=0):
    with app.app_context(), database.connection_context():
        return Stage.select().where(Stage.kind == kind).order_by(Stage.position)[n]


def fresh(app, prospect):
    with app.app_context(), database.connection_context():
        return Prospect.get_by_id(prospect.id)


@contextmanager
def counting_queries():
    calls = []
    original = database.obj.execute_sql

    def counted(sql, params=None, *args, **kwargs):
        calls.append(sql)
        return original(sql, params, *args, **kwargs)
    database.obj.execute_sql = counted
    try:
        yield calls
    finally:
        database.obj.execute_sql = original


def test_the_board_is_the_staff_home(as_role):
    client = as_role("secretary")
    assert client.get("/").location == "/board"


def test_the_same_url_is_a_page_or_the_columns_for_htmx(app, as_role):
    add(app, "Diop")
    client = as_role("secretary")
    page = client.get("/board")
    fragment = client.get("/board", headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert b"<html" in page.data and b'id="move-form"' in page.data
    assert b"<html" not in fragment.data and b"Diop" in fragment.data and b'class="board-column' in fragment.data


def test_cards_are_ordered_overdue_first_then_soonest_then_to_do(app, as_role):
    soon, overdue, nothing, later = (add(app, n) for n in ("Bientot", "EnRetard", "AFaire", "PlusTard"))
    plan(app, soon, 2)
    plan(app, overdue, -5)
    plan(app, later, 48)
    body = as_role("secretary").get("/board").data.decode()
    order = [body.index(name) for name in ("EnRetard", "Bientot", "PlusTard", "AFaire")]
    assert order == sorted(order)
    assert "En retard" in body  # overdue in words, not only in red


def test_the_column_header_shows_the_full_count_and_more_cards_load_on_demand(app, as_role):
    for n in range(35):
        add(app, f"Personne{n:02d}", phone=f"77 300 00 {n:02d}")
    client = as_role("secretary")
    first = stage(app, "open")
    body = client.get("/board").data.decode()
    assert f'id="count-{first.id}"' in body and ">35<" in body.replace(" ", "")
    assert body.count('class="board-card') == 30
    more = client.get(f"/board/columns/{first.id}?offset=30").data.decode()
    assert more.count('class="board-card') == 5 and "Afficher plus" not in more


def test_no_query_per_card(app, as_role):
    client = as_role("secretary")
    client.get("/board")
    for n in range(3):
        add(app, f"Petit{n}", phone=f"77 400 00 {n:02d}")
    with counting_queries() as few:
        client.get("/board")
    for n in range(60):
        p = add(app, f"Grand{n}", phone=f"77 500 00 {n:02d}")
        plan(app, p, n - 30)
    with counting_queries() as many:
        client.get("/board")
    assert len(many) == len(few)


def test_filters_live_in_the_url_and_the_last_one_is_remembered(app, as_role):
    add(app, "Chaude", temperature="hot")
    add(app, "Froide", temperature="cold")
    client = as_role("secretary")
    hot = client.get("/board?temperature=hot").data.decode()
    assert "Chaude" in hot and "Froide" not in hot
    home = client.get("/")  # coming back to the board brings the last filter back
    assert home.location == "/board?temperature=hot"
    assert 'href="/board?temperature=hot"' in client.get("/prospects").data.decode()
    assert "Froide" in client.get("/board").data.decode()  # /board itself is unfiltered: Back works
    client.get("/board?reset=1")
    assert client.get("/").location == "/board"


def test_mine_is_one_click(app, as_role):
    client = as_role("secretary")
    mine = add(app, "LaMienne")
    add(app, "PasLaMienne")
    with app.app_context(), database.connection_context():
        Prospect.update(owner=client.user.id).where(Prospect.id == mine.id).execute()
    body = client.get("/board?owner=me").data.decode()
    assert "LaMienne" in body and "PasLaMienne" not in body


def move(client, prospect, to, **extra):
    data = {"prospect_id": prospect.id, "stage_id": to.id, "version": prospect.version, **extra}
    return client.post("/board/move", data=data, headers={"HX-Request": "true"})


def test_a_move_is_saved_with_history_and_answers_the_card_and_both_counts(app, as_role):
    prospect = add(app, "Deplacee")
    client = as_role("secretary")
    source, target = stage(app, "open", 0), stage(app, "open", 1)
    response = move(client, fresh(app, prospect), target)
    assert response.status_code == 200
    body = response.data.decode()
    assert f'id="card-{prospect.id}"' in body and 'hx-swap-oob="true"' in body
    assert f'id="count-{source.id}"' in body and f'id="count-{target.id}"' in body
    with app.app_context(), database.connection_context():
        assert Prospect.get_by_id(prospect.id).stage_id == target.id
        change = StageChange.get(StageChange.prospect == prospect.id)
        assert (change.from_stage_id, change.to_stage_id, change.user_id) == (source.id, target.id, client.user.id)


def test_a_lost_stage_needs_a_reason(app, as_role):
    prospect = add(app, "Perdue")
    plan(app, prospect, 24)
    client = as_role("secretary")
    lost = stage(app, "lost")
    refused = move(client, fresh(app, prospect), lost)
    assert refused.status_code == 400 and "data-refused" in refused.data.decode()
    assert fresh(app, prospect).outcome == "open"
    with app.app_context(), database.connection_context():
        reason = LostReason.get(LostReason.code == "financing")
    assert move(client, fresh(app, prospect), lost, lost_reason=reason.id).status_code == 200
    saved = fresh(app, prospect)
    assert (saved.outcome, saved.lost_reason_id) == ("lost", reason.id)
    with app.app_context(), database.connection_context():
        assert FollowUp.get().state == "cancelled"  # a closed prospect leaves the procedure


def test_a_won_stage_needs_a_confirmation(app, as_role):
    prospect = add(app, "Gagnee")
    client = as_role("secretary")
    won = stage(app, "won")
    assert move(client, fresh(app, prospect), won).status_code == 400
    assert move(client, fresh(app, prospect), won, confirm="1").status_code == 200
    saved = fresh(app, prospect)
    assert saved.outcome == "won" and saved.converted_at is not None


def test_a_stale_move_is_refused_as_a_conflict_and_changes_nothing(app, as_role):
    prospect = add(app, "Disputee")
    client = as_role("secretary")
    stale = fresh(app, prospect)
    assert move(client, stale, stage(app, "open", 2)).status_code == 200
    refused = move(client, stale, stage(app, "open", 3))
    assert refused.status_code == 409 and 'data-code="conflict"' in refused.data.decode()
    assert fresh(app, prospect).stage_id == stage(app, "open", 2).id


@pytest.mark.parametrize("role, allowed", [("secretary", False), ("lead", True), ("manager", True)])
def test_reopening_a_closed_prospect_needs_the_lead_or_a_manager(app, as_role, role, allowed):
    prospect = add(app, "Rouverte")
    won = stage(app, "won")
    with app.app_context(), database.connection_context():
        Prospect.update(stage=won.id, outcome="won").where(Prospect.id == prospect.id).execute()
    client = as_role(role)
    response = move(client, fresh(app, prospect), stage(app, "open"), reopen="1")
    assert response.status_code == (200 if allowed else 403)
    assert fresh(app, prospect).outcome == ("open" if allowed else "won")


@pytest.mark.parametrize("closed, target", [("won", "open"), ("lost", "open"), ("won", "lost"), ("lost", "won")])
def test_reopening_asks_for_a_confirmation_then_is_recorded_with_who_when_and_the_stage_it_left(
        app, as_role, closed, target):
    prospect = add(app, "Rouverte")
    closed_stage = stage(app, closed)
    with app.app_context(), database.connection_context():
        Prospect.update(stage=closed_stage.id, outcome=closed).where(Prospect.id == prospect.id).execute()
        reason = LostReason.get(LostReason.code == "financing").id
    client = as_role("lead")
    answers = {"lost_reason": reason, "confirm": "1"}
    refused = move(client, fresh(app, prospect), stage(app, target), **answers)
    assert refused.status_code == 400 and 'data-code="reopen_confirmation_required"' in refused.data.decode()
    assert fresh(app, prospect).outcome == closed
    assert move(client, fresh(app, prospect), stage(app, target), reopen="1", **answers).status_code == 200
    assert fresh(app, prospect).outcome == target
    with app.app_context(), database.connection_context():
        change = StageChange.get(StageChange.prospect == prospect.id)
        assert (change.from_stage_id, change.from_outcome, change.to_outcome) == (closed_stage.id, closed, target)
        assert change.reopened and change.user_id == client.user.id and change.changed_at is not None


def test_the_move_menu_asks_to_confirm_a_reopening_only_for_a_closed_prospect(app, as_role):
    prospect = add(app, "Menu")
    client = as_role("lead")
    assert 'name="reopen"' not in client.get(f"/board/move/{prospect.id}").data.decode()
    with app.app_context(), database.connection_context():
        Prospect.update(stage=stage(app, "lost").id, outcome="lost").where(Prospect.id == prospect.id).execute()
    assert 'name="reopen"' in client.get(f"/board/move/{prospect.id}").data.decode()


def test_a_move_without_javascript_redirects_back_to_the_board_with_a_message(app, as_role):
    prospect = add(app, "SansJS")
    client = as_role("secretary")
    data = {"prospect_id": prospect.id, "stage_id": stage(app, "open", 1).id, "version": fresh(app, prospect).version,
            "temperature": "warm"}
    response = client.post("/board/move", data=data)
    assert response.status_code == 302 and response.location.endswith("/board?temperature=warm")
    assert client.get("/board?temperature=warm").status_code == 200


def test_the_move_menu_works_as_a_page_without_javascript(app, as_role):
    prospect = add(app, "Menu")
    body = as_role("secretary").get(f"/board/move/{prospect.id}").data.decode()
    assert 'name="stage_id"' in body and 'name="lost_reason"' in body and 'name="confirm"' in body


def test_the_changes_poll_is_empty_until_something_changes(app, as_role):
    prospect = add(app, "Vivante")
    client = as_role("secretary")
    page = client.get("/board").data.decode()
    version = page.split('name="version" value="', 1)[1].split('"', 1)[0]
    assert client.get("/board/changes", query_string={"version": version}).status_code == 204
    move(client, fresh(app, prospect), stage(app, "open", 1))
    changed = client.get("/board/changes", query_string={"version": version})
    assert changed.status_code == 200 and changed.headers["HX-Trigger"] == "board-changed"


def test_a_hostile_name_is_text_on_the_board(app, as_role):
    add(app, "<script>alert(1)</script>")
    body = as_role("secretary").get("/board").data.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


def test_unknown_filter_value_on_the_board_is_a_400(as_role):
    assert as_role("secretary").get("/board?temperature=boiling").status_code == 400
