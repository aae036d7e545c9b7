"""CSRF, escaping, headers, sessions and login throttling (SECURITY.md)."""
import re

import pytest

from tests import factories as make
from tests.conftest import PASSWORD, login, make_app
from webapp.models import AuditEvent, Interaction, Prospect, User, database
from webapp.services.prospects import ContactInput, record_contact

XSS = "<script>alert(1)</script>"


@pytest.fixture
def csrf_app(sqlite_url):
    return make_app(sqlite_url, WTF_CSRF_ENABLED=True)


def _token(html: bytes) -> str:
    return re.search(rb'name="csrf-token" content="([^"]+)"', html).group(1).decode()


def _prospect(app, **fields):
    with app.test_request_context(), database.connection_context():
        return record_contact(ContactInput(**{"last_name": "Diop", "phone": "77 123 45 67", **fields}), None).prospect


def _login_with_csrf(app, user):
    client = app.test_client()
    token = _token(client.get("/login").data)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def _user(app, role="secretary"):
    with app.app_context(), database.connection_context():
        return make.user(role, email=f"{role}@clinic.test", name=role)


def test_a_form_post_without_csrf_token_is_refused_and_changes_nothing(csrf_app):
    client = _login_with_csrf(csrf_app, _user(csrf_app))
    response = client.post("/prospects/new", data={"last_name": "Sans jeton", "phone": "77 555 55 55",
                                                    "qualification": "quote", "temperature": "warm"})
    assert response.status_code == 400
    with csrf_app.app_context(), database.connection_context():
        assert Prospect.select().count() == 0


def test_an_htmx_post_without_the_csrf_header_is_refused(csrf_app):
    prospect = _prospect(csrf_app)
    client = _login_with_csrf(csrf_app, _user(csrf_app))
    response = client.post(f"/prospects/{prospect.id}/interactions", headers={"HX-Request": "true"},
                           data={"channel": "phone", "direction": "out", "note": "x"})
    assert response.status_code == 400
    with csrf_app.app_context(), database.connection_context():
        assert Interaction.select().where(Interaction.prospect == prospect.id).count() == 1


def test_an_htmx_post_with_the_csrf_header_is_accepted(csrf_app):
    prospect = _prospect(csrf_app)
    client = _login_with_csrf(csrf_app, _user(csrf_app))
    token = _token(client.get(f"/prospects/{prospect.id}").data)
    response = client.post(f"/prospects/{prospect.id}/interactions",
                           headers={"HX-Request": "true", "X-CSRFToken": token},
                           data={"channel": "phone", "direction": "out", "note": "rappel"})
    assert response.status_code == 200
    with csrf_app.app_context(), database.connection_context():
        assert Interaction.select().where(Interaction.prospect == prospect.id).count() == 2


def test_login_itself_needs_the_csrf_token(csrf_app):
    user = _user(csrf_app)
    response = csrf_app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/prospects", "/prospects/{id}", "/prospects/{id}/edit", "/prospects?q=script"])
def test_a_hostile_name_shows_as_text_everywhere(app, as_role, path):
    prospect = _prospect(app, first_name=XSS, last_name=XSS, note=XSS, origin_detail=XSS)
    client = as_role("lead")
    body = client.get(path.format(id=prospect.id)).data.decode()
    assert XSS not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_hostile_name_is_plain_json_in_the_api(app):
    from webapp.services.tokens import create_token
    prospect = _prospect(app, first_name=XSS)
    with app.app_context(), database.connection_context():
        _, token = create_token("t")
    data = app.test_client().get(f"/api/v1/prospects/{prospect.id}",
                                 headers={"Authorization": f"Bearer {token}"}).get_json()
    assert data["first_name"] == XSS


def test_pages_carry_strict_security_headers(client):
    headers = client.get("/login").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_no_template_has_inline_script_or_style(app):
    from pathlib import Path
    for path in Path(app.template_folder).rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert " style=" not in text and "<style" not in text, path
        assert not re.search(r"\son[a-z]+=", text), path


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    response = login(client, make_user())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_kills_the_session_even_if_the_cookie_is_replayed(app, make_user):
    user = make_user()
    client = app.test_client()
    login(client, user)
    stolen = client.get_cookie("session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/prospects")
    assert response.status_code == 302 and "/login" in response.location


def _client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_stolen_session_is_refused_from_another_address_whatever_x_forwarded_for_says(app, make_user):
    victim = _client_at(app, "41.82.10.7")
    login(victim, make_user())
    thief = _client_at(app, "196.207.1.2")
    thief.set_cookie("session", victim.get_cookie("session").value)

    response = thief.get("/prospects", headers={"X-Forwarded-For": "41.82.10.7"})

    assert response.status_code == 302 and "/login" in response.location
    assert victim.get("/prospects").status_code == 200


def test_behind_a_trusted_proxy_the_session_is_bound_to_the_forwarded_address(sqlite_url):
    app = make_app(sqlite_url, PROXY_COUNT=1)
    user = _user(app)
    victim = _client_at(app, "127.0.0.1")       # the proxy, which sends the client's address
    response = victim.post("/login", data={"email": user.email, "password": PASSWORD},
                           headers={"X-Forwarded-For": "41.82.10.7"})
    assert response.status_code == 302
    assert victim.get("/prospects", headers={"X-Forwarded-For": "41.82.10.7"}).status_code == 200
    thief = _client_at(app, "127.0.0.1")
    thief.set_cookie("session", victim.get_cookie("session").value)

    response = thief.get("/prospects", headers={"X-Forwarded-For": "196.207.1.2"})

    assert response.status_code == 302 and "/login" in response.location


def test_login_rotates_the_session(app, make_user):
    client = app.test_client()
    client.get("/login")
    before = client.get_cookie("session")
    login(client, make_user())
    assert client.get_cookie("session").value != (before.value if before else None)


def test_failed_logins_are_throttled_and_audited(sqlite_url, make_user):
    app = make_app(sqlite_url, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [client.post("/login", data={"email": "x@clinic.test", "password": "nope"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    refused = client.post("/login", data={"email": "x@clinic.test", "password": "nope"})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Trop de tentatives. Patientez quelques minutes" in refused.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert AuditEvent.select().where(AuditEvent.action == "login.failed").count() == 3


def test_wrong_password_message_does_not_say_which_part_was_wrong(client, make_user):
    user = make_user()
    def page(email):
        html = client.post("/login", data={"email": email, "password": "x"}).data.decode()
        return re.sub(r'(content|value)="[^"]*"', "", html.replace(email, ""))
    assert page("nobody@clinic.test") == page(user.email)


def test_password_change_asks_for_the_current_one(as_role, app):
    client = as_role("secretary")
    new = "Baobab-du-jardin-7"
    refused = client.post("/account/password", data={"current_password": "wrong", "new_password": new,
                                                     "confirm_password": new})
    assert refused.status_code == 400
    accepted = client.post("/account/password", data={"current_password": PASSWORD,
                                                       "new_password": new, "confirm_password": new})
    assert accepted.status_code == 302
    from webapp.services.users import authenticate
    with app.app_context(), database.connection_context():
        assert authenticate(client.user.email, new) is not None


def test_disabled_user_cannot_sign_in(app, client, make_user):
    user = make_user()
    with app.app_context(), database.connection_context():
        User.update(active=False).where(User.id == user.id).execute()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 401


def test_login_never_redirects_off_site(client, make_user):
    user = make_user()
    response = client.post("/login?next=//evil.example/x", data={"email": user.email, "password": PASSWORD})
    assert response.location == "/"


def test_viewing_a_record_is_audited_without_health_details(app, as_role):
    prospect = _prospect(app, note="Enceinte de 12 semaines")
    client = as_role("secretary")
    client.get(f"/prospects/{prospect.id}")
    with app.app_context(), database.connection_context():
        event = AuditEvent.get(AuditEvent.action == "prospect.view")
        assert event.record_id == prospect.id and "semaines" not in event.detail


def test_unknown_filter_value_is_a_400_not_passed_to_sql(as_role):
    client = as_role("secretary")
    assert client.get("/prospects?temperature=hot' OR 1=1 --").status_code == 400
    assert client.get("/prospects?sort=id;drop").status_code == 400
    assert client.get("/prospects?owner=1 OR 1").status_code == 400
