"""New contact in headless Chromium (issue 12, items 4 and 5): the caller is looked up as her phone is
typed and her call logged in one step; the same-phone question; a contact made from the board's
dialog is on the board at once."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests import factories as make
from tests.conftest import make_app
from tests.servers import LiveServer
from tests.test_browser import sign_in
from webapp.models import FollowUp, Interaction, Prospect, database
from webapp.services.prospects import ContactInput, record_contact
from webapp.timeutil import utcnow

pytestmark = pytest.mark.browser


@pytest.fixture
def live(sqlite_url):
    # A board poll far away: what appears on the board comes from the answer, not from the poll.
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True, BOARD_POLL_SECONDS=600)
    with app.test_request_context(), database.connection_context():
        make.user("secretary", email="codou@clinic.test", name="Codou Ndiaye")
        awa = record_contact(ContactInput(first_name="Awa", last_name="Diagne", phone="77 123 45 67",
                                          note="Premier appel"), None).prospect
    with LiveServer(app) as server:
        server.app = app
        server.awa_id = awa.id
        yield server


def count(live, query):
    with live.app.app_context(), database.connection_context():
        return query()


def test_typing_a_known_callers_phone_shows_her_and_logs_the_call_in_one_step(page, live):
    sign_in(page, live)
    page.goto(f"{live.url}/prospects/new")
    phone = page.get_by_label("Téléphone")
    phone.press_sequentially("77 123 4", delay=30)
    page.wait_for_timeout(600)
    expect(page.locator("#caller-lookup")).to_be_empty()       # not a whole number yet
    phone.press_sequentially("5 67", delay=30)
    lookup = page.locator("#caller-lookup")
    expect(lookup).to_contain_text("Awa Diagne")
    expect(lookup).to_contain_text("prospect, Nouveau")
    page.get_by_label("Note").fill("Rappelle pour confirmer le RDV")
    lookup.get_by_role("button", name="noter l'appel sur sa fiche ?").click()
    expect(page.get_by_role("heading", name="Déjà connu : aucun doublon créé")).to_be_visible()
    assert count(live, lambda: Prospect.select().count()) == 1
    latest = count(live, lambda: Interaction.select().order_by(Interaction.id.desc()).get())
    assert latest.prospect_id == live.awa_id and latest.note == "Rappelle pour confirmer le RDV"


def test_a_daughter_on_her_mothers_phone_is_asked_then_created_as_another_person(page, live):
    sign_in(page, live)
    page.goto(f"{live.url}/prospects/new")
    page.get_by_label("Nom", exact=True).fill("Diagne")
    page.get_by_label("Prénom").fill("Fatou")
    page.get_by_label("Téléphone").fill("77 123 45 67")
    page.get_by_label("Demande", exact=True).select_option("appointment")
    page.get_by_role("button", name="Enregistrer").click()
    question = page.get_by_role("alert")
    expect(question).to_contain_text("Même personne ? Rien n'est encore enregistré.")
    assert count(live, lambda: Prospect.select().count()) == 1
    question.get_by_role("button", name="Une autre personne").click()
    expect(page.get_by_role("heading", name="Nouveau prospect créé")).to_be_visible()
    expect(page.get_by_text("qui partage ces coordonnées avec")).to_be_visible()
    assert count(live, lambda: Prospect.select().where(Prospect.first_name == "Fatou").count()) == 1


def test_a_contact_created_from_the_boards_dialog_is_on_the_board_at_once(page, live):
    # A full first column: 35 prospects with something planned, before the new one (nothing planned,
    # "à faire", so last of the column's order and beyond the 30 cards a column first shows).
    with live.app.test_request_context(), database.connection_context():
        for n in range(35):
            planned = record_contact(ContactInput(first_name="Prospect", last_name=f"N{n:02d}",
                                                  phone=f"77 500 00 {n:02d}"), None).prospect
            FollowUp.create(prospect=planned.id, due_at=utcnow() + timedelta(days=1, minutes=n))
        Prospect.update(next_action_at=utcnow() + timedelta(days=1)).where(Prospect.last_name != "").execute()
    sign_in(page, live)
    expect(page.locator(".board-card")).to_have_count(30)
    page.get_by_role("link", name="Nouveau contact").click()
    dialog = page.locator("#app-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Nom", exact=True).fill("Ndour")
    dialog.get_by_label("Prénom").fill("Mariama")
    dialog.get_by_label("Téléphone").fill("78 900 00 01")
    dialog.get_by_label("Demande", exact=True).select_option("quote")
    dialog.get_by_role("button", name="Enregistrer").click()
    expect(dialog.get_by_text("Nouveau prospect créé")).to_be_visible()
    card = page.locator(".board-card", has_text="Mariama Ndour")
    expect(card).to_have_count(1, timeout=5_000)
    page.locator("#app-dialog").get_by_role("button", name="Fermer").click()
    expect(card).to_be_in_viewport()
