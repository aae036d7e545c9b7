"""Issue 12, items 9, 10 and 12 in headless Chromium: Ma journée and the board fit a phone, the phone's
board filters fold behind "Filtres (n)", won and lost columns fold on a desktop until a drag needs them,
one tab stop and arrow keys inside the board, the focus kept on a moved card, the move menu's fields
shown when they apply, a side-panel change shown on its card at once, a long name kept in its card."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests import factories as make
from tests.conftest import make_app
from tests.servers import LiveServer
from tests.test_board_browser import drag, prospect, sign_in
from webapp.models import FollowUp, FollowUpType, Prospect, Stage, database
from webapp.services.prospects import ContactInput, record_contact
from webapp.timeutil import utcnow

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LONG_NAME = "Ndèye-Fatou-Khadidiatou-Mariama-Aminata-Seynabou-Coumba-Astou" + "x" * 37  # 100 characters


@pytest.fixture
def board(sqlite_url):
    """The follow-up lead's board: three prospects in Nouveau, two in En qualification, one with a
    100-character name; her follow-ups on Ma journée. The poll is slow: what changes, changes by itself."""
    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True, BOARD_POLL_SECONDS=600)
    with app.test_request_context(), database.connection_context():
        lead = make.user("lead", email="fatou@clinic.test", name="Fatou Diallo")
        stages = {s.name: s for s in Stage.select()}
        for n, name in enumerate(("Awa Diop", "Binta Fall", "Coumba Sow", "Dior Ndiaye", "Estelle Faye")):
            first, last = name.split()
            made = record_contact(ContactInput(first_name=first, last_name=last, phone=f"77 600 00 0{n}",
                                               temperature="hot", qualification="appointment", owner=lead),
                                  lead).prospect
            if n >= 3:
                Prospect.update(stage=stages["En qualification"]).where(Prospect.id == made.id).execute()
            FollowUp.create(prospect=made, owner=lead, due_at=utcnow() - timedelta(days=1), value="hot",
                            type=FollowUpType.select().order_by(FollowUpType.id).first())
        record_contact(ContactInput(first_name="", last_name=LONG_NAME, phone="77 600 00 09", temperature="warm"),
                       lead)
    with LiveServer(app) as server:
        server.app = app
        server.stages = stages
        yield server


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


# --- 9: layout --------------------------------------------------------------------------------------

def test_my_day_fits_a_phone_and_its_requests_table_scrolls_in_its_frame(browser, board):
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, board)
    page.goto(f"{board.url}/my-day")
    expect(page.get_by_role("heading", name="Demandes en attente de réponse")).to_be_visible()

    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > 392 && !el.closest('.table-wrap'))
        .slice(0, 8).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))""")
    assert page_width(page) <= PHONE["width"], wide
    table = page.locator(".myday-awaiting .table-wrap")
    assert table.evaluate("el => el.scrollWidth > el.clientWidth")  # it scrolls sideways, on its own
    buttons = page.locator(".followup-outcomes .button")
    assert buttons.count() >= 4
    for n in range(4):
        box = buttons.nth(n).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_the_board_fits_a_phone_with_its_filters_folded_behind_their_count(browser, board):
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, board)
    page.goto(f"{board.url}/board?temperature=hot&qualification=appointment")
    expect(page.locator(".board-card").first).to_be_visible()

    toggle = page.get_by_role("button", name="Filtres (2)")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#board-q")).to_be_visible()          # the search stays
    expect(page.locator("#board-owner")).to_be_hidden()
    assert page_width(page) <= PHONE["width"]

    toggle.focus()
    page.keyboard.press("Enter")                                  # a button: the keyboard opens it too
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#board-owner")).to_be_visible()
    page.locator("#board-channel").select_option("phone")
    expect(page.get_by_role("button", name="Filtres (3)")).to_be_visible()
    assert page_width(page) <= PHONE["width"]


def test_won_and_lost_columns_are_folded_on_a_desktop_until_opened(page, board):
    sign_in(page, board)
    lost = page.locator("section.kind-lost")
    toggle = lost.get_by_role("button", name="Perdu")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert lost.bounding_box()["width"] < 80
    assert page.locator("section.kind-open").first.bounding_box()["width"] >= 230

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.wait_for_function("() => document.querySelector('section.kind-lost').getBoundingClientRect().width >= 230")
    toggle.click()                                                # and folds again
    expect(toggle).to_have_attribute("aria-expanded", "false")


def test_a_long_name_does_not_widen_its_column_or_the_board(page, board):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, board)
    long_card = page.locator(".board-card", has_text="Ndèye-Fatou")
    expect(long_card).to_be_visible()
    widths = page.locator("section.kind-open").evaluate_all("els => els.map(el => el.getBoundingClientRect().width)")

    assert max(widths) - min(widths) < 1  # the column holding it is as wide as the others
    assert long_card.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert long_card.locator(".card-name").get_attribute("title").startswith("Ndèye-Fatou")
    assert page_width(page) <= 1440


# --- 10: keyboard -------------------------------------------------------------------------------------

def test_the_board_is_one_tab_stop_and_arrow_keys_go_between_cards_and_columns(page, board):
    sign_in(page, board)
    awa, binta, dior = prospect(board, "Diop"), prospect(board, "Fall"), prospect(board, "Ndiaye")
    expect(page.locator("#board-columns [tabindex='0'].board-card")).to_have_count(1)

    page.get_by_role("link", name="Effacer les filtres").focus()
    page.keyboard.press("Tab")
    first = focused_id(page)
    assert first.startswith("card-")
    for _ in range(5):  # its name, ☎, WA, ⇄: then out of the board, never into another card
        page.keyboard.press("Tab")
        assert not (focused_id(page) or "").startswith("card-")

    page.locator(f"#card-{awa.id}").focus()
    page.keyboard.press("ArrowDown")
    assert focused_id(page) == f"card-{binta.id}"
    page.keyboard.press("ArrowUp")
    assert focused_id(page) == f"card-{awa.id}"
    page.keyboard.press("ArrowRight")
    assert focused_id(page) == f"card-{dior.id}"                  # the next column, first card
    page.keyboard.press("ArrowLeft")
    assert focused_id(page) == f"card-{awa.id}"
    expect(page.locator(f"#card-{awa.id}")).to_have_attribute("tabindex", "0")
    expect(page.locator(f"#card-{binta.id}")).to_have_attribute("tabindex", "-1")

    page.keyboard.press("Enter")                                  # opens the card beside the board
    expect(page.locator("#panel").get_by_role("heading", name="Awa Diop")).to_be_visible()


def open_move_menu(page, card_id):
    page.locator(f"#{card_id}").focus()
    page.keyboard.press("Tab")
    while not page.evaluate("document.activeElement.classList.contains('card-move')"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    dialog = page.locator("#app-dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_the_focus_stays_on_the_card_after_a_move_with_the_menu(page, board):
    sign_in(page, board)
    awa = prospect(board, "Diop")
    target = board.stages["RDV programmé"]

    dialog = open_move_menu(page, f"card-{awa.id}")
    dialog.get_by_label("RDV programmé").check()
    dialog.get_by_role("button", name="Déplacer").click()

    expect(page.locator("#board-status")).to_contain_text("RDV programmé")
    expect(page.locator(f"#cards-{target.id} #card-{awa.id}")).to_be_focused()
    page.keyboard.press("ArrowDown")  # and the keys go on from there
    expect(page.locator(f"#cards-{target.id} #card-{awa.id}")).to_be_focused()


def test_the_focus_comes_back_to_the_card_after_a_cancelled_dialog(page, board):
    sign_in(page, board)
    binta = prospect(board, "Fall")

    dialog = open_move_menu(page, f"card-{binta.id}")
    dialog.get_by_role("link", name="Annuler").click()
    expect(page.locator(f"#card-{binta.id}")).to_be_focused()

    dialog = open_move_menu(page, f"card-{binta.id}")
    dialog.get_by_label("Perdu").check()
    dialog.get_by_role("button", name="Déplacer").click()       # no reason chosen: the dialog asks
    lost = page.locator("#lost-dialog")
    expect(lost).to_be_visible()
    lost.get_by_role("button", name="Annuler").click()
    expect(page.locator(f"#cards-{binta.stage_id} #card-{binta.id}")).to_be_focused()

    drag(page, f"#card-{binta.id}", board.stages["Converti"].id)  # the won dialog, after a drag
    won = page.locator("#won-dialog")
    expect(won).to_be_visible()
    won.get_by_role("button", name="Annuler").click()
    expect(page.locator(f"#cards-{binta.stage_id} #card-{binta.id}")).to_be_focused()
    assert prospect(board, "Fall").stage_id == binta.stage_id


# --- 12: the move menu, the side panel ---------------------------------------------------------------------

def test_the_move_menu_asks_the_lost_reason_and_the_confirmation_only_when_they_apply(page, board):
    sign_in(page, board)
    coumba = prospect(board, "Sow")
    page.locator(f"#card-{coumba.id} .card-move").click()
    dialog = page.locator("#app-dialog")
    reason, confirm = dialog.get_by_label("Motif de perte"), dialog.get_by_label("Je confirme la conversion")
    expect(reason).to_be_hidden()
    expect(confirm).to_be_hidden()

    dialog.get_by_label("Perdu").check()
    expect(reason).to_be_visible()
    expect(confirm).to_be_hidden()
    dialog.get_by_label("Converti").check()
    expect(reason).to_be_hidden()
    expect(confirm).to_be_visible()

    confirm.check()                                               # given here: no second dialog asks it
    dialog.get_by_role("button", name="Déplacer").click()
    expect(page.locator("#won-dialog")).to_be_hidden()
    expect(page.locator("#board-status")).to_contain_text("Converti")
    assert prospect(board, "Sow").outcome == "won"


def test_a_temperature_change_in_the_side_panel_shows_on_the_card_at_once(page, board):
    sign_in(page, board)
    awa = prospect(board, "Diop")
    card = page.locator(f"#card-{awa.id}")
    expect(card).to_contain_text("Chaud")
    card.locator(".card-name").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Awa Diop")).to_be_visible()

    panel.locator("select[name=temperature]").select_option("cold")
    panel.get_by_label("Pourquoi").first.fill("Pas de projet avant l'an prochain")
    panel.get_by_role("button", name="Changer la température").click()

    expect(card).to_contain_text("Froid", timeout=5_000)         # the poll is 10 minutes away
    assert "temp-edge-cold" in card.get_attribute("class")
