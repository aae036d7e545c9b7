"""Web-form intake end to end: the app under gunicorn (2 workers) on loopback, a real Huey consumer, posts
sent over HTTP (form-encoded, multipart, JSON, signed) and a real HTML form submitted by Chromium from
another origin. Each test reads what was stored with plain SQL."""
import http.server
import json
import threading
import time
from urllib.parse import urlencode

import pytest

from bench.intake_stack import IntakeStack, post, senegal_mobile, wait_for
from webapp.rules.signatures import sign

pytestmark = pytest.mark.slow  # real servers and processes: not in the fast loop

SECRET = "s3cret-webhook-key"


@pytest.fixture(scope="module")
def live():
    """One stack for the module: a triage source, an auto source, a signed one and one to break."""
    stack = IntakeStack().prepare()
    stack.add_source("site", mode="triage")
    stack.add_source("auto", mode="auto")
    stack.add_source("signed", mode="triage", secret=SECRET)
    stack.add_source("broken", mode="auto")
    server = stack.gunicorn(workers=2).start()
    consumer = stack.consumer(workers=2).start()
    stack.url = server.url
    try:
        yield stack
    finally:
        consumer.stop()
        server.stop()
        stack.cleanup()


def _row(stack, request_id):
    rows = stack.sql("SELECT id, state, triage, prospect_id, error, body, idempotency_key, content_type "
                     "FROM inbound_request WHERE id = ?", (request_id,))
    return dict(zip(("id", "state", "triage", "prospect_id", "error", "body", "key", "content_type"), rows[0])) \
        if rows else None


def _settled(stack, request_id, timeout=20):
    """The stored request once the worker is done with it."""
    return wait_for(lambda: (row := _row(stack, request_id)) and row["state"] != "received" and row, timeout)


def _json_post(stack, slug, body: bytes, content_type="application/json", **headers):
    status, response_headers, data = post(f"{stack.url}/intake/{slug}", body, content_type,
                                          {"Accept": "application/json", **headers})
    return status, response_headers, (json.loads(data) if data.startswith(b"{") else data)


def test_a_browser_form_post_goes_to_the_thank_you_page_and_waits_in_triage(live):
    body = urlencode({"name": "Awa Diop", "phone": "77 100 00 01", "request": "rdv"}).encode()

    status, headers, _ = post(f"{live.url}/intake/site", body, "application/x-www-form-urlencoded",
                              {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})

    assert status == 303
    assert headers["location"].endswith("/intake/site/merci")
    (request_id,) = live.sql("SELECT id FROM inbound_request WHERE body = ?", (body,))[0]
    row = _settled(live, request_id)
    assert row["state"] == "processed" and row["triage"] == 1 and row["prospect_id"] is None


def test_multipart_and_json_posts_are_answered_202_and_stored_byte_for_byte(live):
    boundary = "----relance7e3b"
    multipart = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nMoussa Sarr\r\n"
                 f"--{boundary}\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n+221 77 100 00 02\r\n"
                 f"--{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nDevis, s'il vous plaît\r\n"
                 f"--{boundary}--\r\n").encode()
    as_json = json.dumps({"name": "Khady Fall", "phone": "00221 77 100 00 03", "request": "devis"}).encode()

    for body, content_type in ((multipart, f"multipart/form-data; boundary={boundary}"),
                               (as_json, "application/json; charset=utf-8")):
        status, _, answer = _json_post(live, "site", body, content_type)

        assert status == 202, answer
        assert set(answer) == {"id", "url", "state", "duplicate"}
        assert answer["state"] == "received" and answer["duplicate"] is False
        assert answer["url"] == f"/api/v1/requests/{answer['id']}"
        stored = _row(live, answer["id"])
        assert stored["body"] == body and stored["content_type"] == content_type
        assert _settled(live, answer["id"])["state"] == "processed"


def test_the_same_body_twice_looks_new_to_its_sender_and_makes_one_prospect(live):
    typed, e164 = senegal_mobile(4000001)
    body = json.dumps({"name": "Ibrahima Faye", "phone": typed, "message": "Rappel SVP"}).encode()

    first = _json_post(live, "auto", body)
    second = _json_post(live, "auto", body)

    assert first[0] == second[0] == 202
    assert second[2]["id"] != first[2]["id"] and second[2]["duplicate"] is False
    assert _settled(live, first[2]["id"])["prospect_id"] is not None
    assert _settled(live, second[2]["id"])["prospect_id"] == _settled(live, first[2]["id"])["prospect_id"]
    assert live.sql("SELECT count(*) FROM inbound_request WHERE body = ?", (body,)) == [(2,)]
    assert live.sql("SELECT count(*) FROM prospect WHERE phone = ?", (e164,)) == [(1,)]
    assert live.sql("SELECT count(*) FROM interaction JOIN prospect ON prospect.id = interaction.prospect_id "
                    "WHERE prospect.phone = ?", (e164,)) == [(1,)]


def test_one_idempotency_key_is_one_request_even_with_another_body(live):
    first = _json_post(live, "site", json.dumps({"name": "A", "phone": "77 100 00 05"}).encode(),
                       **{"Idempotency-Key": "live-key-1"})
    second = _json_post(live, "site", json.dumps({"name": "B", "phone": "77 100 00 06"}).encode(),
                        **{"Idempotency-Key": "live-key-1"})

    assert first[0] == second[0] == 202
    assert second[2] == {**first[2], "duplicate": True, "state": second[2]["state"]}
    assert live.sql("SELECT count(*) FROM inbound_request WHERE idempotency_key = 'live-key-1'") == [(1,)]
    assert b'"A"' in _row(live, first[2]["id"])["body"]


def test_a_signed_post_is_accepted_and_an_unsigned_one_refused_but_kept_as_spam(live):
    body = json.dumps({"name": "Signed Sender", "phone": "77 100 00 07"}).encode()

    signed = _json_post(live, "signed", body, **{"X-Relance-Signature": sign(SECRET, body, int(time.time()))})
    unsigned = _json_post(live, "signed", body.replace(b"Signed", b"Forged"))
    wrong = _json_post(live, "signed", body, **{"X-Relance-Signature": sign("not-the-secret", body, int(time.time()))})

    assert signed[0] == 202 and _settled(live, signed[2]["id"])["state"] == "processed"
    for status, _, answer in (unsigned, wrong):
        assert status == 401 and answer["error"]["code"] == "bad_signature"
        row = _row(live, answer["id"])
        assert row["state"] == "spam" and row["error"].startswith("bad_signature:")
    assert _row(live, unsigned[2]["id"])["error"] == "bad_signature:missing"
    assert _row(live, wrong[2]["id"])["error"] == "bad_signature:mismatch"


def test_a_failed_request_is_processed_once_replayed_after_the_fix(live):
    from webapp.models import InboundRequest, Source, User
    from webapp.services.intake import replay

    typed, e164 = senegal_mobile(4000008)
    body = urlencode({"name": "Mame Diarra Ndiaye", "phone": typed}).encode()
    # The source's type loses its plugin (an integration uninstalled): nothing can read its posts.
    live.run(lambda: Source.update(type="ancien-formulaire").where(Source.slug == "broken").execute())
    status, _, answer = _json_post(live, "broken", body, "application/x-www-form-urlencoded")

    assert status == 422 and answer["error"]["code"] == "no_plugin_for_source_type"
    row = _settled(live, answer["id"])
    assert row["state"] == "failed" and row["error"] == "no_plugin_for_source_type" and row["body"] == body

    # The fix, then the replay: processed, one prospect.
    live.run(lambda: Source.update(type="webform").where(Source.slug == "broken").execute())
    lead = live.run(lambda: User.get(User.email == "lead@intake.test"))
    assert live.run(replay, answer["id"], lead) == "processed"
    counts = lambda: live.sql("SELECT (SELECT count(*) FROM prospect WHERE phone = ?), "  # noqa: E731
                              "(SELECT count(*) FROM interaction), (SELECT count(*) FROM follow_up), "
                              "(SELECT count(*) FROM inbound_request)", (e164,))[0]
    after_fix = counts()
    assert after_fix[0] == 1 and _row(live, answer["id"])["prospect_id"] is not None

    # A replay of a processed request changes nothing.
    assert live.run(replay, answer["id"], lead) == "processed"
    assert counts() == after_fix
    assert live.run(lambda: InboundRequest.get_by_id(answer["id"]).state) == "processed"


class _SnippetSite:
    """Another website (another origin) with the source's embed form pasted in a page."""

    def __init__(self, html: str):
        page = f"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Clinique</title></head>" \
               f"<body><h1>Contactez-nous</h1>{html}</body></html>".encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/contact.html"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_embedded_form_in_a_real_browser_lands_on_the_thank_you_page(live, page):
    from webapp.models import Source
    from webapp.services.sources import embed_snippet

    source = live.run(lambda: Source.get(Source.slug == "site"))
    # Served by another origin (localhost, not 127.0.0.1): a cross-site post, as from the clinic's website.
    action = live.url.replace("127.0.0.1", "localhost") + "/intake/site"
    site = _SnippetSite(str(embed_snippet(source, action)))
    try:
        page.goto(site.url)
        page.fill("input[name=first_name]", "Aïssatou")
        page.fill("input[name=last_name]", "Sow")
        page.fill("input[name=phone]", "77 100 00 09")
        page.select_option("select[name=request]", "devis")
        page.fill("textarea[name=message]", "Bonjour, quels sont vos tarifs ?")
        with page.expect_navigation():
            page.click("button[type=submit]")
    finally:
        site.stop()

    assert page.url.endswith("/intake/site/merci")
    assert "Merci" in page.locator("h1").inner_text()
    rows = [(id_, headers, body) for id_, headers, body in live.sql("SELECT id, headers, body FROM inbound_request")
            if b"last_name=Sow" in body]
    assert len(rows) == 1, rows
    request_id, headers, body = rows[0]
    assert b"first_name=A%C3%AFssatou" in body and b"phone=77+100+00+09" in body
    assert json.loads(headers)["Origin"] == site.url.rsplit("/", 1)[0]
    row = _settled(live, request_id)
    assert row["state"] == "processed" and row["triage"] == 1


def test_a_request_from_the_website_becomes_a_prospect_on_the_board_in_one_click(live, page):
    """Issue 7's "done when": a real browser form, the lead's triage queue, one click, the board."""
    from webapp.models import FollowUp, Prospect, Source
    from webapp.services.sources import embed_snippet
    from webapp.services.users import create_user

    live.run(create_user, "codou@clinic.test", "Codou Ndiaye", "lead", "correct-horse-42")
    source = live.run(lambda: Source.get(Source.slug == "site"))
    site = _SnippetSite(str(embed_snippet(source, live.url.replace("127.0.0.1", "localhost") + "/intake/site")))
    try:
        page.goto(site.url)
        page.fill("input[name=first_name]", "Ndèye")
        page.fill("input[name=last_name]", "Faye-Ndour")
        page.fill("input[name=phone]", "77 100 00 42")
        page.select_option("select[name=request]", "rdv")
        with page.expect_navigation():
            page.click("button[type=submit]")
    finally:
        site.stop()
    [(request_id,)] = [(id_,) for id_, body in live.sql("SELECT id, body FROM inbound_request")
                       if b"last_name=Faye-Ndour" in body]
    assert _settled(live, request_id)["triage"] == 1

    page.goto(f"{live.url}/login")
    page.fill("#email", "codou@clinic.test")
    page.fill("#password", "correct-horse-42")
    with page.expect_navigation():
        page.click("button.button-primary")
    page.goto(f"{live.url}/requests")
    item = page.locator(f"#request-{request_id}")
    assert "Ndèye Faye-Ndour" in item.inner_text()
    item.get_by_role("button", name="Créer le prospect").click()
    page.locator(f"#request-{request_id} .flash").wait_for()
    assert "Prospect créé" in page.locator(f"#request-{request_id}").inner_text()

    [(prospect_id,)] = live.sql("SELECT prospect_id FROM inbound_request WHERE id = ?", (request_id,))
    prospect = live.run(lambda: Prospect.get_by_id(prospect_id))
    assert (prospect.channel, prospect.qualification, prospect.phone) == ("webform", "appointment", "+221771000042")
    planned = live.run(lambda: list(FollowUp.select().where((FollowUp.prospect == prospect.id)
                                                            & (FollowUp.state == "planned"))))
    assert [f.cause_key.split(":")[0] for f in planned] == ["first_answer"]   # the response clock runs
    page.goto(f"{live.url}/board")
    card = page.locator(f"#card-{prospect.id}")
    card.wait_for()
    assert "Faye-Ndour" in card.inner_text()
    assert "à faire" not in card.inner_text().lower()   # it shows its next action, not "nothing planned"
