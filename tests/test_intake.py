"""Web-form intake (issue 7): the public endpoint, the worker's exactly-once processing, the re-scan,
the failed queue and its replay. The live-server, browser, fuzz and kill tests are in test_intake_*.py."""
import json
import time
from datetime import timedelta

import pytest

from integrations.webform import IntakeError, decode_body, read_post, split_name
from webapp.models import FollowUp, InboundRequest, Interaction, Patient, Prospect, database
from webapp.rules.qualification import read_qualification
from webapp.rules.signatures import HEADER, check, sign
from webapp.services import intake
from webapp.services.sources import SourceError, create_source, embed_snippet, update_source
from webapp.services.users import create_user
from webapp.timeutil import utcnow

from .conftest import make_app

AWA = {"prenom": "Awa", "nom": "Ndiaye", "tel": "77 123 45 67", "message": "Je voudrais un devis"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def source(app, db):
    return db(lambda: create_source("site-web", "webform", "Site web"))


@pytest.fixture
def post(app):
    client = app.test_client()

    def send(slug="site-web", **kwargs):
        return client.post(f"/intake/{slug}", **kwargs)
    return send


def stored(db, request_id) -> InboundRequest:
    return db(lambda: InboundRequest.get_by_id(request_id))


def all_requests(db) -> list[InboundRequest]:
    return db(lambda: list(InboundRequest.select().order_by(InboundRequest.id)))


# --- the endpoint -----------------------------------------------------------------------------------

def test_a_browser_form_post_is_stored_raw_and_sent_to_the_thank_you_page(source, post, db):
    answer = post(data=AWA, headers={**BROWSER, "User-Agent": "Firefox", "Cookie": "x=1"})

    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/intake/site-web/merci")
    [request] = all_requests(db)
    assert request.state == "received" and request.source_id == source.id
    assert b"prenom=Awa" in bytes(request.body)
    assert request.headers["User-Agent"] == "Firefox" and "Cookie" not in request.headers
    assert request.remote_addr == "127.0.0.1"


def test_the_thank_you_page_is_french_and_carries_no_staff_navigation(source, post, app):
    page = app.test_client().get("/intake/site-web/merci")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Merci" in text and "Relance" not in text and "csrf" not in text
    assert "Set-Cookie" not in page.headers


def test_a_source_with_its_own_thank_you_page_sends_browsers_there(source, post, db):
    db(lambda: update_source(source, config={"thank_you_url": "https://clinique.sn/merci"}))

    assert post(data=AWA, headers=BROWSER).headers["Location"] == "https://clinique.sn/merci"


@pytest.mark.parametrize("kind", ["json", "form", "multipart"])
def test_a_machine_post_gets_202_and_a_reference_it_can_follow(kind, source, post, app, db):
    if kind == "json":
        answer = post(json={"first_name": "Ibou", "phone": "776543210"})
    elif kind == "form":
        answer = post(data=AWA)
    else:
        answer = post(data=AWA, content_type="multipart/form-data")

    assert answer.status_code == 202
    assert answer.json["url"] == f"/api/v1/requests/{answer.json['id']}"
    assert answer.json["state"] == "received" and answer.json["duplicate"] is False
    assert stored(db, answer.json["id"]).state == "received"


def test_the_same_content_twice_is_answered_like_a_new_post(source, post, db):
    """No oracle: repeating someone's details must not tell anyone she already wrote (issue 14)."""
    first = post(data=AWA)
    second = post(data=AWA)

    assert first.status_code == second.status_code == 202
    assert set(second.json) == set(first.json) == {"id", "url", "state", "duplicate"}
    assert second.json["id"] == first.json["id"] + 1
    assert second.json["state"] == "received" and second.json["duplicate"] is False
    assert len(all_requests(db)) == 2


def test_the_same_content_twice_gives_one_prospect_and_one_interaction(auto_source):
    first = _accept(auto_source, {"first_name": "Awa", "phone": "776543210"})
    second = _accept(auto_source, {"first_name": "Awa", "phone": "776543210"})

    intake.process(first.id), intake.process(second.id)

    second = InboundRequest.get_by_id(second.id)
    assert second.state == "processed" and second.parsed["duplicate_of"] == first.id
    assert Prospect.select().count() == 1 and Interaction.select().count() == 1


def test_an_idempotency_key_is_honoured_even_when_the_body_differs(source, post, db):
    first = post(json={"phone": "776543210"}, headers={"Idempotency-Key": "order-17"})
    again = post(json={"phone": "776543210", "retry": 1}, headers={"Idempotency-Key": "order-17"})

    assert again.json["id"] == first.json["id"] and again.json["duplicate"] is True
    assert len(all_requests(db)) == 1


@pytest.mark.parametrize("content_type, body, status, code", [
    ("application/json", b"{not json", 400, "bad_json"),
    ("application/json", b"[1, 2]", 400, "json_not_object"),
    ("application/json; charset=klingon", b"{}", 415, "unknown_charset"),
    ("text/csv", b"a,b", 415, "unsupported_content_type"),
    ("", b"phone=1", 415, "unsupported_content_type"),
    ("multipart/form-data", b"--x\r\nbroken", 400, "bad_multipart"),
    ("application/x-www-form-urlencoded", b"caf\xe9=\xff", 400, "bad_encoding"),
    ("application/x-www-form-urlencoded", b"nom=Ndiaye", 422, "missing_contact"),
])
def test_a_malformed_post_gets_a_clear_4xx_in_json_and_its_raw_body_is_kept(
        content_type, body, status, code, source, post, db):
    answer = post(data=body, content_type=content_type)

    assert answer.status_code == status
    assert answer.json["error"]["code"] == code and answer.json["error"]["message"]
    request = stored(db, answer.json["id"])
    assert (request.state, request.error, bytes(request.body)) == ("failed", code, body)


def test_a_person_whose_form_lacks_a_contact_reads_a_french_page(source, post, db):
    answer = post(data={"nom": "Ndiaye"}, headers=BROWSER)

    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "<html" in text and "numéro de téléphone" in text
    assert all_requests(db)[0].state == "failed"


def test_an_oversized_post_is_refused_before_it_is_read(app, source, post, db):
    answer = post(data=b"x" * (app.config["INTAKE_MAX_BYTES"] + 1), content_type="application/json")

    assert answer.status_code == 413 and answer.json["error"]["code"] == "too_large"
    assert all_requests(db) == []


def test_an_unknown_or_retired_source_is_a_404(source, post, db):
    assert post("nope", json={"phone": "1"}).status_code == 404
    db(lambda: update_source(source, active=False))
    assert post(json={"phone": "776543210"}).json["error"]["code"] == "unknown_source"


def test_a_filled_honeypot_is_answered_like_any_post_and_kept_apart_as_spam(source, post, db):
    answer = post(data={**AWA, "website": "http://spam.example"}, headers=BROWSER)

    assert answer.status_code == 303
    [request] = all_requests(db)
    assert (request.state, request.error) == ("spam", "honeypot")


def test_cors_allows_the_configured_origins_only(source, post, app, db):
    db(lambda: update_source(source, config={"allowed_origins": "https://clinique.sn"}))
    client = app.test_client()

    preflight = client.options("/intake/site-web", headers={"Origin": "https://clinique.sn"})
    allowed = post(json={"phone": "776543210"}, headers={"Origin": "https://clinique.sn"})
    elsewhere = post(json={"phone": "776543211"}, headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://clinique.sn"
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    assert client.options("/intake/site-web", headers={"Origin": "https://evil.example"}).status_code == 403
    assert allowed.status_code == 202 and allowed.headers["Access-Control-Allow-Origin"] == "https://clinique.sn"
    assert elsewhere.status_code == 403 and "Access-Control-Allow-Origin" not in elsewhere.headers
    assert stored(db, elsewhere.json["id"]).state == "spam"


def test_a_source_with_a_secret_takes_signed_posts_only(source, post, db):
    db(lambda: update_source(source, secret="s3cret-shared"))
    body = json.dumps({"first_name": "Ibou", "phone": "776543210"}).encode()
    now = int(time.time())

    good = post(data=body, content_type="application/json", headers={HEADER: sign("s3cret-shared", body, now)})
    unsigned = post(data=body + b" ", content_type="application/json")
    stale = post(data=body + b"  ", content_type="application/json",
                 headers={HEADER: sign("s3cret-shared", body + b"  ", now - 3600)})

    assert good.status_code == 202
    assert unsigned.status_code == 401 and unsigned.json["error"]["code"] == "bad_signature"
    assert stale.status_code == 401
    assert stored(db, unsigned.json["id"]).error == "bad_signature:missing"
    assert stored(db, stale.json["id"]).error == "bad_signature:expired"


def test_too_many_posts_from_one_address_are_refused(sqlite_url):
    app = make_app(sqlite_url, RATELIMIT_ENABLED=True)
    with app.app_context(), database.connection_context():
        create_source("site-web", "webform", config={"rate_limit": "2 per minute"})
    client = app.test_client()

    codes = [client.post("/intake/site-web", json={"phone": f"77654321{i}"}).status_code for i in range(3)]

    assert codes == [202, 202, 429]


def test_the_api_reports_a_request_by_id_and_lists_them_by_state(source, post, app, db):
    from webapp.services.tokens import create_token
    token = db(lambda: create_token("site")[1])
    auth = {"Authorization": f"Bearer {token}"}
    request_id = post(json={"phone": "776543210"}).json["id"]
    post(data=b"{", content_type="application/json")
    client = app.test_client()

    one = client.get(f"/api/v1/requests/{request_id}", headers=auth).json
    failed = client.get("/api/v1/requests?state=failed&source=site-web", headers=auth).json

    assert {"id", "source", "received_at", "state", "attempts", "prospect_id", "patient_id", "triage"} <= set(one)
    assert (one["source"], one["state"], one["triage"]) == ("site-web", "received", False)
    assert [item["error"] for item in failed["items"]] == ["bad_json"]
    assert client.get("/api/v1/requests?state=bogus", headers=auth).status_code == 400
    assert client.get("/api/v1/requests/999", headers=auth).status_code == 404
    assert client.get("/api/v1/requests").status_code == 401


# --- processing -------------------------------------------------------------------------------------

@pytest.fixture
def auto_source(any_ctx):
    return create_source("auto", "webform", "Site web", {"mode": "auto"})


def _accept(source, body: dict, key=None, now=None):
    return intake.accept(source, content_type="application/json", headers={}, body=json.dumps(body).encode(),
                         remote_addr="127.0.0.1", idempotency_key=key, now=now)


def test_processing_an_auto_source_creates_the_prospect_and_its_first_answer_deadline(auto_source):
    secretary = create_user("awa@clinic.test", "Awa", "secretary", "correct-horse-42")
    request = _accept(auto_source, {"first_name": "Ibou", "last_name": "Fall", "phone": "77 654 32 10",
                                    "request": "Prendre rendez-vous"})

    assert intake.process(request.id) == "processed"

    request = InboundRequest.get_by_id(request.id)
    prospect = request.prospect
    assert (prospect.first_name, prospect.phone, prospect.channel) == ("Ibou", "+221776543210", "webform")
    assert prospect.qualification == "appointment" and prospect.owner_id == secretary.id
    assert prospect.first_contact_at == request.received_at
    assert not request.triage and request.attempts == 1
    planned = FollowUp.select().where((FollowUp.prospect == prospect) & (FollowUp.state == "planned"))
    assert [f.cause_key.split(":")[0] for f in planned] == ["first_answer"]


def test_processing_twice_changes_nothing(auto_source):
    request = _accept(auto_source, {"phone": "776543210"})
    intake.process(request.id)

    assert intake.process(request.id) is None
    assert intake.replay(request.id, None) == "processed"
    assert Prospect.select().count() == 1 and Interaction.select().count() == 1


def test_two_copies_accepted_at_once_make_one_prospect(auto_source):
    first = _accept(auto_source, {"phone": "776543210"}, key="a")
    second = _accept(auto_source, {"phone": "776543210"}, key="b")

    intake.process(first.id), intake.process(second.id)

    first, second = InboundRequest.get_by_id(first.id), InboundRequest.get_by_id(second.id)
    assert second.parsed["duplicate_of"] == first.id and second.prospect_id == first.prospect_id
    assert Prospect.select().count() == 1 and Interaction.select().count() == 1


def test_a_known_patient_gets_the_request_and_no_prospect_is_created(auto_source):
    patient = Patient.create(first_name="Awa", last_name="Ndiaye", phone="+221771234567")

    intake.process(_accept(auto_source, {"last_name": "Ndiaye", "phone": "77 123 45 67"}).id)

    assert Prospect.select().count() == 0
    assert InboundRequest.get().patient_id == patient.id
    assert Interaction.get().patient_id == patient.id


def test_new_prospects_are_shared_round_robin_among_active_staff(auto_source):
    staff = [create_user(f"s{i}@clinic.test", f"S{i}", role, "correct-horse-42")
             for i, role in enumerate(("secretary", "lead", "secretary"))]
    create_user("boss@clinic.test", "Boss", "manager", "correct-horse-42")

    for n in range(4):
        intake.process(_accept(auto_source, {"phone": f"77654321{n}"}).id)

    owners = [p.owner_id for p in Prospect.select().order_by(Prospect.id)]
    assert owners == [staff[0].id, staff[1].id, staff[2].id, staff[0].id]


def test_a_failing_request_is_retried_then_waits_in_the_failed_queue_and_replays_after_a_fix(
        auto_source, monkeypatch, any_ctx):
    any_ctx.config["INTAKE_MAX_ATTEMPTS"] = 2
    request = _accept(auto_source, {"phone": "776543210"})
    monkeypatch.setattr(intake, "record_contact", lambda *a, **k: 1 / 0)
    now = utcnow()

    assert intake.process(request.id, now) == "received"          # counted; retried after the lease
    assert intake.process(request.id, now) is None                 # the lease holds it meanwhile
    later = now + timedelta(seconds=intake.lease_seconds() + 1)
    assert intake.due_for_rescan(later) == [request.id]
    assert intake.process(request.id, later) == "failed"
    failed = InboundRequest.get_by_id(request.id)
    assert failed.attempts == 2 and "ZeroDivisionError" in failed.error
    assert intake.due_for_rescan(later) == []
    assert Prospect.select().count() == 0                           # nothing half-done

    monkeypatch.undo()
    assert intake.replay(request.id, None) == "processed"
    assert InboundRequest.get_by_id(request.id).prospect_id is not None


def test_the_rescan_picks_up_requests_whose_task_was_lost(auto_source):
    now = utcnow()
    fresh = _accept(auto_source, {"phone": "776543210"}, now=now)
    old = _accept(auto_source, {"phone": "776543211"}, now=now - timedelta(minutes=10))

    assert intake.due_for_rescan(now) == [old.id]
    assert fresh.id not in intake.due_for_rescan(now)


def test_raw_requests_are_emptied_after_the_retention_period_once_handled(auto_source):
    now = utcnow()
    old_done = _accept(auto_source, {"phone": "776543210"}, now=now - timedelta(days=200))
    intake.process(old_done.id, now)
    old_waiting = _accept(auto_source, {"phone": "776543211"}, now=now - timedelta(days=200))
    recent = _accept(auto_source, {"phone": "776543212"}, now=now - timedelta(days=2))
    intake.process(recent.id, now)

    assert intake.purge_raw(now, days=180) == 1
    assert intake.purge_raw(now, days=180) == 0

    emptied = InboundRequest.get_by_id(old_done.id)
    assert (bytes(emptied.body), emptied.parsed, emptied.state) == (b"", None, "processed")
    assert emptied.prospect_id is not None                       # the record it made stays
    assert bytes(InboundRequest.get_by_id(old_waiting.id).body)   # never before it is handled
    assert bytes(InboundRequest.get_by_id(recent.id).body)


# --- the pure parts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("choice, text, expected", [
    ("rdv", "", "appointment"),
    ("Prendre rendez-vous", "", "appointment"),
    ("", "Bonjour, je voudrais un RDV lundi", "appointment"),
    ("", "Quels sont vos tarifs ?", "quote"),
    ("devis", "je veux un rendez-vous", "quote"),      # the form's choice wins over the text
    ("", "Pouvez-vous m'envoyer la brochure du programme", "programme"),
    ("", "Combien coûte un rendez-vous ?", "appointment"),  # the strongest intent first
    ("", "Bonjour", None),
    (None, None, None),
])
def test_the_qualification_is_read_from_the_choice_then_the_text(choice, text, expected):
    assert read_qualification(choice, text) == expected


def test_a_signature_is_checked_in_constant_time_with_a_bounded_age():
    body = b'{"phone": "1"}'
    header = sign("k", body, 1_000)

    assert check("k", header, body, now=1_100) is None
    assert check("k", header, body + b" ", now=1_100) == "mismatch"
    assert check("other", header, body, now=1_100) == "mismatch"
    assert check("k", header, body, now=1_000 + 301) == "expired"
    assert check("k", None, body, now=1_000) == "missing"
    assert check("k", "v1=abc", body, now=1_000) == "malformed"
    assert check("k", "t=1000,v1=é", body, now=1_000) == "mismatch"


def test_the_presets_read_contact_form_7_and_a_json_webhook():
    cf7 = read_post({"preset": "cf7"}, "application/x-www-form-urlencoded",
                    b"your-name=Mame+Diarra+Ndiaye&your-email=mame%40example.sn&_wpcf7=12&your-message=Bonjour")
    webhook = read_post({"preset": "json"}, "application/json",
                        json.dumps({"contact": {"firstName": "Ibou", "phone": "+221776543210"},
                                    "utm": {"campaign": "octobre-rose"}}).encode())

    assert (cf7["first_name"], cf7["last_name"], cf7["email"]) == ("Mame Diarra", "Ndiaye", "mame@example.sn")
    assert cf7["extra"] == {}
    assert (webhook["first_name"], webhook["phone"], webhook["origin"]) == ("Ibou", "+221776543210", "octobre-rose")


def test_a_source_can_map_its_own_field_names():
    fields = read_post({"preset": "html", "fields": {"phone": "numero_portable"}},
                       "application/x-www-form-urlencoded", b"numero_portable=771234567&couleur=bleu")

    assert fields["phone"] == "771234567" and fields["extra"] == {"couleur": "bleu"}


def test_form_values_are_read_in_the_declared_charset():
    assert decode_body("application/x-www-form-urlencoded; charset=latin-1", "nom=Sène".encode("latin-1")) \
        == {"nom": "Sène"}
    with pytest.raises(IntakeError):
        decode_body("application/json", "{\"nom\": \"Sène\"}".encode("latin-1"))


def test_a_full_name_splits_with_the_family_name_last():
    assert split_name("Mame Diarra Ndiaye") == ("Mame Diarra", "Ndiaye")
    assert split_name("Ndiaye") == ("", "Ndiaye")


# --- configuration ----------------------------------------------------------------------------------

@pytest.mark.parametrize("config, code", [
    ({"preset": "typeform"}, "unknown_preset"),
    ({"mode": "yolo"}, "unknown_mode"),
    ({"allowed_origins": "clinique.sn"}, "invalid_origin"),
    ({"thank_you_url": "javascript:alert(1)"}, "invalid_thank_you_url"),
    ({"rate_limit": "lots"}, "invalid_rate_limit"),
    ({"owner": "999"}, "unknown_owner"),
])
def test_a_bad_source_setting_is_refused_with_its_reason(config, code, ctx):
    with pytest.raises(SourceError, match=code):
        create_source("site", "webform", config=config)


def test_source_slugs_are_unique_and_url_safe(ctx):
    create_source("site-web", "webform")
    for slug, code in (("site-web", "slug_taken"), ("Site Web!", "invalid_slug"), ("", "invalid_slug")):
        with pytest.raises(SourceError, match=code):
            create_source(slug, "webform")


def test_the_embed_snippet_posts_to_the_source_with_its_field_names_and_honeypot(ctx):
    source = create_source("site-web", "webform", config={"fields": {"phone": "portable"}})

    snippet = embed_snippet(source, "https://relance.clinique.sn/intake/site-web")

    assert 'action="https://relance.clinique.sn/intake/site-web" method="post"' in snippet
    assert 'name="portable"' in snippet and 'name="website"' in snippet
    assert 'tabindex="-1"' in snippet


def test_add_source_prints_the_intake_url_and_the_form_to_embed(runner, db):
    result = runner.invoke(args=["add-source", "site-web", "--type", "webform", "--mode", "auto",
                                 "--origin", "https://clinique.sn", "--base-url", "https://relance.sn"])

    assert result.exit_code == 0, result.output
    assert "POST https://relance.sn/intake/site-web" in result.output and "<form" in result.output
    source = db(lambda: __import__("webapp.models", fromlist=["Source"]).Source.get())
    assert source.config["mode"] == "auto" and source.config["allowed_origins"] == ["https://clinique.sn"]
    assert runner.invoke(args=["add-source", "site-web"]).exit_code != 0


def test_the_secret_is_read_from_stdin_and_never_printed(runner, db):
    result = runner.invoke(args=["add-source", "partenaire", "--secret-stdin"], input="tres-secret\n")

    assert result.exit_code == 0 and "tres-secret" not in result.output


def test_intake_rescan_processes_what_waits_past_its_lease(runner, app, db):
    def setup():
        source = create_source("auto", "webform", config={"mode": "auto"})
        return _accept(source, {"phone": "776543210"}, now=utcnow() - timedelta(hours=1)).id
    request_id = db(setup)

    result = runner.invoke(args=["intake-rescan"])

    assert result.exit_code == 0 and "1 request(s) re-scanned: 1 processed" in result.output
    assert stored(db, request_id).state == "processed"
