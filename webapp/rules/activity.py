"""Activity status from the days since the last interaction, per temperature (seed 000).

Seed 000: a hot prospect is "en veille" from 15 to 30 days without interaction and "perdu" past a
month; warm from 30 to 60 days, then lost; cold from 60 to 90 days, then lost. The figures are
configuration (setting `activity_thresholds`: temperature -> [dormant_from, lost_after] in days);
the boundaries count whole days elapsed and are inclusive for dormant.
"""
from datetime import datetime


def activity_status(temperature: str, last_interaction_at: datetime | None, now: datetime,
                    thresholds: dict) -> str:
    """"normal", "dormant" or "lost" for a prospect of this temperature as of `now`."""
    if last_interaction_at is None:
        return "normal"
    dormant_from, lost_after = thresholds[temperature]
    days = (now - last_interaction_at).days
    if days > lost_after:
        return "lost"
    if days >= dormant_from:
        return "dormant"
    return "normal"
