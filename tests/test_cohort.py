"""Seed 001's cohort: one month after entering, how many prospects became patients."""
from datetime import datetime, timedelta

from webapp.models import Prospect, Setting
from webapp.services.cohort import conversion_cohorts, record_snapshot
from webapp.services.prospects import ContactInput, record_contact


def enter(name, created, outcome="open", converted_after_days=None):
    prospect = record_contact(ContactInput(last_name=name, phone="", email=f"{name}@x.sn"), None, now=created).prospect
    converted = created + timedelta(days=converted_after_days) if converted_after_days is not None else None
    Prospect.update(outcome=outcome, converted_at=converted).where(Prospect.id == prospect.id).execute()


def test_a_month_counts_conversions_within_30_days_apart_from_later_ones(any_ctx):
    september = datetime(2026, 9, 10, 10)
    enter("a", september, "won", converted_after_days=12)
    enter("b", september, "won", converted_after_days=45)
    enter("c", september, "lost")
    enter("d", september)
    cohorts = {c.month: c for c in conversion_cohorts(datetime(2026, 11, 23, 12))}
    sept = cohorts["2026-09"]
    assert (sept.entered, sept.converted_30_days, sept.converted_later, sept.lost, sept.still_open) == (4, 1, 1, 1, 1)
    assert sept.rate == 0.25


def test_a_month_is_reported_only_once_its_last_prospect_had_30_days(any_ctx):
    months = [c.month for c in conversion_cohorts(datetime(2026, 11, 23, 12))]
    assert months[-1] == "2026-09" and "2026-10" not in months      # 31 Oct + 30 days is after 23 Nov
    assert conversion_cohorts(datetime(2026, 12, 1, 12))[-1].month == "2026-10"


def test_the_snapshot_is_kept_for_the_dashboards_and_replaced_each_run(any_ctx):
    enter("e", datetime(2026, 8, 3, 9), "won", converted_after_days=3)
    record_snapshot(datetime(2026, 11, 23))
    record_snapshot(datetime(2026, 11, 24))
    value = Setting.get_by_id("conversion_cohorts").value
    assert value["as_of"].startswith("2026-11-24")
    assert {"month": "2026-08", "entered": 1, "converted_30_days": 1, "converted_later": 0, "lost": 0,
            "still_open": 0, "rate": 1.0} in value["cohorts"]
