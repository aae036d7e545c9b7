"""Every route, for every role: the four roles of DESIGN.md are enforced on every view."""
import re
from datetime import datetime

import pytest

from tests.conftest import login
from webapp.models import (ApiToken, DuplicateCandidate, FollowUp, FollowUpType, InboundRequest, Patient, PatientMatch,
                           User, database)
from webapp.models.users import ROLES
from webapp.security import PERMISSIONS
from webapp.services.intake import process
from webapp.services.prospects import ContactInput, record_contact
from webapp.services.sources import create_source
from webapp.services.tokens import create_token

# The website's form posts to intake without a session (its own checks: source, origin, signature, rate).
PUBLIC = {"static", "health.healthz", "auth.login", "auth.language", "intake.preflight", "intake.receive",
          "intake.thanks"}
LOGIN_ONLY = {"prospects.home", "auth.logout", "auth.password"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.endpoint.startswith("api."):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(rule, ids):
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)


def _permission(app, endpoint):
    return getattr(app.view_functions[endpoint], "permission", None)


@pytest.fixture
def ids(app, make_user):
    someone = make_user("secretary")
    with app.test_request_context(), database.connection_context():
        prospect = record_contact(ContactInput(last_name="Cible", phone="77 000 11 22"), None).prospect
        patient = Patient.create(first_name="P", last_name="Patient", external_id="X1")
        create_token("probe")
        token = ApiToken.get()
        # Unassigned, so every role allowed to complete follow-ups may open its forms.
        followup = FollowUp.create(prospect=prospect, type=FollowUpType.get(FollowUpType.first_step),
                                   due_at=datetime(2099, 1, 5, 10))
        # A website request waiting in triage.
        source = create_source("site-web", "webform", "Site web")
        inbound = InboundRequest.create(source=source, content_type="application/x-www-form-urlencoded",
                                        body=b"nom=Diop&tel=770001122")
        process(inbound.id)
        # A suspected duplicate waiting for the lead.
        other = record_contact(ContactInput(last_name="Autre", phone="77 000 11 23"), None).prospect
        pair = DuplicateCandidate.create(prospect=prospect, other_prospect=other, matched_on="phone")
        # An uncertain match waiting for the lead (reconciliation, issue 17), on a prospect of its own.
        third = record_contact(ContactInput(last_name="Patiente", phone="77 000 11 24"), None).prospect
        match = PatientMatch.create(patient=patient, prospect=third, verdict="uncertain", reasons=["names_differ"])
    # The stage holds a prospect: the walk's empty POSTs cannot delete or retire it.
    return {"prospect_id": prospect.id, "patient_id": patient.id, "user_id": someone.id, "token_id": token.id,
            "stage_id": prospect.stage_id, "followup_id": followup.id, "source_id": source.id,
            "request_id": inbound.id, "pair_id": pair.id, "index": 0, "match_id": match.id}


def test_every_staff_route_is_covered_by_a_rule(app):
    for rule, _ in _routes(app):
        assert rule.endpoint in LOGIN_ONLY or _permission(app, rule.endpoint), \
            f"{rule.endpoint} has neither a permission nor an explicit login-only entry"


def test_anonymous_visitor_is_sent_to_login_everywhere(app, client, ids):
    for rule, method in _routes(app):
        response = client.open(_url(rule, ids), method=method)
        assert response.status_code == 302 and "/login" in response.location, (rule.rule, method)


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_the_routes_its_permissions_grant(app, make_user, role, ids):
    user = make_user(role)
    client = app.test_client()
    for rule, method in _routes(app):
        login(client, user)  # again each time: the logout route ends the session
        with app.app_context(), database.connection_context():
            before = User.select().count()
        response = client.open(_url(rule, ids), method=method)
        permission = _permission(app, rule.endpoint)
        allowed = permission is None or role in PERMISSIONS[permission]
        where = f"{role} {method} {rule.rule} -> {response.status_code}"
        if allowed:
            assert response.status_code not in (401, 403, 500), where
            assert not (response.status_code == 302 and "/login" in (response.location or "")) \
                or rule.endpoint == "auth.logout", where
        else:
            assert response.status_code == 403, where
            with app.app_context(), database.connection_context():
                assert User.select().count() == before, where


def test_api_refuses_a_staff_session_without_a_token(as_role):
    client = as_role("manager")
    assert client.get("/api/v1/prospects").status_code == 401
