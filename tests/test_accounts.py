"""Accounts and sessions (issue 14): common passwords refused, an administrator's reset, idle sessions
ending, no search kept in the cookie, a session bound to an address that proxies cannot fake."""
import base64
import json
import zlib

import pytest

from tests import factories as make
from tests.conftest import PASSWORD, login, make_app
from webapp.models import AuditEvent, User, database
from webapp.services.users import UserError, create_user


@pytest.mark.parametrize("password", ["password123", "azerty123456", "motdepasse1", "1234567890",
                                      "qwertyuiop", "codou@nest.sn", "Codou Ndiaye1", "relance2026"])
def test_the_most_common_passwords_and_the_persons_own_name_are_refused(app, password):
    with app.app_context(), database.connection_context():
        with pytest.raises(UserError, match="password_common|password_too_short"):
            create_user("codou@nest.sn", "Codou Ndiaye", "secretary", password)


def test_a_person_cannot_choose_a_common_password_and_is_told_why(as_role):
    client = as_role("secretary")
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                      "new_password": "azerty123456",
                                                      "confirm_password": "azerty123456"})
    assert response.status_code == 400
    assert "parmi les plus courants" in response.get_data(as_text=True)


def test_an_administrator_resets_a_password_and_the_person_must_choose_her_own(app, as_role, make_user, db):
    codou = make_user("secretary", email="codou@nest.sn")
    her = app.test_client()
    login(her, codou)
    admin = as_role("admin")
    page = admin.post(f"/admin/users/{codou.id}/password").get_data(as_text=True)
    temporary = page.split('id="temporary-password" type="text" readonly value="')[1].split('"')[0]
    assert len(temporary) >= 12
    assert temporary not in admin.get("/admin/users").get_data(as_text=True)  # shown once
    # Her open session ended; the temporary password lets her in, to the password page only.
    assert her.get("/prospects").status_code == 302
    her = app.test_client()
    answer = her.post("/login", data={"email": "codou@nest.sn", "password": temporary})
    assert answer.headers["Location"].endswith("/account/password")
    assert her.get("/board").headers["Location"].endswith("/account/password")
    assert her.get("/board", headers={"HX-Request": "true"}).headers["HX-Redirect"].endswith("/account/password")
    changed = her.post("/account/password", data={"current_password": temporary,
                                                  "new_password": "Baobab-du-jardin-7",
                                                  "confirm_password": "Baobab-du-jardin-7"})
    assert changed.status_code == 302
    assert not db(lambda: User.get_by_id(codou.id)).must_change_password
    assert db(lambda: AuditEvent.select().where(AuditEvent.action == "user.password_reset").count()) == 1


def test_an_idle_session_expires(sqlite_url, make_user, monkeypatch):
    app = make_app(sqlite_url, SESSION_IDLE_MINUTES=30)
    with app.app_context(), database.connection_context():
        make.user("secretary", email="awa@nest.sn", name="Awa Diop")
    client = app.test_client()
    client.post("/login", data={"email": "awa@nest.sn", "password": PASSWORD})
    clock = [1_000_000.0]
    monkeypatch.setattr("webapp.security.clock", lambda: clock[0])
    assert client.get("/prospects").status_code == 200
    clock[0] += 29 * 60
    assert client.get("/prospects").status_code == 200      # activity keeps it alive
    clock[0] += 20 * 60
    assert client.get("/board/changes?version=0").status_code in (200, 204)  # a poll is not activity
    clock[0] += 11 * 60
    expired = client.get("/prospects")
    assert expired.status_code == 302 and "/login" in expired.headers["Location"]
    assert client.get("/prospects").status_code == 302
    with app.app_context(), database.connection_context():
        assert AuditEvent.select().where(AuditEvent.action == "session.expired").count() == 1


def _cookie_payload(client) -> str:
    cookie = client.get_cookie("session").value
    data = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return (zlib.decompress(raw) if cookie.startswith(".") else raw).decode()


def test_the_boards_last_search_is_not_kept_in_the_cookie(as_role):
    client = as_role("secretary")
    client.get("/board?q=Aminata+Sow&temperature=hot")
    payload = _cookie_payload(client)
    assert "Aminata" not in payload and "hot" in payload
    assert json.loads(payload)


def test_the_session_is_bound_to_the_address_and_x_forwarded_for_changes_nothing(app, make_user):
    user = make_user("secretary")
    client = app.test_client()
    login(client, user)
    assert client.get("/prospects", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200
    moved = client.get("/prospects", environ_overrides={"REMOTE_ADDR": "198.51.100.7"})
    assert moved.status_code == 302  # another address: strong protection ends the session
