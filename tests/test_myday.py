"""Ma journée: which follow-ups land in which section as of a fixed time, "à faire", and the lead's
requests awaiting a first answer with the time left."""
from datetime import datetime, timedelta

import pytest

from tests import factories as make
from tests.conftest import PASSWORD, login
from webapp.models import FollowUp, Prospect, database
from webapp.rules.worktime import add_calendar_days, add_working_days
from webapp.services.followups import business_calendar, my_day
from webapp.services.prospects import add_interaction, set_do_not_contact
from webapp.timeutil import utcnow

NOW = datetime(2026, 11, 24, 10, 0)  # Tuesday 10:00 in Dakar (UTC all year); abandoned after 7 days


def prospect(owner, temperature="warm", first_contact=NOW - timedelta(days=1), direction="in", **fields):
    """A first contact made at `first_contact` (yesterday unless said)."""
    return make.prospect(owner, at=first_contact, last_name=f"Sarr {make.number()}", temperature=temperature,
                         direction=direction, **fields)


def followup(p, owner, due_at, type_name=make.FIRST_STEP, created_at=None):
    """Planned the day before its date (or before NOW), unless said otherwise."""
    return make.followup(p, owner, due_at=due_at, type_name=type_name, value="warm",
                         created_at=created_at or min(due_at, NOW) - timedelta(days=1))


def test_a_followup_born_late_is_not_abandoned_by_its_owner_on_its_first_days(ctx):
    me = make.user()
    late = followup(prospect(me), me, NOW - timedelta(days=30), created_at=NOW - timedelta(hours=2))
    day = my_day(me, NOW)
    assert [f.id for f in day.overdue] == [late.id] and day.abandoned == []
    assert [f.id for f in my_day(me, NOW + timedelta(days=7)).abandoned] == [late.id]


@pytest.mark.parametrize("due_at, section", [
    (NOW + timedelta(hours=7), "today"),            # later today
    (NOW - timedelta(hours=9), "today"),            # earlier today (01:00): due today, not yet overdue
    (NOW - timedelta(hours=10, minutes=1), "overdue"),  # yesterday 23:59
    (NOW - timedelta(days=6), "overdue"),           # 6 days late
    (NOW - timedelta(days=7), "abandoned"),         # 7 days: abandon_after_days
    (NOW - timedelta(days=30), "abandoned"),
    (NOW + timedelta(hours=14), None),              # tomorrow 00:00: not on today's page
])
def test_each_followup_lands_in_the_section_its_state_says(ctx, due_at, section):
    me = make.user()
    mine = followup(prospect(me), me, due_at)
    day = my_day(me, NOW)
    found = [name for name in ("overdue", "today", "abandoned") if mine.id in [f.id for f in getattr(day, name)]]
    assert found == ([section] if section else [])


def test_overdue_come_first_and_only_my_followups_and_unassigned_ones_on_my_prospects(ctx):
    me, other = make.user(), make.user()
    mine = prospect(me)
    late, later, today = (followup(mine, me, NOW - timedelta(days=d)) for d in (3, 1, 0))
    unassigned = followup(mine, None, NOW + timedelta(hours=1))
    followup(prospect(other), other, NOW - timedelta(days=1))
    followup(prospect(other), None, NOW - timedelta(days=1))
    followup(mine, other, NOW - timedelta(days=1))        # assigned to someone else on my prospect
    day = my_day(me, NOW)
    assert [f.id for f in day.overdue] == [late.id, later.id]
    assert [f.id for f in day.today] == [today.id, unassigned.id]
    assert day.counts() == {"overdue": 2, "today": 2, "abandoned": 0, "todo": 0}


def test_to_do_lists_my_open_prospects_with_nothing_planned(ctx):
    me, other = make.user(), make.user()
    todo = prospect(me)
    followup(prospect(me), me, NOW + timedelta(days=5))             # planned: not to do
    done = prospect(me)
    FollowUp.create(prospect=done, owner=me, due_at=NOW, state="done", outcome="not_reached")
    set_do_not_contact(prospect(me), True, "demande", me, now=NOW)  # nothing may be planned: not to do
    closed = prospect(me)
    Prospect.update(outcome="lost").where(Prospect.id == closed.id).execute()
    prospect(other)
    day = my_day(me, NOW)
    assert sorted(p.id for p in day.todo) == sorted([todo.id, done.id]) and day.todo_count == 2


def test_the_lead_sees_requests_awaiting_a_first_answer_with_the_time_left(ctx, app):
    lead = make.user("lead")
    waiting = prospect(None, "hot", first_contact=NOW - timedelta(hours=2))
    late = prospect(None, "warm", first_contact=NOW - timedelta(days=7))  # two working days passed on Thursday
    over = prospect(None, "hot", first_contact=NOW - timedelta(days=16))
    answered = prospect(None, "hot", first_contact=NOW - timedelta(hours=3))
    add_interaction(answered, channel="phone", direction="out", occurred_at=NOW - timedelta(hours=1), now=NOW)
    prospect(None, "cold", first_contact=NOW - timedelta(hours=2))   # cold: no answer owed (seed 000)
    prospect(None, "hot", first_contact=NOW - timedelta(hours=2), direction="out")  # our own outreach
    day = my_day(lead, NOW)
    by_id = {r.prospect.id: r for r in day.awaiting}
    assert set(by_id) == {waiting.id, late.id, over.id}
    cal = business_calendar(NOW, app.config["TIMEZONE"])
    first = NOW - timedelta(hours=2)       # Tuesday 08:00, before opening: counted from 08:30
    assert by_id[waiting.id].target_at == add_working_days(cal, first, 2) == datetime(2026, 11, 26, 8, 30)
    assert by_id[waiting.id].limit_at == add_calendar_days(cal, first, 15)
    assert [by_id[i].state for i in (waiting.id, late.id, over.id)] == ["on_time", "late", "over_limit"]
    assert [r.prospect.id for r in day.awaiting] == [over.id, late.id, waiting.id]  # most urgent first


def test_a_secretary_has_no_requests_section(ctx):
    me = make.user()
    prospect(None, "hot", first_contact=NOW - timedelta(hours=2))
    assert my_day(me, NOW).awaiting is None


def test_my_day_takes_the_same_number_of_queries_for_1_or_20_rows(ctx):
    def queries(rows):
        me = make.user("lead")
        for i in range(rows):
            p = prospect(me, "hot", first_contact=NOW - timedelta(hours=3))
            followup(p, me, NOW - timedelta(days=i % 9))
            prospect(me)
        executed = []
        connection = database.connection()
        connection.set_trace_callback(executed.append)
        try:
            day = my_day(me, NOW)
        finally:
            connection.set_trace_callback(None)
        assert len(day.overdue) + len(day.today) + len(day.abandoned) == rows
        return len([q for q in executed if q.lstrip().upper().startswith("SELECT")])
    few = queries(1)
    assert few > 0 and queries(20) == few


# --- the page ------------------------------------------------------------------------------------------

def _page(app, client, role):
    with app.app_context(), database.connection_context():
        user = make.user(role)
        now = utcnow()
        mine = prospect(user, first_contact=now - timedelta(days=10))
        followup(mine, user, now - timedelta(days=2))
        prospect(None, "hot", first_contact=now - timedelta(hours=1))
        prospect(user, first_contact=now - timedelta(days=3))
    login(client, user)
    return client.get("/my-day")


def test_the_lead_page_shows_every_section_and_the_time_left_in_words(app, client):
    response = _page(app, client, "lead")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for key in ("overdue", "today", "abandoned", "todo", "awaiting"):
        assert f'id="myday-count-{key}"' in page
    assert 'id="myday-count-overdue">1<' in page and 'id="myday-count-todo">1<' in page
    assert "badge-ok" in page and "✓" in page       # the state in words and a sign, not colour alone
    assert "dans" in page                          # "dans 1 jour" / "dans 2 jours": the time left in words


def test_the_secretary_page_has_no_requests_section(app, client):
    page = _page(app, client, "secretary").get_data(as_text=True)
    assert 'id="myday-count-overdue">1<' in page and 'id="myday-count-awaiting"' not in page


def test_my_day_is_the_first_link_of_the_menu_and_the_board_stays_home(app, client):
    response = _page(app, client, "secretary")
    nav = response.get_data(as_text=True).split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert nav.index('href="/my-day"') < nav.index('href="/board')
    assert 'href="/my-day" aria-current="page"' in nav
    assert "/board" in client.get("/").location


def test_the_page_without_htmx_and_its_sections_for_htmx(app, client):
    _page(app, client, "secretary")
    fragment = client.get("/my-day", headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="myday-sections"') and "<html" not in body


# --- in a real browser: two clicks, the row and the counts update in place --------------------------------

@pytest.mark.browser
def test_two_clicks_in_the_browser_complete_a_followup_in_place(page, sqlite_url):
    from playwright.sync_api import expect

    from tests.conftest import make_app
    from tests.servers import LiveServer
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.test_request_context(), database.connection_context():
        user = make.user("secretary", email="awa@clinic.test", name="Awa Ndiaye")
        now = utcnow()
        late = followup(prospect(user), user, now - timedelta(days=2))
        followup(prospect(user), user, now - timedelta(days=1))
    with LiveServer(app) as server:
        page.goto(f"{server.url}/login")
        page.get_by_label("E-mail").fill("awa@clinic.test")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.goto(f"{server.url}/my-day")
        row = page.locator(f"#followup-{late.id}")
        expect(page.locator("#myday-count-overdue")).to_have_text("2")
        row.locator("a[href*='outcome=not_interested']").click()          # first click: the outcome
        expect(row.locator("select[name=lost_reason]")).to_be_visible()
        assert page.url.endswith("/my-day")                               # stayed on the page
        row.locator("button.button-primary").click()                # second click: confirm
        expect(page.locator(f"#followup-{late.id}.followup-done")).to_be_visible()
        expect(page.locator("#myday-count-overdue")).to_have_text("1")
    with app.app_context(), database.connection_context():
        assert FollowUp.get_by_id(late.id).outcome == "not_interested"
