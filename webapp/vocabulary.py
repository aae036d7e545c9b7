"""The words of the domain (DESIGN.md): each set of codes with its label in the reader's language.

The keys are what the database stores and the API speaks; models take their choices from here, forms
their options, templates their labels (`labels.*`) and the API its allowed values.
"""
from flask_babel import lazy_gettext as _l

# -- the prospect ---------------------------------------------------------------------------------
CHANNELS = {"phone": _l("Phone"), "email": _l("Email"), "visit": _l("Visit"), "facebook": _l("Facebook"),
            "whatsapp": _l("WhatsApp"), "sms": _l("SMS"), "webform": _l("Website form"),
            "event": _l("Event"), "other": _l("Other")}
DIRECTIONS = {"in": _l("Incoming"), "out": _l("Outgoing")}
# What the person asked for (seed 001).
QUALIFICATIONS = {"appointment": _l("Appointment"), "quote": _l("Quote / prices"),
                  "programme": _l("Programme information")}
TEMPERATURES = {"hot": _l("Hot"), "warm": _l("Warm"), "cold": _l("Cold")}
# The activity status "lost" (no interaction for too long, seed 000) is not the lost stage or outcome:
# its own words, so that "Perdu" on a card always means the stage.
ACTIVITY_STATUSES = {"normal": _l("Normal"), "dormant": _l("Dormant"), "lost": _l("No news")}
# Where the prospect ended: still open, converted, lost (the kind of the stage it is in).
PROSPECT_OUTCOMES = {"open": _l("Open"), "won": _l("Converted"), "lost": _l("Lost")}
# Two different "reasons", two words: what the person asked for (the qualification), and why a
# prospect was lost.
FIELDS = {"qualification": _l("Request"), "lost_reason": _l("Lost reason")}
MATCH_KEYS = {"phone": _l("phone number"), "email": _l("email"), "birth_date": _l("birth date")}

# -- the pipeline and the follow-up workflow (seed 002) -----------------------------------------------
STAGE_KINDS = {"open": _l("Open"), "won": _l("Won"), "lost": _l("Lost")}
FOLLOWUP_ACTIONS = {"none": _l("None"), "trial": _l("Trial session"), "appointment": _l("Sales appointment")}
FOLLOWUP_OUTCOMES = {"not_reached": _l("Not reached"), "signed_up": _l("Signed up"),
                     "next_step": _l("Next step"), "not_interested": _l("Not interested")}
# A follow-up's state as stored, and as the day sees it (overdue, abandoned: services.followups).
FOLLOWUP_STATES = {"planned": _l("Planned"), "done": _l("Done"), "cancelled": _l("Cancelled")}
FOLLOWUP_DAY_STATES = {"planned": FOLLOWUP_STATES["planned"], "overdue": _l("Overdue"),
                       "abandoned": _l("Abandoned"), "done": FOLLOWUP_STATES["done"],
                       "cancelled": FOLLOWUP_STATES["cancelled"]}
# The follow-up's value (seed 002) is a temperature; its "lost" is the activity status's "no news".
FOLLOWUP_VALUES = {**TEMPERATURES, "lost": ACTIVITY_STATUSES["lost"]}
# The follow-up outcome "signed up" (seed 002) in the words of what was asked (seed 001): one comes to
# an appointment, accepts a quote, signs up for a programme.
SIGNED_UP = {"appointment": _l("Came to the appointment"), "quote": _l("Quote accepted"),
             "programme": _l("Signed up"), None: _l("Converted")}

# -- people and machines ------------------------------------------------------------------------------
ROLES = {"secretary": _l("Secretary"), "lead": _l("Follow-up lead"), "manager": _l("Manager"),
         "admin": _l("Administrator")}
SCOPES = {"prospects:read": _l("Read prospects"), "prospects:write": _l("Record prospects and contacts"),
          "requests": _l("Read inbound requests"), "patients": _l("Send patients (patient system)")}

# The labels as templates read them: `labels.temperature.hot`.
TEMPLATE_LABELS = {
    "temperature": TEMPERATURES, "activity": ACTIVITY_STATUSES, "qualification": QUALIFICATIONS,
    "channel": CHANNELS, "direction": DIRECTIONS, "outcome": PROSPECT_OUTCOMES, "role": ROLES,
    "match": MATCH_KEYS, "scope": SCOPES, "field": FIELDS, "followup_outcome": FOLLOWUP_OUTCOMES,
    "followup_value": FOLLOWUP_VALUES, "followup_state": FOLLOWUP_DAY_STATES,
}


def choices(mapping: dict) -> list[tuple[str, object]]:
    """A set's (code, label) pairs, in its order: a form's options."""
    return list(mapping.items())


def signed_up(qualification: str | None):
    """The "signed up / converted" outcome's label for a prospect with this qualification."""
    return SIGNED_UP.get(qualification, SIGNED_UP[None])
