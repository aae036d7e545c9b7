"""Default dates (issue 12): a form offers the next opening still ahead, never a closed day."""
from datetime import datetime

import pytest

from webapp.models import database
from webapp.rules.worktime import calendar_from_settings, is_open, next_opening_to_come
from webapp.services.defaults import SETTINGS
from webapp.services.followups import default_due
from webapp.services.prospects import ContactInput, record_contact
from webapp.timeutil import utcnow

# NEST: Monday to Friday 08:30-18:00, Saturday 09:00-13:00, Sunday closed; Dakar is UTC+0.
NEST = calendar_from_settings(SETTINGS["working_hours"], "SN", range(2026, 2028), "Africa/Dakar")


@pytest.mark.parametrize("now, offered", [
    (datetime(2026, 12, 5, 14, 8), datetime(2026, 12, 7, 8, 30)),    # Saturday afternoon: Monday
    (datetime(2026, 12, 6, 11, 0), datetime(2026, 12, 7, 8, 30)),    # Sunday: Monday
    (datetime(2026, 12, 2, 10, 0), datetime(2026, 12, 3, 8, 30)),    # Wednesday, open: Thursday
    (datetime(2026, 12, 2, 19, 30), datetime(2026, 12, 3, 8, 30)),   # Wednesday evening: Thursday
    (datetime(2026, 12, 3, 6, 45), datetime(2026, 12, 3, 8, 30)),    # Thursday before opening: that day
    (datetime(2026, 12, 4, 16, 0), datetime(2026, 12, 5, 9, 0)),     # Friday: Saturday morning
    (datetime(2026, 4, 30, 15, 0), datetime(2026, 5, 2, 9, 0)),      # eve of Labour Day: Saturday
])
def test_the_date_offered_is_the_next_opening_to_come(now, offered):
    assert next_opening_to_come(NEST, now) == offered
    assert is_open(NEST, offered)


def test_the_plan_a_follow_up_form_offers_that_date(app, as_role):
    client = as_role("secretary")
    with app.test_request_context(), database.connection_context():
        prospect = record_contact(ContactInput(last_name="Sy", phone="77 444 55 66"), client.user).prospect
        expected = default_due(utcnow(), app.config["TIMEZONE"]).strftime("%Y-%m-%dT%H:%M")
    page = client.get(f"/prospects/{prospect.id}").get_data(as_text=True)
    assert f'value="{expected}"' in page
