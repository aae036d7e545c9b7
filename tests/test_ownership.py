"""Who work can be given to (issue 14): an active person whose role works prospects, never an
administrator or a disabled account; a secretary hands work to a colleague only where the lead's rule
allows it."""
from datetime import timedelta

import pytest

from webapp.models import FollowUp, FollowUpType, Setting, User, database
from webapp.services.followups import FollowUpError, plan_followup
from webapp.services.prospects import ContactInput, record_contact
from webapp.services.tokens import create_token
from webapp.timeutil import utcnow


def first_step() -> FollowUpType:
    return FollowUpType.select().where(FollowUpType.first_step & FollowUpType.active).first()


def plan(owner, user):
    prospect = record_contact(ContactInput(last_name="Sow", phone="77 222 33 44"), user).prospect
    return plan_followup(prospect, first_step(), owner, utcnow() + timedelta(days=1), "warm", "", user, utcnow())


@pytest.mark.parametrize("role, active", [("admin", True), ("secretary", False)])
def test_a_follow_up_is_never_given_to_an_administrator_or_a_disabled_account(ctx, make_user, role, active):
    lead, other = make_user("lead"), make_user(role)
    User.update(active=active).where(User.id == other.id).execute()
    with pytest.raises(FollowUpError, match="owner_not_allowed"):
        plan(User.get_by_id(other.id), lead)
    assert FollowUp.select().count() == 0


def test_a_secretary_plans_for_herself_unless_the_lead_lets_her_hand_work_over(ctx, make_user):
    codou, aminata = make_user("secretary"), make_user("secretary")
    assert plan(codou, codou).owner_id == codou.id
    with pytest.raises(FollowUpError, match="assign_not_allowed"):
        plan(aminata, codou)
    Setting.update(value="team").where(Setting.key == "secretaries_assign").execute()
    assert plan(aminata, codou).owner_id == aminata.id


def test_the_lead_gives_work_to_any_colleague(ctx, make_user):
    lead, codou = make_user("lead"), make_user("secretary")
    assert plan(codou, lead).owner_id == codou.id


def test_a_secretary_sees_no_owner_field_on_the_new_contact_form_and_her_contact_is_hers(as_role, db):
    client = as_role("secretary")
    page = client.get("/prospects/new").get_data(as_text=True)
    assert 'name="owner"' not in page
    client.post("/prospects/new", data={"last_name": "Sow", "phone": "77 222 33 44", "qualification": "quote",
                                        "temperature": "warm", "channel": "phone", "owner": "1"})
    from webapp.models import Prospect
    assert db(lambda: Prospect.get()).owner_id == client.user.id


def test_the_lead_cannot_give_a_new_contact_to_an_administrator(as_role, make_user, db):
    admin = make_user("admin")
    client = as_role("lead")
    page = client.get("/prospects/new").get_data(as_text=True)
    assert f'value="{admin.id}"' not in page.split('name="owner"')[1].split("</select>")[0]
    refused = client.post("/prospects/new", data={"last_name": "Sow", "phone": "77 222 33 44",
                                                  "qualification": "quote", "temperature": "warm",
                                                  "channel": "phone", "owner": str(admin.id)})
    from webapp.models import Prospect
    assert refused.status_code == 400 and db(lambda: Prospect.select().count()) == 0


def test_the_api_refuses_an_administrator_as_owner(app, make_user):
    admin = make_user("admin")
    with app.app_context(), database.connection_context():
        _, token = create_token("t")
    response = app.test_client().post("/api/v1/prospects", headers={"Authorization": f"Bearer {token}"},
                                      json={"last_name": "Sow", "phone": "77 222 33 44", "owner_id": admin.id})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_field"
