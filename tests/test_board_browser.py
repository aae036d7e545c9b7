"""The board in headless Chromium: drag and drop, the lost dialog, snap-back, live updates, the menu."""
import pytest
from playwright.sync_api import expect

from tests import factories as make
from tests.conftest import PASSWORD, make_app
from tests.servers import LiveServer
from webapp.models import LostReason, Prospect, Stage, StageChange, database
from webapp.services.prospects import ContactInput, record_contact

pytestmark = pytest.mark.browser


@pytest.fixture
def board(sqlite_url):
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True, BOARD_POLL_SECONDS=1)
    with app.test_request_context(), database.connection_context():
        make.user("lead", email="fatou@clinic.test", name="Fatou Diallo")
        for n, name in enumerate(("Awa Diop", "Binta Fall", "Coumba Sow")):
            first, last = name.split()
            record_contact(ContactInput(first_name=first, last_name=last, phone=f"77 600 00 0{n}",
                                        temperature="hot"), None)
        stages = {s.kind + str(i): s for i, s in enumerate(Stage.select().order_by(Stage.position))}
    with LiveServer(app) as server:
        server.app = app
        server.stages = list(stages.values())
        yield server


def sign_in(page, board):
    page.goto(f"{board.url}/login")
    page.get_by_label("E-mail").fill("fatou@clinic.test")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Tableau")).to_be_visible()


def prospect(board, last_name):
    with board.app.app_context(), database.connection_context():
        return Prospect.get(Prospect.last_name == last_name)


def drag(page, card_selector, column_id):
    card = page.locator(card_selector).bounding_box()
    page.mouse.move(card["x"] + card["width"] - 12, card["y"] + 12)
    page.mouse.down()
    page.mouse.move(card["x"] + card["width"] + 20, card["y"] + 30, steps=5)  # the drag starts
    # measured once dragging: the folded won and lost columns have opened to take the drop
    page.locator(f"#cards-{column_id}").scroll_into_view_if_needed()
    target = page.locator(f"#cards-{column_id}").bounding_box()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 40, steps=20)
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 44, steps=5)
    page.mouse.up()


def stage_named(board, name):
    return next(s for s in board.stages if s.name == name)


def test_dragging_a_card_to_another_column_saves_the_move(page, board):
    sign_in(page, board)
    awa = prospect(board, "Diop")
    target = stage_named(board, "En qualification")
    drag(page, f"#card-{awa.id}", target.id)
    expect(page.locator(f"#cards-{target.id} #card-{awa.id}")).to_be_visible()
    expect(page.locator("#board-status")).to_contain_text("En qualification")
    expect(page.locator(f"#count-{target.id}")).to_have_text("1")
    assert prospect(board, "Diop").stage_id == target.id


def test_dropping_on_lost_asks_for_a_reason(page, board):
    sign_in(page, board)
    binta = prospect(board, "Fall")
    lost = stage_named(board, "Perdu")
    drag(page, f"#card-{binta.id}", lost.id)
    dialog = page.locator("#lost-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Motif de perte").select_option(label="Financement")
    dialog.get_by_role("button", name="Classer perdu").click()
    expect(page.locator("#board-status")).to_contain_text("Perdu")
    saved = prospect(board, "Fall")
    with board.app.app_context(), database.connection_context():
        assert saved.outcome == "lost" and LostReason.get_by_id(saved.lost_reason_id).code == "financing"


def test_cancelling_the_lost_dialog_puts_the_card_back(page, board):
    sign_in(page, board)
    binta = prospect(board, "Fall")
    drag(page, f"#card-{binta.id}", stage_named(board, "Perdu").id)
    page.locator("#lost-dialog").get_by_role("button", name="Annuler").click()
    expect(page.locator(f"#cards-{binta.stage_id} #card-{binta.id}")).to_be_visible()
    assert prospect(board, "Fall").outcome == "open"


def test_dragging_a_card_out_of_lost_asks_to_confirm_the_reopening_and_records_it(page, board):
    lost, target = stage_named(board, "Perdu"), stage_named(board, "En qualification")
    binta = prospect(board, "Fall")
    with board.app.app_context(), database.connection_context():
        Prospect.update(stage=lost.id, outcome="lost").where(Prospect.id == binta.id).execute()
    page.set_viewport_size({"width": 2200, "height": 900})  # the lost column and the target both in view
    sign_in(page, board)
    page.locator(f"#column-title-{lost.id} .column-toggle").click()  # the lost column opens (folded)
    dialog = page.locator("#reopen-dialog")
    drag(page, f"#card-{binta.id}", target.id)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Annuler").click()
    expect(page.locator(f"#cards-{lost.id} #card-{binta.id}")).to_be_visible()
    assert prospect(board, "Fall").outcome == "lost"
    drag(page, f"#card-{binta.id}", target.id)
    dialog.get_by_role("button", name="Rouvrir").click()
    expect(page.locator("#board-status")).to_contain_text("En qualification")
    assert prospect(board, "Fall").outcome == "open"
    with board.app.app_context(), database.connection_context():
        change = StageChange.get(StageChange.prospect == binta.id)
        assert change.reopened and change.from_stage_id == lost.id and change.user.email == "fatou@clinic.test"


def test_a_refused_move_snaps_back_with_a_message(page, board):
    sign_in(page, board)
    coumba = prospect(board, "Sow")
    with board.app.app_context(), database.connection_context():  # someone else moved it first
        Prospect.update(version=Prospect.version + 1).where(Prospect.id == coumba.id).execute()
    drag(page, f"#card-{coumba.id}", stage_named(board, "RDV programmé").id)
    expect(page.locator("#board-status [role=alert]")).to_contain_text("Quelqu'un d'autre")
    expect(page.locator(f"#cards-{coumba.stage_id} #card-{coumba.id}")).to_be_visible()
    assert prospect(board, "Sow").stage_id == coumba.stage_id


def test_a_move_by_someone_else_shows_up_without_a_reload(browser, board):
    mine, theirs = browser.new_page(), browser.new_page()
    sign_in(mine, board)
    sign_in(theirs, board)
    awa = prospect(board, "Diop")
    target = stage_named(board, "Promesse")
    mine.locator("#board-q").fill("")  # an open filter field must survive the refresh
    drag(theirs, f"#card-{awa.id}", target.id)
    expect(theirs.locator("#board-status")).to_contain_text("Promesse")
    expect(mine.locator(f"#cards-{target.id} #card-{awa.id}")).to_be_visible(timeout=10_000)
    assert "/login" not in mine.url


def test_the_move_menu_moves_a_card_without_dragging(page, board):
    sign_in(page, board)
    awa = prospect(board, "Diop")
    target = stage_named(board, "RDV programmé")
    page.locator(f"#card-{awa.id} .card-move").click()
    dialog = page.locator("#app-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("RDV programmé").check()
    dialog.get_by_role("button", name="Déplacer").click()
    expect(page.locator(f"#cards-{target.id} #card-{awa.id}")).to_be_visible()
    expect(page.locator("#board-status")).to_contain_text("RDV programmé")
    assert prospect(board, "Diop").stage_id == target.id


def test_clicking_a_card_opens_the_prospect_beside_the_board(page, board):
    sign_in(page, board)
    awa = prospect(board, "Diop")
    page.locator(f"#card-{awa.id} .card-name").click()
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name="Awa Diop")).to_be_visible()
    panel.get_by_label("Note").fill("Rappelée depuis le tableau")
    panel.get_by_role("button", name="Ajouter à l'historique").click()
    expect(panel.get_by_text("Rappelée depuis le tableau")).to_be_visible()
    assert page.url.endswith("/board")


def test_filters_go_into_the_url_and_back_works(page, board):
    sign_in(page, board)
    page.locator("#board-q").fill("binta")
    expect(page.locator(".board-card")).to_have_count(1)
    assert "q=binta" in page.url
    page.go_back()
    expect(page.locator(".board-card")).to_have_count(3)


def test_the_plus_button_opens_the_fast_form_in_a_dialog(page, board):
    sign_in(page, board)
    page.get_by_role("link", name="Nouveau contact").click()
    dialog = page.locator("#app-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Nom", exact=True).fill("Ndour")
    dialog.get_by_label("Téléphone").fill("78 900 00 01")
    dialog.get_by_label("Demande").select_option("quote")
    dialog.get_by_role("button", name="Enregistrer").click()
    expect(dialog.get_by_text("Nouveau prospect créé")).to_be_visible()
    assert page.url.endswith("/board")
