"""Translated labels for the domain's codes: one place, used by forms, templates and mails."""
from flask_babel import lazy_gettext as _l

TEMPERATURES = {"hot": _l("Hot"), "warm": _l("Warm"), "cold": _l("Cold")}
# The activity status "lost" (no interaction for too long, seed 000) is not the lost stage or outcome:
# its own words, so that "Perdu" on a card always means the stage.
ACTIVITY = {"normal": _l("Normal"), "dormant": _l("Dormant"), "lost": _l("No news")}
QUALIFICATIONS = {"appointment": _l("Appointment"), "quote": _l("Quote / prices"),
                  "programme": _l("Programme information")}
CHANNELS = {"phone": _l("Phone"), "email": _l("Email"), "visit": _l("Visit"), "facebook": _l("Facebook"),
            "whatsapp": _l("WhatsApp"), "sms": _l("SMS"), "webform": _l("Website form"),
            "event": _l("Event"), "other": _l("Other")}
DIRECTIONS = {"in": _l("Incoming"), "out": _l("Outgoing")}
OUTCOMES = {"open": _l("Open"), "won": _l("Converted"), "lost": _l("Lost")}
ROLES = {"secretary": _l("Secretary"), "lead": _l("Follow-up lead"), "manager": _l("Manager"),
         "admin": _l("Administrator")}
# Two different "reasons", two words: what the person asked for (the qualification), and why a
# prospect was lost.
FIELDS = {"qualification": _l("Request"), "lost_reason": _l("Lost reason")}
# The follow-up outcome "signed up" (seed 002) in the words of what was asked (seed 001): one comes to
# an appointment, accepts a quote, signs up for a programme.
SIGNED_UP = {"appointment": _l("Came to the appointment"), "quote": _l("Quote accepted"),
             "programme": _l("Signed up"), None: _l("Converted")}
MATCH_KEYS = {"phone": _l("phone number"), "email": _l("email"), "birth_date": _l("birth date")}
SCOPES = {"prospects:read": _l("Read prospects"), "prospects:write": _l("Record prospects and contacts"),
          "requests": _l("Read inbound requests"), "patients": _l("Send patients (patient system)")}


def choices(mapping: dict) -> list[tuple[str, object]]:
    return list(mapping.items())


def signed_up(qualification: str | None):
    """The "signed up / converted" outcome's label for a prospect with this qualification."""
    return SIGNED_UP.get(qualification, SIGNED_UP[None])


def register(app) -> None:
    from .reasons import answer_target_text, reason_text
    from .rules.phones import display_phone

    app.jinja_env.filters["phone"] = lambda value: display_phone(value, app.config["PHONE_REGION"])
    app.jinja_env.filters["reason"] = reason_text    # a rule follow-up's reason, in the reader's language
    app.jinja_env.globals["answer_target_text"] = answer_target_text
    app.jinja_env.globals["labels"] = {
        "temperature": TEMPERATURES, "activity": ACTIVITY, "qualification": QUALIFICATIONS,
        "channel": CHANNELS, "direction": DIRECTIONS, "outcome": OUTCOMES, "role": ROLES,
        "match": MATCH_KEYS, "scope": SCOPES, "field": FIELDS,
    }
    app.jinja_env.globals["signed_up_label"] = signed_up
