"""Seed 000's activity statuses: the boundaries of dormant and lost for each temperature."""
from datetime import datetime, timedelta

import pytest

from webapp.rules.activity import activity_status

THRESHOLDS = {"hot": [15, 30], "warm": [30, 60], "cold": [60, 90]}
NOW = datetime(2026, 11, 23, 10, 0)

BOUNDARIES = [
    ("hot", 14, "normal"), ("hot", 15, "dormant"), ("hot", 30, "dormant"), ("hot", 31, "lost"),
    ("warm", 29, "normal"), ("warm", 30, "dormant"), ("warm", 60, "dormant"), ("warm", 61, "lost"),
    ("cold", 59, "normal"), ("cold", 60, "dormant"), ("cold", 90, "dormant"), ("cold", 91, "lost"),
]


@pytest.mark.parametrize("temperature, days, expected", BOUNDARIES,
                         ids=[f"{t}-{d}-days-is-{e}" for t, d, e in BOUNDARIES])
def test_activity_status_follows_the_seed_000_thresholds(temperature, days, expected):
    last = NOW - timedelta(days=days)
    assert activity_status(temperature, last, NOW, THRESHOLDS) == expected


def test_a_part_day_does_not_count_as_a_whole_day():
    last = NOW - timedelta(days=14, hours=23)
    assert activity_status("hot", last, NOW, THRESHOLDS) == "normal"


@pytest.mark.parametrize("temperature", ["hot", "warm", "cold"])
def test_a_prospect_without_interaction_is_normal(temperature):
    assert activity_status(temperature, None, NOW, THRESHOLDS) == "normal"
