"""The words a person reads (issue 12, item 11): one word for one thing, in French and in English.

The activity status "lost" (no news) is not the lost stage; the reason for contact ("Demande") is not the
lost reason ("Motif de perte"); a follow-up's value is a temperature; "signed up" is said the way the
prospect's request ends; dates are day first in both languages.
"""
from datetime import datetime, timedelta
from html import unescape

import pytest

from webapp.models import FollowUp, FollowUpType, Prospect
from webapp.services.prospects import ContactInput, record_contact
from webapp.timeutil import utcnow


@pytest.fixture
def lead(as_role):
    return as_role("lead")


def english(client):
    client.post("/language", data={"locale": "en"})
    return client


def new_prospect(db, owner, qualification=None, **changes):
    def make():
        prospect = record_contact(ContactInput(last_name="Diouf", first_name="Aïda", phone="77 300 00 01",
                                               qualification=qualification, temperature="hot"), owner).prospect
        if changes:
            Prospect.update(**changes).where(Prospect.id == prospect.id).execute()
        return prospect
    return db(make)


def plan(db, prospect, owner, due_at, value="hot"):
    return db(lambda: FollowUp.create(prospect=prospect.id, owner=owner, due_at=due_at, value=value,
                                      type=FollowUpType.select().order_by(FollowUpType.id).first()))


def page(client, url) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, url
    return unescape(answer.get_data(as_text=True))


def card(html: str, prospect) -> str:
    start = html.index(f'id="card-{prospect.id}"')
    return html[start:html.index("</li>", start)]


# --- "Perdu" is a stage; the activity status is "Sans nouvelles" ------------------------------------

def test_the_activity_status_lost_reads_no_news_on_the_board_in_french(lead, db):
    silent = new_prospect(db, lead.user, activity_status="lost")

    html = page(lead, "/board")

    assert "Sans nouvelles" in card(html, silent) and "Perdu" not in card(html, silent)
    activity_filter = html[html.index('id="board-activity_status"'):html.index("</select>", html.index('id="board-activity_status"'))]
    assert "Sans nouvelles" in activity_filter and "Perdu" not in activity_filter


def test_the_activity_status_lost_reads_no_news_in_english(lead, db):
    silent = new_prospect(db, lead.user, activity_status="lost")

    html = page(english(lead), "/board")

    assert "No news" in card(html, silent) and "Lost" not in card(html, silent)


# --- the reason for contact and the lost reason -------------------------------------------------------

def test_the_reason_for_contact_is_the_request_and_the_lost_reason_has_its_own_words(lead):
    form = page(lead, "/prospects/new")
    board = page(lead, "/board")

    assert '<label for="qualification">Demande</label>' in form and ">Motif<" not in form
    assert "Motif de perte" in board and ">Motif<" not in board
    assert '<label for="board-qualification">Demande</label>' in board


def test_the_two_reasons_in_english(lead):
    english(lead)
    form = page(lead, "/prospects/new")
    board = page(lead, "/board")

    assert '<label for="qualification">Request</label>' in form
    assert "Lost reason" in board and '<label for="board-qualification">Request</label>' in board
    assert ">Reason<" not in form + board


# --- a follow-up's value is a temperature -------------------------------------------------------------

def test_a_followup_says_temperature_not_value(lead, db):
    prospect = new_prospect(db, lead.user, qualification="quote")
    plan(db, prospect, lead.user, utcnow() - timedelta(days=2), value="warm")

    day = page(lead, "/my-day")
    record = page(lead, f"/prospects/{prospect.id}")

    assert "Température : Tiède" in day and "Valeur" not in day
    assert f'<label for="plan-value-{prospect.id}">Température</label>' in record
    assert "Valeur du prospect" not in record


# --- "signed up", said the way the request ends ------------------------------------------------------

@pytest.mark.parametrize("qualification, french, in_english", [
    ("appointment", "RDV honoré", "Came to the appointment"),
    ("quote", "Devis accepté", "Quote accepted"),
    ("programme", "Inscrit(e)", "Signed up"),
    (None, "Converti", "Converted"),
])
def test_the_converted_outcome_is_labelled_by_what_was_asked(lead, db, qualification, french, in_english):
    prospect = new_prospect(db, lead.user, qualification=qualification)
    followup = plan(db, prospect, lead.user, utcnow() - timedelta(days=2))

    html = page(lead, "/my-day")
    row = html[html.index(f'id="followup-{followup.id}"'):]
    buttons = row[row.index("followup-outcomes"):row.index("</li>")]
    assert f">{french}</a>" in buttons
    if qualification != "programme":
        assert "Inscrit" not in buttons

    html = page(english(lead), "/my-day")
    row = html[html.index(f'id="followup-{followup.id}"'):]
    assert f">{in_english}</a>" in row[row.index("followup-outcomes"):row.index("</li>")]


def test_the_confirmation_and_the_message_use_the_same_words(lead, db):
    prospect = new_prospect(db, lead.user, qualification="appointment")
    followup = plan(db, prospect, lead.user, utcnow() - timedelta(days=2))
    headers = {"HX-Request": "true", "HX-Request-Type": "partial"}

    confirm = unescape(lead.get(f"/followups/{followup.id}/complete?outcome=signed_up&origin=myday",
                                headers=headers).get_data(as_text=True))
    done = unescape(lead.post(f"/followups/{followup.id}/complete", headers=headers,
                              data={"outcome": "signed_up", "origin": "myday"}).get_data(as_text=True))

    assert "<strong>RDV honoré</strong>" in confirm
    assert "Aïda Diouf : RDV honoré, converti." in done


# --- dates: day first in both languages -----------------------------------------------------------------

def test_dates_are_day_first_in_english_as_in_french(lead, db):
    prospect = new_prospect(db, lead.user)
    plan(db, prospect, lead.user, datetime(utcnow().year + 1, 3, 12, 14, 30))  # Dakar is UTC
    year = utcnow().year + 1

    french = page(lead, f"/prospects/{prospect.id}")
    in_english = page(english(lead), f"/prospects/{prospect.id}")

    assert f"12/03/{year} 14:30" in french
    assert f"12/03/{year}, 14:30" in in_english
    assert f"3/12/{year % 100}" not in in_english  # the American month first
