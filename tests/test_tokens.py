"""API tokens by least privilege (issue 14): scopes chosen when created, granted only by a role that
holds them, shown with their owner, last use and scopes, rate-limited, every use audited."""
import pytest

from tests.conftest import make_app
from webapp.models import ApiToken, AuditEvent, Prospect, database
from webapp.services.tokens import TokenError, create_token

from .test_admin import new_token_on

AWA = {"first_name": "Awa", "last_name": "Diop", "phone": "77 123 45 67"}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_an_administrator_cannot_mint_a_token_that_reads_records(as_role, db):
    client = as_role("admin")
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert 'name="scopes"' not in page and "seuls un manager ou la responsable du suivi" in page
    response = client.post("/admin/tokens", data={"name": "Lecture", "scopes": ["prospects:read"]})
    assert response.status_code == 403
    assert db(lambda: ApiToken.select().count()) == 0
    assert db(lambda: AuditEvent.select().where(AuditEvent.action == "refused").count()) == 1


def test_an_administrator_lists_and_revokes_tokens_made_by_others(as_role, make_user, app, db):
    manager = make_user("manager")
    with app.app_context(), database.connection_context():
        row, _ = create_token("Logiciel patients", created_by=manager, scopes=["patients"])
    client = as_role("admin")
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "Logiciel patients" in page and manager.name in page and "Envoyer des patients" in page
    assert client.post(f"/admin/tokens/{row.id}/revoke").status_code == 302
    assert db(lambda: ApiToken.get_by_id(row.id)).revoked_at is not None


def test_a_person_grants_only_the_scopes_her_role_holds(app, make_user):
    admin, manager = make_user("admin"), make_user("manager")
    with app.app_context(), database.connection_context():
        with pytest.raises(TokenError, match="scope_not_yours"):
            create_token("x", created_by=admin, scopes=["requests"])
        with pytest.raises(TokenError, match="no_scope"):
            create_token("x", created_by=manager, scopes=[])
        with pytest.raises(TokenError, match="unknown_scope"):
            create_token("x", created_by=manager, scopes=["everything"])
        row, _ = create_token("x", created_by=manager, scopes=["requests", "prospects:read"])
        assert row.scope_list == ["prospects:read", "requests"]


def test_a_lead_creates_a_token_for_the_requests_and_may_revoke_any(as_role, make_user, app, db):
    manager = make_user("manager")
    with app.app_context(), database.connection_context():
        theirs, _ = create_token("Theirs", created_by=manager, scopes=["requests"])
    client = as_role("lead")
    assert client.post("/admin/tokens", data={"name": "Mine", "scopes": ["requests"]}).status_code == 201
    assert client.post(f"/admin/tokens/{theirs.id}/revoke").status_code == 302  # only takes access away
    assert db(lambda: ApiToken.get_by_id(theirs.id)).revoked_at is not None


def test_a_token_does_only_what_its_scopes_say(as_role, db):
    client = as_role("manager")
    token = new_token_on(client.post("/admin/tokens", data={"name": "Lecture", "scopes": ["prospects:read"]})
                         .get_data(as_text=True))
    api = client.application.test_client()
    assert api.get("/api/v1/prospects", headers=bearer(token)).status_code == 200
    refused = api.post("/api/v1/prospects", json=AWA, headers=bearer(token))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_scope"
    assert api.get("/api/v1/requests", headers=bearer(token)).status_code == 403
    assert db(lambda: Prospect.select().count()) == 0


def test_every_api_read_and_write_is_audited_with_the_token_as_actor(app, db):
    with app.app_context(), database.connection_context():
        row, token = create_token("Centre d'appels", scopes=["prospects:read", "prospects:write"])
    api = app.test_client()
    created = api.post("/api/v1/prospects", json=AWA, headers=bearer(token)).get_json()
    api.get(f"/api/v1/prospects/{created['id']}", headers=bearer(token))
    api.get("/api/v1/prospects?q=diop", headers=bearer(token))
    events = db(lambda: [(e.action, e.record_type, e.record_id, e.token_id, e.actor_label)
                         for e in AuditEvent.select().where(AuditEvent.token.is_null(False))
                         .order_by(AuditEvent.id)])
    label = f"token {row.prefix}… Centre d'appels"
    assert ("prospect.create", "prospect", created["id"], row.id, label) in events
    assert ("api.write", "create_prospect", None, row.id, label) in events
    assert ("api.read", "prospect", created["id"], row.id, label) in events
    assert ("api.read", "prospects", None, row.id, label) in events


def test_a_token_is_rate_limited(sqlite_url):
    app = make_app(sqlite_url, RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    with app.app_context(), database.connection_context():
        _, token = create_token("Bavard", scopes=["prospects:read"])
    api = app.test_client()
    statuses = [api.get("/api/v1/prospects", headers=bearer(token)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.get("/api/v1/prospects", headers=bearer(token))
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.get_json()["error"]["code"] == "rate_limited"


def test_the_command_line_token_gets_every_scope_unless_told(runner, app, db):
    result = runner.invoke(args=["create-token", "Site", "--scope", "requests"])
    assert result.exit_code == 0, result.output
    assert db(lambda: ApiToken.get(ApiToken.name == "Site")).scope_list == ["requests"]
    runner.invoke(args=["create-token", "Tout"])
    assert db(lambda: ApiToken.get(ApiToken.name == "Tout")).scope_list == \
        ["prospects:read", "prospects:write", "requests", "patients"]
