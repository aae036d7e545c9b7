"""History an auditor can follow (issue 13, ISO 9001 §7.5): one chronological timeline of every kind of
entry with who and when, a completed follow-up recording the contact it was, reopening confirmed and kept."""
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from playhouse.migrations import Runner

from tests import factories as make
from tests.conftest import login
from webapp.db import MIGRATIONS_DIR, bind
from webapp.models import (ActionCode, FollowUp, FollowUpType, Interaction, LostReason, Prospect,
                           StageChange, database)
from webapp.services.board import move
from webapp.services.followups import FollowUpError, awaiting_answer, complete_followup
from webapp.services.prospects import (ContactInput, add_interaction, change_temperature, record_contact,
                                       set_do_not_contact)
from webapp.services.sweep import _interaction_facts, sweep_activity
from webapp.services.timeline import SOURCES, source, timeline
from webapp.timeutil import utcnow

T0 = datetime(2026, 11, 2, 9, 0)  # a Monday; Dakar is UTC all year
# A hot call asking for prices, the first contact of most prospects here.
CALL = {"first_name": "Awa", "temperature": "hot", "note": "Demande de tarifs"}


def code(value: str) -> ActionCode:
    return ActionCode.get(ActionCode.code == value)


def fresh(prospect) -> Prospect:
    return Prospect.get_by_id(prospect.id)


# --- the timeline ------------------------------------------------------------------------------------------

def build_history(secretary, lead):
    """A prospect's life, one step a day: every kind of entry the timeline shows."""
    day = lambda n: T0 + timedelta(days=n)  # noqa: E731
    prospect = make.prospect(secretary, at=T0, **CALL)                                        # day 0
    change_temperature(fresh(prospect), "warm", "Attend l'avis de son mari", lead, now=day(1))
    first = make.followup(prospect, secretary, due_at=T0)
    complete_followup(first, "next_step", secretary, day(2), next_type=FollowUpType.get(
        FollowUpType.name == "Envoi de documentation"), next_due_at=day(3), note="Intéressée, veut la brochure")
    move(prospect.id, make.stage("open", 1), secretary, version=fresh(prospect).version, now=day(3))
    sweep_activity(day(40))                                                                 # warm: dormant
    set_do_not_contact(fresh(prospect), True, "Ne souhaite plus d'appels", lead, now=day(41))
    reason = LostReason.get(LostReason.code == "not_interested")
    move(prospect.id, make.stage("lost"), lead, version=fresh(prospect).version, lost_reason=reason, now=day(42))
    move(prospect.id, make.stage("open"), lead, version=fresh(prospect).version, may_reopen=True,
         reopen_confirmed=True, now=day(43))
    move(prospect.id, make.stage("won"), secretary, version=fresh(prospect).version, confirmed=True, now=day(44))
    return prospect


def test_the_timeline_lists_every_kind_of_entry_oldest_first_with_who_and_when(any_ctx):
    secretary, lead = make.user("secretary"), make.user("lead")
    prospect = build_history(secretary, lead)
    entries = timeline(prospect.id)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    described = [(e.kind, e.at.date().day, e.user.id if e.user else None) for e in entries]
    assert described == [
        ("temperature", 2, secretary.id),      # created as hot
        ("interaction", 2, secretary.id),      # the call that created it
        ("temperature", 3, lead.id),           # hot -> warm, with its reason
        ("followup", 4, secretary.id),         # its outcome, with its note and the contact it was
        ("stage", 5, secretary.id),            # Nouveau -> En qualification
        ("activity", 12, None),                # computed by the sweep (normal -> dormant)
        ("consent", 13, lead.id),
        ("stage", 14, lead.id),                # lost, with its reason
        ("stage", 15, lead.id),                # reopened
        ("stage", 16, secretary.id),           # converted
    ]
    done, lost, reopened, converted = entries[3].item, entries[7].item, entries[8].item, entries[9].item
    assert done.outcome == "next_step" and done.outcome_note == "Intéressée, veut la brochure"
    assert done.interaction.action_code.code == "APL" and done.interaction.reached
    assert (lost.to_outcome, lost.lost_reason.code, lost.from_stage.name) == ("lost", "not_interested",
                                                                               "En qualification")
    assert reopened.reopened and reopened.from_stage.kind == "lost" and reopened.to_outcome == "open"
    assert converted.to_outcome == "won" and not converted.reopened


def test_a_new_kind_of_entry_is_one_registered_source(ctx):
    secretary = make.user("secretary")
    prospect = make.prospect(secretary, at=T0, **CALL)
    merged = SimpleNamespace(id=7)

    @source("merge", rank=5)
    def _merges(prospect_id):
        return [(T0 + timedelta(minutes=1), secretary, merged)] if prospect_id == prospect.id else []
    try:
        entries = timeline(prospect.id)
        assert [e.kind for e in entries] == ["temperature", "interaction", "merge"]
        assert entries[-1].item is merged and entries[-1].template == "prospects/timeline/_merge.html"
    finally:
        SOURCES.pop("merge")  # the registry is module-global


def test_the_record_page_shows_the_history_in_words_oldest_first(app, client, make_user):
    with app.test_request_context(), database.connection_context():
        secretary, lead = make.user("secretary"), make.user("lead")
        prospect = build_history(secretary, lead)
    login(client, lead)
    page = client.get(f"/prospects/{prospect.id}").get_data(as_text=True)
    timeline_html = page[page.index('id="timeline"'):]
    in_order = ["À la création : Chaud", "Demande de tarifs", "Attend l&#39;avis de son mari",
                "Intéressée, veut la brochure", "Nouveau → En qualification", "Normal → En veille",
                "Ne souhaite plus d&#39;appels", "motif : Pas intéressé", "Rouvert", "Converti"]
    positions = [timeline_html.index(text) for text in in_order]
    assert positions == sorted(positions)
    assert lead.name in timeline_html and secretary.name in timeline_html and "automatique" in timeline_html
    # The board's side panel shows the same history.
    panel = client.get(f"/prospects/{prospect.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in panel and 'id="timeline"' in panel and "Rouvert" in panel


def test_a_long_history_keeps_its_latest_entries_in_view_and_the_earlier_ones_one_click_away(app, client,
                                                                                            make_user):
    with app.test_request_context(), database.connection_context():
        owner = make.user("secretary")
        prospect = make.prospect(owner, at=T0, **CALL)
        for n in range(20):
            add_interaction(fresh(prospect), channel="phone", direction="out", note=f"Appel {n:02d}", user=owner,
                            now=T0 + timedelta(hours=n + 1))
    login(client, owner)
    page = client.get(f"/prospects/{prospect.id}").get_data(as_text=True)
    earlier, latest = page.split('<details class="timeline-earlier">')[1].split("</details>")
    assert "Appel 00" in earlier and "Appel 10" not in earlier and "Appel 19" in latest


# --- completing a follow-up records the contact it was -----------------------------------------------------

def test_completing_a_followup_with_a_note_logs_one_interaction_spends_the_budget_and_resets_activity(ctx):
    secretary = make.user("secretary")
    prospect = make.prospect(secretary, **CALL, at=T0 - timedelta(days=20))
    Prospect.update(activity_status="dormant").where(Prospect.id == prospect.id).execute()
    before = fresh(prospect)
    planned = make.followup(prospect, secretary, due_at=T0)
    complete_followup(planned, "next_step", secretary, T0, next_type=FollowUpType.get(
        FollowUpType.name == "Envoi de documentation"), next_due_at=T0 + timedelta(days=1),
        note="  Rappeler après 17 h  ")
    after, done = fresh(prospect), FollowUp.get_by_id(planned.id)
    logged = Interaction.select().where(Interaction.prospect == prospect.id).order_by(Interaction.id)[-1]
    assert Interaction.select().where(Interaction.prospect == prospect.id).count() == 2   # the creation's + this
    assert done.interaction_id == logged.id and done.outcome_note == "Rappeler après 17 h"
    assert (logged.note, logged.action_code.code, logged.channel, logged.direction, logged.user_id,
            logged.occurred_at, logged.reached) == ("Rappeler après 17 h", "APL", "phone", "out", secretary.id,
                                                    T0, True)
    assert after.actions_left == before.actions_left - 1
    assert after.interaction_count == before.interaction_count + 1
    assert (after.activity_status, after.last_interaction_at) == ("normal", T0)


def test_not_reached_is_an_attempt_that_spends_the_budget_but_keeps_the_activity_clock(ctx):
    secretary = make.user("secretary")
    prospect = make.prospect(secretary, **CALL, at=T0 - timedelta(days=20))
    Prospect.update(activity_status="dormant").where(Prospect.id == prospect.id).execute()
    before = fresh(prospect)
    complete_followup(make.followup(prospect, secretary, due_at=T0), "not_reached", secretary, T0,
                      reschedule_at=T0 + timedelta(days=1), contact=code("MSG"), note="Messagerie")
    after = fresh(prospect)
    attempt = Interaction.get(Interaction.action_code == code("MSG").id)
    assert not attempt.reached and attempt.note == "Messagerie"
    assert after.actions_left == before.actions_left - 1          # seed 003: an action of the budget
    assert (after.activity_status, after.last_interaction_at) == ("dormant", before.last_interaction_at)


def test_a_missed_appointment_records_no_contact_unless_one_is_chosen(ctx):
    secretary = make.user("secretary")
    prospect = make.prospect(secretary, at=T0, **CALL)
    before = fresh(prospect)
    missed = make.followup(prospect, secretary, type_name="Rendez-vous", due_at=T0)
    complete_followup(missed, "not_reached", secretary, T0, reschedule_at=T0 + timedelta(days=2), note="Absente")
    assert FollowUp.get_by_id(missed.id).interaction_id is None
    assert fresh(prospect).interaction_count == before.interaction_count
    # The next one took place: a visit, which the budget does not count (seed 003 counts our actions).
    again = FollowUp.get((FollowUp.prospect == prospect.id) & (FollowUp.state == "planned"))
    complete_followup(again, "signed_up", secretary, T0 + timedelta(days=2))
    visit = FollowUp.get_by_id(again.id).interaction
    assert (visit.action_code.code, visit.channel, visit.direction) == ("VISITE", "visit", "in")
    assert fresh(prospect).actions_left == before.actions_left


def test_a_refused_or_repeated_completion_logs_no_contact(ctx):
    secretary = make.user("secretary")
    prospect = make.prospect(secretary, at=T0, **CALL)
    count = lambda: Interaction.select().where(Interaction.prospect == prospect.id).count()  # noqa: E731
    before = count()
    planned = make.followup(prospect, secretary, due_at=T0)
    with pytest.raises(FollowUpError):
        complete_followup(planned, "not_interested", secretary, T0, note="Sans motif")  # no lost reason
    assert count() == before and fresh(prospect).actions_used == 0
    stale = FollowUp.get_by_id(planned.id)
    complete_followup(planned, "signed_up", secretary, T0)
    with pytest.raises(FollowUpError):
        complete_followup(stale, "signed_up", secretary, T0)
    assert count() == before + 1


def test_a_call_nobody_answered_is_neither_the_first_answer_nor_an_interaction_for_the_rules(ctx):
    secretary = make.user("secretary")
    request = record_contact(ContactInput(first_name="Awa", last_name="Web", email="awa@example.sn",
                                          channel="webform", temperature="hot", owner=secretary),
                             None, now=T0).prospect
    call_back = make.followup(request, secretary, due_at=T0 + timedelta(hours=2))
    complete_followup(call_back, "not_reached", secretary,
                      T0 + timedelta(hours=3), reschedule_at=T0 + timedelta(days=1))
    assert [a.prospect.id for a in awaiting_answer(T0 + timedelta(hours=4), "Africa/Dakar")] == [request.id]
    first, last, _, last_out, answered = _interaction_facts(request.id, request.id, T0 + timedelta(hours=4))[
        request.id]
    assert (last, last_out, answered) == (T0, None, None)


# --- over HTTP: Ma journée and the record ------------------------------------------------------------------

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


@pytest.fixture
def secretary_client(app, client):
    with app.test_request_context(), database.connection_context():
        user = make.user("secretary")
    login(client, user)
    client.user = user
    return client


def _setup(app, owner, type_name="Rappel de qualification"):
    with app.test_request_context(), database.connection_context():
        prospect = make.prospect(owner, **CALL, at=utcnow() - timedelta(days=1))
        followup = make.followup(prospect, owner, type_name=type_name, due_at=utcnow() - timedelta(hours=1))
        return prospect.id, followup.id


def test_the_confirm_form_offers_the_usual_contact_and_a_note(app, secretary_client):
    _, followup_id = _setup(app, secretary_client.user)
    form = secretary_client.get(f"/followups/{followup_id}/complete?outcome=signed_up", headers=HTMX).get_data(
        as_text=True)
    assert 'name="action_code"' in form and 'name="note"' in form
    with app.app_context(), database.connection_context():
        usual = code("APL").id
    assert f'<option value="{usual}" selected>APL — Appel</option>' in form


def test_a_refused_confirmation_keeps_the_chosen_contact_and_the_note(app, secretary_client):
    _, followup_id = _setup(app, secretary_client.user)
    with app.app_context(), database.connection_context():
        msg = code("MSG").id
    response = secretary_client.post(f"/followups/{followup_id}/complete", headers=HTMX, data={
        "outcome": "not_reached", "reschedule_at": "2020-01-01T10:00", "action_code": msg, "note": "Répondeur"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<option value="{msg}" selected>' in body and ">Répondeur</textarea>" in body


def test_completing_from_the_record_with_a_note_updates_its_history_out_of_band(app, secretary_client):
    prospect_id, followup_id = _setup(app, secretary_client.user)
    with app.app_context(), database.connection_context():
        sms = code("SMS").id
        reason = LostReason.get(LostReason.code == "financing").id
    response = secretary_client.post(f"/followups/{followup_id}/complete", headers=HTMX, data={
        "outcome": "not_interested", "lost_reason": reason, "origin": "prospect", "action_code": sms,
        "note": "Trop cher pour elle"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<section class="timeline" id="timeline" aria-labelledby="timeline-title" hx-swap-oob="true">' in body
    history = body[body.index('id="timeline"'):]
    assert "Trop cher pour elle" in history and "SMS" in history and "motif : Financement" in history
    assert '<dl class="facts" id="prospect-facts" hx-swap-oob="true">' in body      # actions left changed
    assert response.headers["HX-Trigger"] == "board-changed"                        # the card too
    with app.app_context(), database.connection_context():
        logged = FollowUp.get_by_id(followup_id).interaction
        assert (logged.action_code_id, logged.note) == (sms, "Trop cher pour elle")


def test_choosing_no_contact_on_my_day_logs_none(app, secretary_client):
    prospect_id, followup_id = _setup(app, secretary_client.user)
    response = secretary_client.post(f"/followups/{followup_id}/complete", data={
        "outcome": "signed_up", "action_code": "", "note": "Inscrite à l'accueil"})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        done = FollowUp.get_by_id(followup_id)
        assert done.interaction_id is None and done.outcome_note == "Inscrite à l'accueil"
        assert Interaction.select().where(Interaction.prospect == prospect_id).count() == 1  # the creation's


# --- the migration -----------------------------------------------------------------------------------------

def test_migration_0013_backfills_past_moves_outcomes_and_goes_down_again(db_url):
    db = bind(db_url)
    with database.connection_context():
        runner = Runner(db, str(MIGRATIONS_DIR))
        runner.up(target="0007_inbound_request_link_indexes")
        for name, position, kind in (("Nouveau", 0, "open"), ("Perdu", 1, "lost")):
            db.execute_sql("INSERT INTO stage (name, position, kind, retired) VALUES (%s, %s, %s, %s)"
                           .replace("%s", db.param), (name, position, kind, False))
        db.execute_sql(f"""INSERT INTO prospect (first_name, last_name, phone_raw, phone_valid, channel,
            origin_detail, temperature, activity_status, stage_id, outcome, do_not_contact, action_budget,
            actions_used, interaction_count, created_at, updated_at, version, search_text)
            VALUES ('A', 'B', '', {db.param}, 'phone', '', 'hot', 'normal', 2, 'lost', {db.param}, 15, 0, 0,
            '2026-01-05 10:00:00', '2026-01-05 10:00:00', 1, '')""", (True, False))
        db.execute_sql("INSERT INTO stage_change (prospect_id, from_stage_id, to_stage_id, changed_at) "
                       "VALUES (1, 1, 2, '2026-01-06 10:00:00')")
        runner.up()
        assert db.execute_sql("SELECT from_outcome, to_outcome FROM stage_change").fetchall() == [("open", "lost")]
        runner.down(target="0013_history")
        columns = {c.name for c in db.get_columns("stage_change")}
        assert "to_outcome" not in columns and "interaction_id" not in {c.name for c in db.get_columns("follow_up")}
