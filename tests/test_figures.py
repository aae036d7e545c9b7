"""The manager's conversion figures (seed 001): one month, 30 days after entering, as of any date."""
from datetime import datetime, timedelta

import pytest

from tests.conftest import login
from webapp.models import FollowUp, FollowUpType, OwnerChange, Prospect, TemperatureChange
from webapp.services.cohort import month_report
from webapp.services.prospects import ContactInput, record_contact


def enter(name, created, *, channel="phone", converted_after_days=None, followed_up_after_days=None):
    prospect = record_contact(ContactInput(last_name=name, phone="", email=f"{name}@x.sn", channel=channel),
                              None, now=created).prospect
    if converted_after_days is not None:
        Prospect.update(outcome="won", converted_at=created + timedelta(days=converted_after_days)).where(
            Prospect.id == prospect.id).execute()
    if followed_up_after_days is not None:
        FollowUp.create(prospect=prospect, type=FollowUpType.get(FollowUpType.first_step), state="done",
                        due_at=created, done_at=created + timedelta(days=followed_up_after_days))
    return prospect


def lines(report, dimension):
    return {line.key: (line.entered, line.converted) for line in report.by[dimension]}


def test_a_month_is_broken_down_by_channel_and_by_follow_up(any_ctx):
    september = datetime(2026, 9, 8, 9)
    enter("awa", september, channel="webform", converted_after_days=10, followed_up_after_days=2)
    enter("binta", september, channel="webform", converted_after_days=40, followed_up_after_days=3)
    enter("coumba", september, channel="phone")
    enter("octobre", datetime(2026, 10, 2, 9), converted_after_days=1)
    report = month_report(datetime(2026, 9, 1).date(), datetime(2026, 12, 1))
    assert (report.total.entered, report.total.converted, report.complete) == (3, 1, True)
    assert lines(report, "channel") == {"webform": (2, 1), "phone": (1, 0)}
    assert lines(report, "followed_up") == {"yes": (2, 1), "no": (1, 0)}


def test_figures_as_of_an_earlier_date_ignore_what_happened_after_it(any_ctx):
    september = datetime(2026, 9, 8, 9)
    enter("awa", september, converted_after_days=20, followed_up_after_days=15)
    then = month_report(september.date(), datetime(2026, 9, 20))
    assert (then.total.converted, then.complete) == (0, False)
    assert lines(then, "followed_up") == {"no": (1, 0)}
    assert month_report(september.date(), datetime(2026, 11, 1)).total.converted == 1


def test_the_temperature_counted_is_the_one_at_30_days(any_ctx):
    september = datetime(2026, 9, 8, 9)
    prospect = enter("awa", september)
    Prospect.update(temperature="cold").where(Prospect.id == prospect.id).execute()
    TemperatureChange.create(prospect=prospect, old="hot", new="cold", changed_at=september + timedelta(days=45))
    report = month_report(september.date(), datetime(2026, 12, 1))
    assert lines(report, "temperature") == {"hot": (1, 0)}


def test_the_owner_counted_is_the_one_at_30_days_as_the_reassignments_recorded_it(any_ctx):
    """A prospect reassigned after its 30 days counts for the owner it had then; one reassigned within
    them, for the new owner. Reassignments go through the edit form's service, which records them."""
    from tests import factories as make
    from webapp.services.prospects import update_identity
    codou, aminata, khady = make.user("secretary", name="Codou"), make.user("secretary", name="Aminata"), \
        make.user("lead", name="Khady")
    september = datetime(2026, 9, 8, 9)
    late = enter("awa", september)
    soon = enter("binta", september)
    Prospect.update(owner=codou).where(Prospect.id.in_([late.id, soon.id])).execute()
    update_identity(Prospect.get_by_id(late.id), {"owner": aminata}, khady, now=september + timedelta(days=45))
    update_identity(Prospect.get_by_id(soon.id), {"owner": aminata}, khady, now=september + timedelta(days=5))
    update_identity(Prospect.get_by_id(soon.id), {"owner": aminata}, khady, now=september + timedelta(days=6))
    assert OwnerChange.select().count() == 2          # the same owner again is no reassignment
    report = month_report(september.date(), datetime(2026, 12, 1))
    assert lines(report, "owner") == {"Codou": (1, 0), "Aminata": (1, 0)}
    # as of a day before the first reassignment, both were Codou's
    assert lines(month_report(september.date(), september + timedelta(days=4)), "owner") == {"Codou": (2, 0)}


@pytest.mark.parametrize("role, status", [("manager", 200), ("lead", 200), ("secretary", 403), ("admin", 403)])
def test_the_figures_page_is_for_the_manager_and_the_lead(app, client, make_user, role, status):
    login(client, make_user(role))
    assert client.get("/figures/conversion").status_code == status


def test_the_figures_page_shows_the_month_in_french(client, make_user, ctx):
    enter("awa", datetime(2026, 9, 8, 9), channel="webform", converted_after_days=5)
    login(client, make_user("manager"))
    page = client.get("/figures/conversion?month=2026-09&as_of=2026-12-01").get_data(as_text=True)
    assert "Septembre 2026" in page and "1 / 1" in page and "100 %" in page


def test_an_unreadable_month_or_date_is_explained_not_a_500(app, client, make_user):
    login(client, make_user("manager"))
    response = client.get("/figures/conversion?month=2026-13&as_of=31/02/2026")
    assert response.status_code == 200
    assert "pas pu être lu" in response.get_data(as_text=True)
