"""Screenshots of the caller lookup and the duplicate review (issue 12, items 4 and 5) for the README.

    .venv/bin/python scripts/screenshots_duplicates.py [OUTDIR]     # default docs/screenshots

The same set-up as scripts/screenshots.py (a throwaway database with `relance demo`, werkzeug in a
thread, Debian's Chromium): the secretary types the number a mother and her daughter share on "New
contact", and the follow-up lead opens that pair's review page. Desktop 1440x900, French.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts" / "screenshots.py")
shots = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shots)


def _shared_number(app) -> tuple[str, int]:
    """The phone a mother and her daughter share (the demo's family phone) and their pair's id."""
    from webapp.models import DuplicateCandidate, Prospect, database

    with app.app_context(), database.connection_context():
        pair = (DuplicateCandidate.select().where(DuplicateCandidate.other_prospect.is_null(False)
                                                  & (DuplicateCandidate.matched_on == "phone"))
                .order_by(DuplicateCandidate.id.desc()).first())
        return Prospect.get_by_id(pair.prospect_id).phone_raw, pair.id


def _sign_in(page, url: str, login: tuple[str, str]) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=email]", login[0])
    page.fill("input[name=password]", login[1])
    page.click("button[type=submit], form button")
    page.wait_for_load_state("networkidle")


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    outdir = Path(argv[0]) if argv else ROOT / "docs" / "screenshots"
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="relance-screens-"))
    try:
        os.environ.update(shots._environment(tmp, "fr"))
        logins = shots._load_data(dict(os.environ))
        from tests.servers import LiveServer
        from webapp import create_app

        app = create_app()
        phone, pair_id = _shared_number(app)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        with LiveServer(app) as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shots.CHROMIUM, headless=True, args=shots.CHROMIUM_ARGS)
            page = browser.new_page(viewport=shots.DESKTOP, locale="fr-FR")
            _sign_in(page, server.url, logins["secretary"])
            page.goto(f"{server.url}/prospects/new")
            page.locator("#phone").press_sequentially(phone, delay=40)
            page.locator("#caller-lookup li").first.wait_for()
            page.locator("#note").fill("Rappelle pour son rendez-vous de jeudi")
            page.mouse.move(0, 0)
            page.screenshot(path=str(outdir / "new-contact-lookup.png"), animations="disabled", caret="hide")

            lead = browser.new_page(viewport=shots.DESKTOP, locale="fr-FR")
            _sign_in(lead, server.url, logins["lead"])
            lead.goto(f"{server.url}/duplicates/{pair_id}")
            height = lead.evaluate("document.documentElement.scrollHeight")
            lead.screenshot(path=str(outdir / "duplicate-review.png"), animations="disabled", full_page=True,
                            clip={"x": 0, "y": 0, "width": shots.DESKTOP["width"], "height": min(height, 1300)})
            browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name in ("new-contact-lookup.png", "duplicate-review.png"):
        print(outdir / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
