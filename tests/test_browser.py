"""Real-browser tests: headless Chromium (Debian's) driven by Playwright against a live server."""
import pytest
from playwright.sync_api import expect

from tests import factories as make
from tests.conftest import PASSWORD, make_app
from tests.servers import LiveServer
from webapp.models import Interaction, Prospect, database

pytestmark = pytest.mark.browser


@pytest.fixture
def live(sqlite_url):
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.app_context(), database.connection_context():
        make.user("secretary", email="codou@clinic.test", name="Codou Ndiaye")
    with LiveServer(app) as server:
        server.app = app
        yield server


def sign_in(page, live):
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mail").fill("codou@clinic.test")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Tableau")).to_be_visible()


def test_secretary_logs_in_records_a_caller_and_finds_her_in_the_list(page, live):
    sign_in(page, live)
    page.goto(f"{live.url}/prospects/new")
    page.get_by_label("Nom", exact=True).fill("Sène")
    page.get_by_label("Prénom").fill("Ndèye")
    page.get_by_label("Téléphone").fill("77 654 32 10")
    page.get_by_label("Demande").select_option("appointment")
    page.get_by_text("Chaud", exact=True).click()
    page.get_by_label("Note").fill("Souhaite un RDV de suivi de grossesse")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", name="Nouveau prospect créé")).to_be_visible()

    page.goto(f"{live.url}/prospects")
    page.get_by_label("Rechercher").fill("ndeye sene")
    expect(page.get_by_role("link", name="Ndèye Sène")).to_be_visible()
    expect(page.get_by_text("1 prospect")).to_be_visible()
    with live.app.app_context(), database.connection_context():
        prospect = Prospect.get()
        assert prospect.phone == "+221776543210" and prospect.temperature == "hot"


def test_an_interaction_is_added_in_place_with_htmx(page, live):
    sign_in(page, live)
    page.goto(f"{live.url}/prospects/new")
    page.get_by_label("Nom", exact=True).fill("Fall")
    page.get_by_label("Téléphone").fill("78 111 22 33")
    page.get_by_label("Demande").select_option("quote")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("link", name="Ouvrir Fall").click()
    url = page.url
    page.get_by_label("Note").fill("Rappel : envoyer les tarifs")
    page.get_by_role("button", name="Ajouter à l'historique").click()
    expect(page.get_by_text("Rappel : envoyer les tarifs")).to_be_visible()
    assert page.url == url  # swapped in place, no navigation
    expect(page.get_by_label("Note")).to_have_value("")
    with live.app.app_context(), database.connection_context():
        assert Interaction.select().count() == 2


def test_a_double_click_on_record_records_the_contact_once(page, live):
    sign_in(page, live)
    page.goto(f"{live.url}/prospects/new")
    page.get_by_label("Nom", exact=True).fill("Diagne")
    page.get_by_label("Téléphone").fill("77 321 54 76")
    page.get_by_label("Demande", exact=True).select_option("quote")
    page.get_by_role("button", name="Enregistrer").dblclick()
    expect(page.get_by_role("heading", name="Nouveau prospect créé")).to_be_visible()
    page.wait_for_timeout(300)  # a second request, had one gone, would have landed by now
    with live.app.app_context(), database.connection_context():
        assert Prospect.select().count() == 1 and Interaction.select().count() == 1


def test_a_double_click_on_add_to_timeline_adds_one_entry(page, live):
    sign_in(page, live)
    page.goto(f"{live.url}/prospects/new")
    page.get_by_label("Nom", exact=True).fill("Faye")
    page.get_by_label("Téléphone").fill("78 222 33 44")
    page.get_by_label("Demande", exact=True).select_option("quote")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("link", name="Ouvrir Faye").click()
    page.get_by_label("Note").fill("Rappelée, pas de réponse")
    page.get_by_role("button", name="Ajouter à l'historique").dblclick()
    expect(page.get_by_text("Rappelée, pas de réponse")).to_have_count(1)
    page.wait_for_timeout(300)
    expect(page.get_by_text("Rappelée, pas de réponse")).to_have_count(1)
    with live.app.app_context(), database.connection_context():
        assert Interaction.select().count() == 2
