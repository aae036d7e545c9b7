"""Follow-ups by hand and seed 002's four outcomes: the service, then the same through HTTP and htmx."""
from datetime import datetime, time, timedelta

import pytest

from tests import factories as make
from tests.factories import followup_type
from tests.conftest import login
from webapp.models import FollowUp, LostReason, Prospect, StageChange, database
from webapp.services.followups import FollowUpError, complete_followup, plan_followup
from webapp.services.prospects import set_do_not_contact
from webapp.timeutil import utcnow

NOW = datetime(2026, 11, 24, 10, 0)  # a Tuesday; Dakar is UTC all year
YESTERDAY = NOW - timedelta(days=1)

FIRST = "Rappel de qualification"          # a first step; next: documentation or a call for an appointment
NOT_FIRST = "Envoi de documentation"
NOT_NEXT = "Consultation découverte"       # not configured after FIRST


@pytest.fixture
def staff(ctx):
    return {role: make.user(role) for role in ("secretary", "lead", "manager")}


# --- planning by hand ------------------------------------------------------------------------------------

def test_a_followup_is_planned_in_the_future_with_its_owner_value_and_comment(staff):
    secretary = staff["secretary"]
    prospect = make.prospect(secretary, at=YESTERDAY)
    followup = plan_followup(prospect, followup_type(FIRST), secretary, NOW + timedelta(days=1), "hot",
                             " Rappeler ", secretary, NOW)
    assert (followup.state, followup.owner_id, followup.value, followup.comment) == \
        ("planned", secretary.id, "hot", "Rappeler")
    assert followup.rule is None and followup.created_by_id == secretary.id


@pytest.mark.parametrize("due_at", [NOW, NOW - timedelta(minutes=1)])
def test_a_followup_cannot_be_planned_now_or_in_the_past(staff, due_at):
    prospect = make.prospect(staff["secretary"], at=YESTERDAY)
    with pytest.raises(FollowUpError) as refused:
        plan_followup(prospect, followup_type(FIRST), None, due_at, "warm", "", staff["secretary"], NOW)
    assert refused.value.code == "past_date"
    assert FollowUp.select().count() == 0


def test_the_first_followup_of_a_prospect_must_be_a_first_step_type(staff):
    prospect = make.prospect(staff["secretary"], at=YESTERDAY)
    with pytest.raises(FollowUpError) as refused:
        plan_followup(prospect, followup_type(NOT_FIRST), None, NOW + timedelta(days=1), "warm", "", None, NOW)
    assert refused.value.code == "not_first_step"
    plan_followup(prospect, followup_type(FIRST), None, NOW + timedelta(days=1), "warm", "", None, NOW)
    # Once the workflow has started, any active type may be planned by hand.
    plan_followup(prospect, followup_type(NOT_FIRST), None, NOW + timedelta(days=2), "warm", "", None, NOW)
    assert FollowUp.select().count() == 2


def test_nothing_is_planned_for_a_do_not_contact_or_closed_prospect(staff):
    quiet = make.prospect(staff["secretary"], at=YESTERDAY)
    set_do_not_contact(quiet, True, "demande", staff["secretary"], now=NOW)
    closed = make.prospect(staff["secretary"], at=YESTERDAY)
    Prospect.update(outcome="won").where(Prospect.id == closed.id).execute()
    for prospect, code in ((quiet, "do_not_contact"), (Prospect.get_by_id(closed.id), "closed")):
        with pytest.raises(FollowUpError) as refused:
            plan_followup(prospect, followup_type(FIRST), None, NOW + timedelta(days=1), "warm", "", None, NOW)
        assert refused.value.code == code


# --- the four outcomes -------------------------------------------------------------------------------------

def test_not_reached_marks_it_done_and_plans_the_same_type_again(staff):
    secretary = staff["secretary"]
    first = make.followup(make.prospect(secretary, at=YESTERDAY), secretary, due_at=NOW)
    again = complete_followup(first, "not_reached", secretary, NOW, reschedule_at=NOW + timedelta(days=2))
    first = FollowUp.get_by_id(first.id)
    assert (first.state, first.outcome, first.done_at, first.done_by_id) == ("done", "not_reached", NOW, secretary.id)
    assert (again.type_id, again.owner_id, again.previous_id, again.state) == (first.type_id, secretary.id, first.id,
                                                                               "planned")
    assert again.due_at == NOW + timedelta(days=2)


def test_signed_up_converts_the_prospect_through_the_board_and_cancels_the_rest(staff):
    secretary = staff["secretary"]
    prospect = make.prospect(secretary, at=YESTERDAY)
    first = make.followup(prospect, secretary, due_at=NOW)
    other = make.followup(prospect, secretary, due_at=NOW + timedelta(days=3))
    assert complete_followup(first, "signed_up", secretary, NOW) is None
    prospect = Prospect.get_by_id(prospect.id)
    assert prospect.outcome == "won" and prospect.stage.kind == "won" and prospect.converted_at == NOW
    assert StageChange.select().where(StageChange.prospect == prospect.id).count() == 1
    assert FollowUp.get_by_id(first.id).outcome == "signed_up"
    assert FollowUp.get_by_id(other.id).state == "cancelled"


def test_next_step_plans_a_type_allowed_after_this_one(staff):
    lead = staff["lead"]
    first = make.followup(make.prospect(lead, at=YESTERDAY), lead, due_at=NOW)
    following = complete_followup(first, "next_step", lead, NOW, next_type=followup_type(NOT_FIRST),
                                  next_due_at=NOW + timedelta(days=1))
    assert (following.type.name, following.previous_id, following.state) == (NOT_FIRST, first.id, "planned")
    assert FollowUp.get_by_id(first.id).outcome == "next_step"


def test_not_interested_marks_the_prospect_lost_with_its_reason(staff):
    secretary = staff["secretary"]
    prospect = make.prospect(secretary, at=YESTERDAY)
    first = make.followup(prospect, secretary, due_at=NOW)
    reason = LostReason.get(LostReason.code == "not_interested")
    complete_followup(first, "not_interested", secretary, NOW, lost_reason=reason)
    prospect = Prospect.get_by_id(prospect.id)
    assert (prospect.outcome, prospect.stage.kind, prospect.lost_reason_id) == ("lost", "lost", reason.id)
    assert FollowUp.get_by_id(first.id).state == "done"


@pytest.mark.parametrize("outcome, options, code", [
    ("not_reached", {}, "date_required"),
    ("not_reached", {"reschedule_at": NOW - timedelta(hours=1)}, "past_date"),
    ("next_step", {"next_type_name": NOT_NEXT, "next_due_at": NOW + timedelta(days=1)}, "next_type_not_allowed"),
    ("next_step", {"next_type_name": NOT_FIRST, "next_due_at": NOW - timedelta(days=1)}, "past_date"),
    ("not_interested", {}, "lost_reason_required"),
    ("finished", {}, "bad_outcome"),
])
def test_a_refused_completion_changes_nothing(staff, outcome, options, code):
    secretary = staff["secretary"]
    prospect = make.prospect(secretary, at=YESTERDAY)
    first = make.followup(prospect, secretary, due_at=NOW)
    if "next_type_name" in options:
        options["next_type"] = followup_type(options.pop("next_type_name"))
    with pytest.raises(FollowUpError) as refused:
        complete_followup(first, outcome, secretary, NOW, **options)
    assert refused.value.code == code
    assert FollowUp.get_by_id(first.id).state == "planned" and FollowUp.select().count() == 1
    assert Prospect.get_by_id(prospect.id).outcome == "open"


def test_a_followup_already_done_cannot_be_completed_again(staff):
    secretary = staff["secretary"]
    first = make.followup(make.prospect(secretary, at=YESTERDAY), secretary, due_at=NOW)
    stale = FollowUp.get_by_id(first.id)
    complete_followup(first, "signed_up", secretary, NOW)
    with pytest.raises(FollowUpError) as refused:
        complete_followup(stale, "not_reached", secretary, NOW, reschedule_at=NOW + timedelta(days=1))
    assert refused.value.code == "already_done"


def test_a_secretary_may_not_complete_someone_elses_followup_but_the_lead_may(staff):
    other = make.user("secretary")
    followup = make.followup(make.prospect(other, at=YESTERDAY), other, due_at=NOW)
    with pytest.raises(FollowUpError) as refused:
        complete_followup(followup, "signed_up", staff["secretary"], NOW)
    assert refused.value.code == "forbidden"
    assert FollowUp.get_by_id(followup.id).state == "planned"
    complete_followup(followup, "signed_up", staff["lead"], NOW)


# --- over HTTP ---------------------------------------------------------------------------------------------

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial", "HX-Target": "li#followup-1"}


@pytest.fixture
def secretary_client(app, client, make_user):
    user = make_user("secretary")
    login(client, user)
    client.user = user
    return client


def _setup(app, owner, type_name=FIRST):
    with app.test_request_context(), database.connection_context():
        prospect = make.prospect(owner, at=YESTERDAY)
        followup = FollowUp.create(prospect=prospect, type=followup_type(type_name), owner=owner,
                                   due_at=utcnow() - timedelta(hours=1), value="warm")
        return prospect.id, followup.id


def _state(app, followup_id):
    with app.app_context(), database.connection_context():
        followup = FollowUp.get_by_id(followup_id)
        return followup.state, followup.outcome, Prospect.get_by_id(followup.prospect_id).outcome


def _later(days=2) -> str:
    return (utcnow() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def _form(app, outcome):
    with app.app_context(), database.connection_context():
        return {"not_reached": {"reschedule_at": _later()},
                "signed_up": {},
                "next_step": {"next_type": followup_type(NOT_FIRST).id, "next_due_at": _later()},
                "not_interested": {"lost_reason": LostReason.get(LostReason.code == "other").id}}[outcome]


@pytest.mark.parametrize("outcome, state_after", [
    ("not_reached", "open"), ("signed_up", "won"), ("next_step", "open"), ("not_interested", "lost")])
def test_each_outcome_through_the_form_without_javascript(app, secretary_client, outcome, state_after):
    _, followup_id = _setup(app, secretary_client.user)
    response = secretary_client.post(f"/followups/{followup_id}/complete",
                                     data={"outcome": outcome, **_form(app, outcome)})
    assert response.status_code == 302 and response.location.endswith("/my-day")
    assert _state(app, followup_id) == ("done", outcome, state_after)


def test_a_secretary_gets_403_for_someone_elses_followup_and_nothing_changes(app, secretary_client, make_user):
    _, followup_id = _setup(app, make_user("secretary"))
    assert secretary_client.get(f"/followups/{followup_id}/complete?outcome=signed_up").status_code == 403
    response = secretary_client.post(f"/followups/{followup_id}/complete", data={"outcome": "signed_up"})
    assert response.status_code == 403
    assert _state(app, followup_id) == ("planned", None, "open")


def test_an_unassigned_followup_may_be_completed_by_a_secretary(app, secretary_client):
    _, followup_id = _setup(app, None)
    response = secretary_client.post(f"/followups/{followup_id}/complete", data={"outcome": "signed_up"})
    assert response.status_code == 302 and _state(app, followup_id)[0] == "done"


def test_a_past_date_re_renders_the_confirm_form_with_422(app, secretary_client):
    _, followup_id = _setup(app, secretary_client.user)
    response = secretary_client.post(f"/followups/{followup_id}/complete", headers=HTMX,
                                     data={"outcome": "not_reached", "reschedule_at": "2020-01-01T10:00"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<li") and 'name="reschedule_at"' in body and "flash-error" in body
    assert _state(app, followup_id) == ("planned", None, "open")


def test_completing_twice_answers_409_the_second_time(app, secretary_client):
    _, followup_id = _setup(app, secretary_client.user)
    secretary_client.post(f"/followups/{followup_id}/complete", data={"outcome": "signed_up"})
    response = secretary_client.post(f"/followups/{followup_id}/complete", headers=HTMX,
                                     data={"outcome": "signed_up"})
    assert response.status_code == 409 and "flash-error" in response.get_data(as_text=True)


def test_two_clicks_with_htmx_first_the_confirm_fragment_then_the_completion(app, secretary_client):
    _, followup_id = _setup(app, secretary_client.user)
    # The page's row offers the four outcomes, each a link that works without JavaScript too.
    page = secretary_client.get("/my-day").get_data(as_text=True)
    assert f'hx-get="/followups/{followup_id}/complete?outcome=not_reached&amp;origin=myday"' in page
    # First click: the row comes back as the confirm form for that outcome (a fragment, not a page).
    first = secretary_client.get(f"/followups/{followup_id}/complete?outcome=not_reached", headers=HTMX)
    fragment = first.get_data(as_text=True)
    assert first.status_code == 200 and fragment.lstrip().startswith(f'<li class="followup-row')
    assert f'id="followup-{followup_id}"' in fragment and "<html" not in fragment
    assert 'name="reschedule_at"' in fragment and f'hx-post="/followups/{followup_id}/complete"' in fragment
    assert "HX-Request-Type" in first.headers.get("Vary", "")
    assert _state(app, followup_id) == ("planned", None, "open")
    # The same URL without htmx is a full page with the same form.
    full = secretary_client.get(f"/followups/{followup_id}/complete?outcome=not_reached").get_data(as_text=True)
    assert "<html" in full and 'name="reschedule_at"' in full
    # Second click: confirm. The row says it is done; the counts are swapped out of band, each named.
    second = secretary_client.post(f"/followups/{followup_id}/complete", headers=HTMX,
                                   data={"outcome": "not_reached", "reschedule_at": _later(), "origin": "myday"})
    body = second.get_data(as_text=True)
    assert second.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<li class="followup-row followup-done" id="followup-{followup_id}"')
    for key, count in (("overdue", 0), ("today", 0), ("abandoned", 0)):
        assert f'<span class="count" id="myday-count-{key}" hx-swap-oob="true">{count}</span>' in body
    assert _state(app, followup_id) == ("done", "not_reached", "open")


def test_a_followup_rescheduled_to_later_today_is_appended_to_todays_list(app, secretary_client):
    _, followup_id = _setup(app, secretary_client.user)
    now = utcnow()
    # Later today: five minutes on, or the day's last second when midnight is nearer.
    soon = min(now + timedelta(minutes=5), datetime.combine(now.date(), time(23, 59, 59)))
    response = secretary_client.post(f"/followups/{followup_id}/complete", headers=HTMX, data={
        "outcome": "not_reached", "reschedule_at": soon.strftime("%Y-%m-%dT%H:%M:%S"), "origin": "myday"})
    body = response.get_data(as_text=True)
    assert '<hx-partial hx-target="#myday-list-today" hx-swap="beforeend">' in body
    assert '<span class="count" id="myday-count-today" hx-swap-oob="true">1</span>' in body


def test_cancel_brings_back_the_row_with_its_outcome_buttons(app, secretary_client):
    _, followup_id = _setup(app, secretary_client.user)
    row = secretary_client.get(f"/followups/{followup_id}?origin=myday", headers=HTMX).get_data(as_text=True)
    assert row.lstrip().startswith("<li") and "outcome=signed_up" in row and "<form" not in row


# --- planning from the prospect's record ---------------------------------------------------------------

def test_the_record_shows_the_followups_section_with_the_plan_form(app, secretary_client):
    prospect_id, _ = _setup(app, secretary_client.user)
    page = secretary_client.get(f"/prospects/{prospect_id}").get_data(as_text=True)
    assert 'id="prospect-followups"' in page and f'action="/prospects/{prospect_id}/followups"' in page
    assert "outcome=not_reached&amp;origin=prospect" in page


def test_planning_by_hand_over_http(app, secretary_client):
    with app.test_request_context(), database.connection_context():
        prospect_id = make.prospect(secretary_client.user, at=YESTERDAY).id
        type_id = followup_type(FIRST).id
    data = {"type": type_id, "owner": secretary_client.user.id, "due_at": _later(1), "value": "hot",
            "comment": "Après 17 h"}
    response = secretary_client.post(f"/prospects/{prospect_id}/followups", data=data, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section class="card followups-section"')
    assert response.headers["HX-Retarget"] == "#prospect-followups"
    refused = secretary_client.post(f"/prospects/{prospect_id}/followups",
                                    data={**data, "due_at": "2020-01-01T09:00"})
    assert refused.status_code == 422 and "<html" in refused.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert [(f.value, f.comment) for f in FollowUp.select()] == [("hot", "Après 17 h")]


def test_completing_from_the_record_re_renders_the_record_section(app, secretary_client):
    prospect_id, followup_id = _setup(app, secretary_client.user)
    response = secretary_client.post(f"/followups/{followup_id}/complete", headers=HTMX, data={
        "outcome": "next_step", "origin": "prospect", **_form(app, "next_step")})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#prospect-followups"
    assert body.lstrip().startswith('<section class="card followups-section" id="prospect-followups"')
    assert NOT_FIRST in body                          # the next step, now planned, is listed
    # Without JavaScript, the record is where the person comes back to (here: already done, with a message).
    again = secretary_client.post(f"/followups/{followup_id}/complete",
                                  data={"outcome": "signed_up", "origin": "prospect"})
    assert again.status_code == 302 and again.location.endswith(f"/prospects/{prospect_id}")
