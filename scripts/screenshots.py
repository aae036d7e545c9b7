"""Screenshots of Relance's main pages in headless Chromium, so they can be remade after any change.

    .venv/bin/python scripts/screenshots.py OUTDIR [--locale fr|en]
    scripts/screenshots OUTDIR                   # the same, after scripts/bootstrap

Builds a throwaway SQLite database (RELANCE_DATABASE_URL in a temporary folder), runs
`relance init-db` and `relance demo` (or, where the demo loader is missing, a few staff and
prospects of its own), serves the app with werkzeug in a thread (tests/servers.py's LiveServer),
signs in with Playwright driving Debian's /usr/bin/chromium (never a downloaded browser) and saves
one PNG per page: sign-in, prospect list (desktop and phone, its pager, an empty search through
htmx), the user menu, new-contact form and its errors, both outcome pages, a prospect record
(secretary, phone, follow-up lead), a 404, the staff accounts page and the board as the follow-up lead
(desktop, phone, the prospect's side panel, the lost-reason dialog after a drag) and her day on a phone
(the desktop board is also copied to docs/screenshots/board.png for the README). Desktop is 1440x900, phone
390x844; a warning is printed when a page is wider than its window (a phone would zoom out).
Nothing else is written outside OUTDIR and the temporary folder.
"""
from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # webapp and tests.servers, whatever the current folder
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
FALLBACK_PASSWORD = "relance-screens"
MAX_HEIGHT = 1600  # full-page shots are cut here: the top of a long page says enough


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, help="folder for the PNG files (created if missing)")
    parser.add_argument("--locale", choices=("fr", "en"), default="fr", help="interface language (default fr)")
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix="relance-screens-"))
    try:
        env = _environment(tmp, args.locale)
        os.environ.update(env)
        logins = _load_data(env)
        saved = _shoot(args.outdir, logins)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total = sum(path.stat().st_size for path in saved)
    for path in sorted(saved):
        print(f"{path.stat().st_size // 1024:>5} KB  {path}")
    print(f"{len(saved)} screenshots, {total // 1024} KB in all")
    return 0


# --------------------------------------------------------------------------- data


def _environment(tmp: Path, locale: str) -> dict[str, str]:
    return {
        "RELANCE_DATABASE_URL": f"sqlite:///{tmp / 'relance.db'}",
        "RELANCE_HUEY_URL": f"sqlite:///{tmp / 'huey.db'}",
        "RELANCE_SECRET_KEY": secrets.token_urlsafe(32),  # not the instance folder's key
        "RELANCE_LOCALE": locale,
        "RELANCE_LOGIN_RATE_LIMIT": "1000 per minute",
    }


def _relance(*args: str, env: dict[str, str]) -> str:
    """Run the `relance` console command of this venv; its output."""
    script = Path(sys.executable).with_name("relance")
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "from webapp.cli import main; main()"]
    proc = subprocess.run([*cmd, *args], cwd=ROOT, env={**os.environ, **env}, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"relance {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}")
    return proc.stdout


def _load_data(env: dict[str, str]) -> dict[str, tuple[str, str]]:
    """The schema and the data; returns {role: (email, password)} for signing in."""
    _relance("init-db", env=env)
    if importlib.util.find_spec("webapp.demo") is not None:
        out = _relance("demo", env=env)
        logins: dict[str, tuple[str, str]] = {}
        for email, role, password in re.findall(r"^\s+(\S+@\S+)\s+(\w+)\s+password:\s*(\S+)", out, re.M):
            logins.setdefault(role, (email, password))
        if "secretary" in logins:
            return logins
        print("screenshots: no secretary in the demo's logins; adding data of our own", file=sys.stderr)
    return _fallback_data()


def _fallback_data() -> dict[str, tuple[str, str]]:
    """A few staff and prospects through the services, for when `relance demo` is not there yet."""
    from datetime import timedelta

    from webapp import create_app
    from webapp.models import FollowUp, Prospect, database
    from webapp.services.next_action import refresh_next_action
    from webapp.services.prospects import (ContactInput, add_interaction, record_contact,
                                           set_do_not_contact)
    from webapp.services.users import create_user
    from webapp.timeutil import utcnow

    people = [
        ("Awa", "Diop", "77 123 45 67", "appointment", "hot", "Souhaite un RDV pour suivi de grossesse"),
        ("Fatou", "Ndiaye", "+221 78 456 12 34", "quote", "warm", "Demande les tarifs de l'échographie"),
        ("Aïssatou", "Sow", "76 987 65 43", "programme", "cold", "Rencontrée au salon de la femme"),
        ("Ndèye Fatou", "Fall", "70 222 33 44", "quote", "warm", "Demande un devis pour l'accouchement"),
        ("Mariama", "Ba", "77 555 66 77", "programme", "hot", "Intéressée par le programme fertilité"),
        ("Khady", "Gueye", "06 12 34 56 78", "appointment", "warm", "Numéro français, à vérifier"),
        ("Moussa", "Sarr", "78 111 22 33", "appointment", "cold", "Appelle pour les vaccins de son bébé"),
    ]
    app = create_app()
    with app.app_context(), database.connection_context():
        codou = create_user("codou@nest.demo", "Codou Ndiaye", "secretary", FALLBACK_PASSWORD)
        create_user("fatou@nest.demo", "Fatou Diallo", "lead", FALLBACK_PASSWORD)
        create_user("admin@nest.demo", "Admin", "admin", FALLBACK_PASSWORD)
        now = utcnow()
        for round_ in range(4):  # enough rows for a second page
            for index, (first, last, phone, reason, temperature, note) in enumerate(people):
                at = now - timedelta(days=3 * index + 11 * round_, hours=index)
                suffix = f"{round_}{index}"
                outcome = record_contact(ContactInput(
                    first_name=first, last_name=last if round_ == 0 else f"{last} {suffix}",
                    phone=phone if round_ == 0 else f"77 40{round_} {index:02d} {index + 10:02d}",
                    qualification=reason, temperature=temperature, note=note, occurred_at=at), codou, now=at)
                prospect = outcome.prospect
                add_interaction(prospect, channel="phone", direction="out", user=codou,
                                note="Rappelée, laisse un message.", occurred_at=at + timedelta(days=1),
                                now=at + timedelta(days=1))
                if index % 3 == 0:
                    FollowUp.create(prospect=prospect, owner=codou, due_at=now + timedelta(days=index + 1))
                    refresh_next_action([prospect.id])
                if index == 2 and round_ == 1:
                    set_do_not_contact(prospect, True, "Ne souhaite plus être appelée", codou)
                if index == 4 and round_ > 1:
                    Prospect.update(activity_status="dormant").where(Prospect.id == prospect.id).execute()
    return {"secretary": ("codou@nest.demo", FALLBACK_PASSWORD), "lead": ("fatou@nest.demo", FALLBACK_PASSWORD),
            "admin": ("admin@nest.demo", FALLBACK_PASSWORD)}


def _record_to_show(app) -> int | None:
    """An open prospect with a valid phone and a few interactions: a typical record."""
    from webapp.models import Prospect, database

    with app.app_context(), database.connection_context():
        base = Prospect.select().where((Prospect.outcome == "open") & Prospect.phone.is_null(False)
                                       & ~Prospect.do_not_contact)
        chosen = (base.where(Prospect.interaction_count.between(3, 7)).order_by(Prospect.interaction_count.desc(),
                                                                                 Prospect.id).first()
                  or base.order_by(Prospect.interaction_count.desc()).first())
        return chosen.id if chosen else None


# --------------------------------------------------------------------------- browser


def _shoot(outdir: Path, logins: dict[str, tuple[str, str]]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tests.servers import LiveServer
    from webapp import create_app

    app = create_app()
    record_id = _record_to_show(app)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on the console
    saved: list[Path] = []

    def save(page, name: str, full_page: bool = False, clip: dict | None = None) -> None:
        path = outdir / f"{name}.png"
        # Nothing may be wider than the screen (a phone would zoom out): say so, loudly.
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width > inner:
            print(f"screenshots: WARNING {name}: the page is {width}px wide in a {inner}px window",
                  file=sys.stderr)
        page.mouse.move(0, 0)  # no hover effect left where the last click was
        options = {"path": str(path), "animations": "disabled", "caret": "hide"}
        if clip:  # in the page's coordinates with full_page, else in the window's
            options.update(clip=clip, full_page=full_page)
        elif full_page:
            width, height = page.evaluate("[document.documentElement.scrollWidth,"
                                          " document.documentElement.scrollHeight]")
            options.update(full_page=True, clip={"x": 0, "y": 0, "width": width, "height": min(height, MAX_HEIGHT)})
        page.screenshot(**options)
        saved.append(path)

    with LiveServer(app) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        url = server.url

        def context(viewport: dict, phone: bool = False):
            return browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone,
                                       device_scale_factor=1, reduced_motion="reduce",
                                       locale=os.environ["RELANCE_LOCALE"])

        def sign_in(page, role: str) -> None:
            email, password = logins[role]
            page.goto(f"{url}/login")
            page.fill("#email", email)
            page.fill("#password", password)
            page.click("form button")
            page.wait_for_load_state("networkidle")

        # desktop, secretary
        desk = context(DESKTOP)
        page = desk.new_page()
        page.goto(f"{url}/login")
        save(page, "01-login")
        sign_in(page, "secretary")
        page.goto(f"{url}/prospects")
        save(page, "02-prospects-desktop")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        save(page, "03-prospects-pager", clip={"x": 0, "y": DESKTOP["height"] - 330,
                                               "width": DESKTOP["width"], "height": 330})
        page.evaluate("window.scrollTo(0, 0)")
        page.fill("#q", "zzzz-personne")  # htmx swaps #results (input delay:300ms)
        page.wait_for_selector("#results .empty")
        save(page, "04-prospects-empty", clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": 520})
        page.click(".usermenu > summary")
        save(page, "05-usermenu", clip={"x": DESKTOP["width"] - 520, "y": 0, "width": 520, "height": 300})

        page.goto(f"{url}/prospects/new")
        save(page, "06-new-contact", full_page=True)
        page.click("#contact-form .actions .button-primary")
        page.wait_for_load_state("networkidle")
        page.click("details.more > summary")  # the folded fields, open
        page.focus("#first_name")  # a visible focus ring in the shot
        save(page, "07-new-contact-errors", full_page=True)

        page.goto(f"{url}/prospects/new")
        page.fill("#last_name", "Mbaye")
        page.fill("#first_name", "Seynabou")
        page.fill("#phone", "70 911 22 38")
        page.select_option("#qualification", "appointment")
        page.check("input[name=temperature][value=hot]")
        page.fill("#note", "Enceinte de 3 mois, souhaite un premier RDV avec la sage-femme.")
        page.click("#contact-form .actions .button-primary")
        page.wait_for_load_state("networkidle")
        save(page, "08-created")
        page.goto(f"{url}/prospects/new")
        page.fill("#last_name", "Mbaye")
        page.fill("#phone", "+221 70 911 22 38")
        page.select_option("#qualification", "quote")
        page.click("#contact-form .actions .button-primary")
        page.wait_for_load_state("networkidle")
        save(page, "09-already-known")

        if record_id:
            page.goto(f"{url}/prospects/{record_id}")
            save(page, "10-record", full_page=True)
        page.goto(f"{url}/prospects/999999999")
        save(page, "11-not-found")
        desk.close()

        # phone, secretary
        mobile = context(PHONE, phone=True)
        page = mobile.new_page()
        page.goto(f"{url}/login")
        save(page, "12-login-phone")
        sign_in(page, "secretary")
        page.goto(f"{url}/prospects")
        save(page, "13-prospects-phone")
        page.goto(f"{url}/prospects/new")
        save(page, "14-new-contact-phone", full_page=True)
        if record_id:
            page.goto(f"{url}/prospects/{record_id}")
            save(page, "15-record-phone", full_page=True)
        mobile.close()

        # desktop, follow-up lead: the record's classification forms
        if record_id and "lead" in logins:
            lead = context(DESKTOP)
            page = lead.new_page()
            sign_in(page, "lead")
            page.goto(f"{url}/prospects/{record_id}")
            side = page.locator(".record-side").bounding_box()
            save(page, "16-record-lead-side", full_page=True, clip={
                "x": side["x"] - 16, "y": 0, "width": side["width"] + 32, "height": side["y"] + side["height"] + 24})
            lead.close()

        # desktop, administrator: the staff accounts page (its templates use the same classes)
        if "admin" in logins:
            admin = context(DESKTOP)
            page = admin.new_page()
            sign_in(page, "admin")
            if page.goto(f"{url}/admin/users").ok:
                save(page, "17-admin-users", full_page=True)
            admin.close()
        # the board, follow-up lead: desktop, phone, the side panel, the lost-reason dialog after a drag
        if "lead" in logins:
            _shoot_board(outdir, url, context, sign_in, save)
            _shoot_requests(url, context, sign_in, save, "admin" in logins)
            _shoot_integrations(url, context, sign_in, save, "manager" in logins)
        browser.close()
    for shot, name in (("18-board-desktop", "board"), ("22-requests-desktop", "requests")):
        png = outdir / f"{shot}.png"
        if png in saved:  # the README shows it
            docs_copy = ROOT / "docs" / "screenshots" / f"{name}.png"
            docs_copy.parent.mkdir(parents=True, exist_ok=True)
            if docs_copy.resolve() != png.resolve():
                shutil.copyfile(png, docs_copy)
            saved.append(docs_copy)
    return saved


def _shoot_requests(url: str, context, sign_in, save, with_admin: bool) -> None:
    """22-27: the lead's requests from the website (the demo's) and the conversion figures, on a desk and
    a phone; the source's settings as the administrator sees them."""
    for viewport, phone, suffix in ((DESKTOP, False, "desktop"), (PHONE, True, "phone")):
        lead = context(viewport, phone=phone)
        page = lead.new_page()
        sign_in(page, "lead")
        if page.goto(f"{url}/requests").ok:
            save(page, f"{22 if suffix == 'desktop' else 23}-requests-{suffix}", full_page=True)
        if page.goto(f"{url}/figures/conversion").ok:
            save(page, f"{26 if suffix == 'desktop' else 27}-figures-{suffix}", full_page=True)
        lead.close()
    if with_admin:
        admin = context(DESKTOP)
        page = admin.new_page()
        sign_in(page, "admin")
        if page.goto(f"{url}/admin/sources").ok:
            save(page, "24-sources", full_page=True)
            _open_first(page, "main a[href^='/admin/sources/']", save, "25-source-edit")
        admin.close()


def _open_first(page, selector: str, save, name: str) -> None:
    """Open the page's first link matching `selector`, if it has one, and save what it shows."""
    link = page.locator(selector).first
    if link.count():
        link.click()
        page.wait_for_load_state("networkidle")
        save(page, name, full_page=True)


def _shoot_integrations(url: str, context, sign_in, save, manager: bool) -> None:
    """28-34: the mail and the patient system, as the follow-up lead sees them: a mail request and its
    answer form, the answer templates, the conversions to review (one opened), the patient import; and the
    manager's provenance list."""
    lead = context(DESKTOP)
    page = lead.new_page()
    sign_in(page, "lead")
    page.goto(f"{url}/requests")
    _open_first(page, "main a[href$='/answer']", save, "28-answer-request")
    if page.goto(f"{url}/settings/answers").ok:
        save(page, "29-answer-templates", full_page=True)
    if page.goto(f"{url}/reconciliation").ok:
        save(page, "30-conversions", full_page=True)
        _open_first(page, "main a[href^='/reconciliation/']", save, "31-conversion-review")
    if page.goto(f"{url}/patients/import").ok:
        save(page, "32-patient-import", full_page=True)
    lead.close()
    phone = context(PHONE, phone=True)
    page = phone.new_page()
    sign_in(page, "lead")
    if page.goto(f"{url}/reconciliation").ok:
        _open_first(page, "main a[href^='/reconciliation/']", save, "33-conversion-review-phone")
    phone.close()
    if manager:
        desk = context(DESKTOP)
        page = desk.new_page()
        sign_in(page, "manager")
        if page.goto(f"{url}/settings/provenances").ok:
            save(page, "34-provenances", full_page=True)
        desk.close()


def _shoot_board(outdir: Path, url: str, context, sign_in, save) -> None:
    """18-21: the board as the follow-up lead (the demo's fatou@nest.demo)."""
    lead = context(DESKTOP)
    page = lead.new_page()
    sign_in(page, "lead")
    page.goto(f"{url}/board")
    page.wait_for_selector("#board-columns .board-card")
    save(page, "18-board-desktop")

    page.locator("#board-columns .board-card .card-name").first.click()  # htmx: the record beside the board
    page.wait_for_selector("#panel:not([hidden]) #panel-body > *")
    page.wait_for_load_state("networkidle")
    save(page, "20-board-panel")
    page.locator("[data-closes-panel]").click()

    first = page.locator("#board-columns ol.cards").first.locator(".board-card").first
    lost = page.locator('#board-columns ol.cards[data-stage-kind="lost"]')
    first.scroll_into_view_if_needed()
    card = first.bounding_box()
    page.mouse.move(card["x"] + card["width"] - 12, card["y"] + 12)
    page.mouse.down()
    page.mouse.move(card["x"] + card["width"] + 40, card["y"] + 40, steps=5)  # the drag starts (SortableJS)
    # "Perdu" is the last column, beyond the window's right edge at 1440px: scroll the board to it.
    page.evaluate("document.getElementById('board-columns').scrollLeft = 1e6")
    target = lost.bounding_box()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 40, steps=20)
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 44, steps=5)
    page.mouse.up()
    page.wait_for_selector("#lost-dialog[open]")
    save(page, "21-board-lost-dialog")
    lead.close()

    phone = context(PHONE, phone=True)
    page = phone.new_page()
    sign_in(page, "lead")
    page.goto(f"{url}/board")
    page.wait_for_selector("#board-columns .board-card")
    save(page, "19-board-phone")
    # Ma journée, the lead's: the requests table scrolls inside its frame, the page does not
    page.goto(f"{url}/my-day")
    save(page, "26-myday-phone", full_page=True)
    awaiting = page.locator("#myday-title-awaiting")
    if awaiting.count():  # the requests table at the top of the window
        awaiting.evaluate("el => el.scrollIntoView()")
        save(page, "27-myday-phone-requests")
    phone.close()


if __name__ == "__main__":
    sys.exit(main())
