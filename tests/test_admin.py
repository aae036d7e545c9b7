"""The administrator's pages: staff accounts, roles, access and API tokens (admins only)."""
import re

import pytest

from tests import factories as make
from tests.conftest import PASSWORD, login
from webapp.models import ApiToken, AuditEvent, User, database
from webapp.services.tokens import create_token


@pytest.fixture
def db(app):
    """Read the database as it is now, outside any request (re-read after every refusal)."""
    def read(query):
        with app.app_context(), database.connection_context():
            return query()
    return read


def fresh(db, user):
    return db(lambda: User.get_by_id(user.id))


def new_token_on(page: str) -> str:
    match = re.search(r'id="new-token"[^>]*value="(rl_[^"]+)"', page)
    assert match, "the new token is shown on the page"
    return match.group(1)


def test_admin_home_redirects_to_the_staff_accounts(as_role):
    client = as_role("admin")
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/users")


def test_staff_page_lists_accounts_with_role_and_status_in_words(as_role, make_user, client):
    as_role("admin")
    make_user("lead", email="awa@clinic.test", name="Awa Ndiaye")
    disabled = make_user("secretary", email="fatou@clinic.test", name="Fatou Sarr")
    client.post(f"/admin/users/{disabled.id}/active", data={"active": "0"})

    page = client.get("/admin/users").get_data(as_text=True)
    assert "Awa Ndiaye" in page and "awa@clinic.test" in page
    assert "Responsable du suivi" in page or "Follow-up lead" in page
    assert "Désactivé" in page or "Disabled" in page
    assert 'name="csrf_token"' in page


def test_admin_creates_a_user_who_can_then_sign_in(as_role, app, db):
    client = as_role("admin")
    response = client.post("/admin/users", data={"email": " Mariama@Clinic.test ", "name": "Mariama Ba",
                                                 "role": "lead", "password": "a-long-password"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/users")

    created = db(lambda: User.get(User.email == "mariama@clinic.test"))
    assert created.role == "lead" and created.active
    assert db(lambda: AuditEvent.select().where((AuditEvent.action == "user.create")
                                                & (AuditEvent.record_id == created.id)).exists())
    other = app.test_client()
    response = other.post("/login", data={"email": "mariama@clinic.test", "password": "a-long-password"})
    assert response.status_code == 302
    assert other.get("/prospects").status_code == 200


@pytest.mark.parametrize("data, field", [
    ({"email": "taken@clinic.test", "name": "X", "role": "lead", "password": "a-long-password"}, "taken"),
    ({"email": "not-an-email", "name": "X", "role": "lead", "password": "a-long-password"}, "email"),
    ({"email": "anna@", "name": "X", "role": "lead", "password": "a-long-password"}, "email"),
    ({"email": "new@clinic.test", "name": "X", "role": "lead", "password": "short"}, "password"),
    ({"email": "new@clinic.test", "name": "X", "role": "owner", "password": "a-long-password"}, "role"),
])
def test_creating_an_account_with_bad_input_is_refused_with_a_message(as_role, make_user, db, data, field):
    client = as_role("admin")
    make_user("secretary", email="taken@clinic.test")
    before = db(lambda: User.select().count())

    response = client.post("/admin/users", data=data)
    assert response.status_code == 400
    assert 'class="flash flash-error"' in response.get_data(as_text=True)
    assert db(lambda: User.select().count()) == before


def test_admin_changes_a_role_and_the_change_is_audited(as_role, make_user, db):
    client = as_role("admin")
    user = make_user("secretary")
    response = client.post(f"/admin/users/{user.id}/role", data={"role": "manager"})
    assert response.status_code == 302
    assert fresh(db, user).role == "manager"
    event = db(lambda: AuditEvent.get(AuditEvent.action == "user.role"))
    assert event.record_id == user.id and event.detail == "secretary -> manager"


def test_an_unknown_role_is_refused(as_role, make_user, db):
    client = as_role("admin")
    user = make_user("secretary")
    assert client.post(f"/admin/users/{user.id}/role", data={"role": "root"}).status_code == 400
    assert fresh(db, user).role == "secretary"


def test_admin_cannot_remove_their_own_admin_role(as_role, db):
    client = as_role("admin")
    me = client.user
    response = client.post(f"/admin/users/{me.id}/role", data={"role": "secretary"})
    assert response.status_code == 400
    assert 'class="flash flash-error"' in response.get_data(as_text=True)
    assert fresh(db, me).role == "admin"


def test_admin_cannot_disable_themself(as_role, db):
    client = as_role("admin")
    me = client.user
    response = client.post(f"/admin/users/{me.id}/active", data={"active": "0"})
    assert response.status_code == 400
    assert fresh(db, me).active
    assert client.get("/admin/users").status_code == 200  # still signed in


def test_disabling_a_user_ends_their_existing_session(as_role, make_user, app, db):
    admin = as_role("admin")
    user = make_user("secretary")
    theirs = app.test_client()
    login(theirs, user)
    assert theirs.get("/prospects").status_code == 200

    assert admin.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 302
    assert not fresh(db, user).active
    response = theirs.get("/prospects")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert theirs.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 401


def test_a_re_enabled_user_can_sign_in_again(as_role, make_user, app, db):
    admin = as_role("admin")
    user = make_user("lead")
    admin.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    admin.post(f"/admin/users/{user.id}/active", data={"active": "1"})
    assert fresh(db, user).active
    assert db(lambda: [e.action for e in AuditEvent.select().where(AuditEvent.record_id == user.id)
                       .where(AuditEvent.action.startswith("user.")).order_by(AuditEvent.id)]) \
        == ["user.disable", "user.enable"]
    login(app.test_client(), user)


def test_a_created_token_works_on_the_api_until_it_is_revoked(as_role, db):
    client = as_role("manager")
    response = client.post("/admin/tokens", data={"name": "Website form", "scopes": ["prospects:read"]})
    assert response.status_code == 201
    token = new_token_on(response.get_data(as_text=True))
    bearer = {"Authorization": f"Bearer {token}"}

    api = client.application.test_client()
    assert api.get("/api/v1/prospects", headers=bearer).status_code == 200
    row = db(lambda: ApiToken.get(ApiToken.name == "Website form"))
    assert row.last_used_at is not None

    assert client.post(f"/admin/tokens/{row.id}/revoke").status_code == 302
    assert db(lambda: ApiToken.get_by_id(row.id)).revoked_at is not None
    assert api.get("/api/v1/prospects", headers=bearer).status_code == 401
    actions = db(lambda: [e.action for e in AuditEvent.select().where(AuditEvent.record_type == "api_token")])
    assert actions == ["token.create", "token.revoke"]
    reads = db(lambda: [(e.action, e.token_id, e.actor_id) for e in AuditEvent.select()
                        .where(AuditEvent.action == "api.read")])
    assert reads == [("api.read", row.id, None)]


def test_the_token_list_never_contains_the_secret(as_role, db):
    client = as_role("manager")
    token = new_token_on(client.post("/admin/tokens", data={"name": "Sync", "scopes": ["patients"]})
                         .get_data(as_text=True))
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "Sync" in page and token[:10] in page
    assert token not in page
    assert token[10:] not in page
    assert 'id="new-token"' not in page
    assert not any(token in event.detail for event in db(lambda: list(AuditEvent.select())))


def test_a_token_needs_a_name(as_role, db):
    client = as_role("admin")
    assert client.post("/admin/tokens", data={"name": "  "}).status_code == 400
    assert db(lambda: ApiToken.select().count()) == 0


def test_revoking_an_unknown_token_is_not_found(as_role):
    assert as_role("admin").post("/admin/tokens/999/revoke").status_code == 404


def _admin_requests(target_id: int, token_id: int):
    return [
        ("GET", "/admin/users", None),
        ("POST", "/admin/users", {"email": "intruder@clinic.test", "name": "I", "role": "admin",
                                  "password": "a-long-password"}),
        ("POST", f"/admin/users/{target_id}/role", {"role": "admin"}),
        ("POST", f"/admin/users/{target_id}/active", {"active": "0"}),
        ("POST", f"/admin/users/{target_id}/password", None),
        ("GET", "/admin/tokens", None),
        ("POST", "/admin/tokens", {"name": "stolen"}),
        ("POST", f"/admin/tokens/{token_id}/revoke", None),
    ]


def test_every_admin_url_is_covered_by_the_refusal_test(app):
    covered = {(method, re.sub(r"/\d+/", "/<id>/", path)) for method, path, _ in _admin_requests(1, 1)}
    routes = {(method, re.sub(r"<int:\w+>", "<id>", rule.rule))
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == covered


@pytest.mark.parametrize("role", ["secretary"])
def test_other_roles_get_403_on_every_admin_url_and_nothing_changes(as_role, make_user, app, db, role):
    target = make_user("secretary")
    with app.app_context(), database.connection_context():
        create_token("Existing")
        token = ApiToken.get(ApiToken.name == "Existing")
    client = as_role(role)

    for method, path, data in _admin_requests(target.id, token.id):
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (method, path)

    after = fresh(db, target)
    assert (after.role, after.active, after.session_token) == ("secretary", True, target.session_token)
    assert not db(lambda: User.select().where(User.email == "intruder@clinic.test").exists())
    assert db(lambda: [(t.name, t.revoked_at) for t in ApiToken.select()]) == [("Existing", None)]
    assert db(lambda: AuditEvent.select().where(AuditEvent.action == "refused").count()) == 8


def test_signed_out_visitors_are_sent_to_the_login_page(client, make_user):
    user = make_user("secretary")
    for path in ("/admin/users", "/admin/tokens"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_pages_link_from_the_main_navigation_for_admins_only(as_role, app, make_user):
    page = as_role("admin").get("/admin/users").get_data(as_text=True)
    assert 'href="/admin/users"' in page
    other = app.test_client()
    login(other, make_user("manager"))
    assert 'href="/admin/users"' not in other.get("/prospects").get_data(as_text=True)


def test_user_supplied_names_are_escaped_on_the_admin_pages(as_role, make_user):
    client = as_role("admin")
    make_user("lead", name="<script>alert(1)</script>")
    client.post("/admin/tokens", data={"name": "<img src=x onerror=alert(1)>"})
    for path in ("/admin/users", "/admin/tokens"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page


def test_admin_forms_carry_a_csrf_token_and_a_post_without_one_changes_nothing(sqlite_url):
    from tests.conftest import make_app

    app = make_app(sqlite_url, WTF_CSRF_ENABLED=True)
    with app.app_context(), database.connection_context():
        make.user("admin", email="boss@clinic.test", name="Boss")
        target = make.user("secretary", email="awa@clinic.test", name="Awa")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "boss@clinic.test", "password": PASSWORD, "csrf_token": csrf})

    page = client.get("/admin/users").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert page.count('name="csrf_token"') >= 3  # language, sign out, each admin form
    assert client.post(f"/admin/users/{target.id}/role", data={"role": "admin"}).status_code == 400
    with app.app_context(), database.connection_context():
        assert User.get_by_id(target.id).role == "secretary"
    response = client.post(f"/admin/users/{target.id}/role", data={"role": "lead", "csrf_token": csrf})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        assert User.get_by_id(target.id).role == "lead"


@pytest.mark.parametrize("role", ["lead", "manager"])
def test_leads_and_managers_get_403_on_the_staff_account_urls(as_role, make_user, db, role):
    target = make_user("secretary")
    client = as_role(role)
    for method, path, data in _admin_requests(target.id, 1)[:5]:
        assert client.open(path, method=method, data=data).status_code == 403, (method, path)
    assert fresh(db, target).role == "secretary"



def test_the_token_shown_once_has_a_copy_button(as_role):
    client = as_role("manager")
    page = client.post("/admin/tokens", data={"name": "Website form", "scopes": ["requests"]}).get_data(as_text=True)
    new_token_on(page)
    assert re.search(r'<button type="button" class="button" data-copy="#new-token"[^>]*>Copier</button>', page)
    client.post("/language", data={"locale": "en"})
    page = client.post("/admin/tokens", data={"name": "Sync", "scopes": ["requests"]}).get_data(as_text=True)
    assert re.search(r'data-copy="#new-token"[^>]*>Copy</button>', page)
