"""The catalogue of refusals: each code's words for the person (French and English through the
translations) and the codes whose HTTP status is not their class's.

A key is `code`, or `domain.code` where one code reads differently in two areas (a conflict on the
board puts the card back; on a follow-up one tries again). An entry is a lazy string, formatted with
the refusal's parameters, or a function of them (plurals)."""
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

# A refusal's status when it is not its class's (`Refusal.status`): the same code, the same status.
STATUSES = {
    "conflict": 409, "already_done": 409, "already_handled": 409,
    # 422 would say it better (a valid request a rule refuses), but the board's tests pin 400 for it.
    "lost_reason_required": 400,
    "forbidden": 403, "reopen_forbidden": 403, "scope_not_yours": 403, "unknown_scope": 403,
    "insufficient_scope": 403,
}

CHANGE_NOT_POSSIBLE = _l("This change is not possible.")
ALREADY_HANDLED = _l("Someone else has already handled this request: it is no longer waiting.")

MESSAGES = {
    # A filter, sort or value the search does not know (services.search.BadFilter).
    "filter.*": _l("The request could not be understood."),

    # The board's moves (services.board.MoveRefused).
    "move.conflict": _l("Someone else changed this prospect a moment ago. The card is back in its place; "
                        "the board is being refreshed."),
    "move.lost_reason_required": _l("Choose why this prospect is lost."),
    "move.confirmation_required": _l("Confirm the conversion."),
    "move.reopen_forbidden": _l("Only the follow-up lead or a manager can reopen a closed prospect."),
    "move.reopen_confirmation_required": _l("Confirm that this converted or lost prospect is reopened."),
    "move.retired_stage": _l("This stage is no longer used."),
    "move.not_found": _l("This prospect no longer exists."),

    # Planning and completing follow-ups (services.followups.FollowUpError).
    "followup.past_date": _l("Choose a date and time in the future."),
    "followup.date_required": _l("Give a valid date and time."),
    "followup.type_required": _l("Choose the type of follow-up."),
    "followup.next_type_not_allowed": _l("This type cannot come next in the workflow."),
    "followup.not_first_step": _l("A first follow-up must be of a first-step type."),
    "followup.do_not_contact": _l("This person asked not to be contacted: nothing can be planned."),
    "followup.closed": _l("This prospect is closed: nothing can be planned."),
    "followup.bad_value": _l("Choose the prospect's value."),
    "followup.lost_reason_required": _l("Choose why this prospect is not interested."),
    "followup.already_done": _l("This follow-up was already completed, perhaps by someone else."),
    "followup.bad_outcome": _l("Choose an outcome."),
    "followup.conflict": _l("Someone else changed this prospect a moment ago. Try again."),
    "followup.owner_not_allowed": _l("Work can only be given to an active colleague who follows prospects."),
    "followup.assign_not_allowed": _l("You plan follow-ups for yourself: the follow-up lead's rule keeps "
                                      "handing work to colleagues for her."),
    "followup.*": _l("This change could not be made."),

    # The pipeline's stages in settings (services.stages.StageError).
    "stage.holds_open": lambda p: ngettext(
        "%(num)d open prospect is still in “%(name)s”: move it to another stage before retiring this one.",
        "%(num)d open prospects are still in “%(name)s”: move them to another stage before retiring this one.",
        p["count"], name=p["name"]),
    "stage.kind_in_use": lambda p: ngettext(
        "%(num)d prospect in “%(name)s” would no longer match the stage's kind: move it to another stage "
        "first.",
        "%(num)d prospects in “%(name)s” would no longer match the stage's kind: move them to another stage "
        "first.", p["count"], name=p["name"]),
    "stage.name_required": _l("Give the stage a name."),

    # The provenance list (services.provenances.ProvenanceError).
    "provenance.empty": _l("Give at least one provenance, one a line."),
    "provenance.too_many": _l("The list has at most %(n)d provenances."),
    "provenance.too_long": _l("“%(name)s” is too long: %(n)d characters at most."),
    "provenance.no_letters": _l("“%(name)s” has no letter or digit."),
    "provenance.duplicate": _l("“%(name)s” and “%(other)s” are the same provenance: keep one."),
    "stage.name_too_long": _l("A stage name has at most %(n)d characters."),
    "stage.name_taken": _l("Another stage is already called “%(name)s”."),
    "stage.unknown_kind": _l("Choose whether the stage is open, won or lost."),
    "stage.unknown_direction": _l("Choose whether to move the stage up or down."),
    "stage.at_edge": _l("“%(name)s” cannot move further that way."),
    "stage.retired": _l("Restore “%(name)s” before moving it."),
    "stage.last_open": _l("At least one open stage must remain: new prospects land in the first one."),
    "stage.last_won": _l("At least one won stage must remain: the board needs it."),
    "stage.last_lost": _l("At least one lost stage must remain: the board needs it."),
    "stage.in_use": _l("Prospects have been in “%(name)s”, so it cannot be deleted: retire it instead."),
    "stage.*": CHANGE_NOT_POSSIBLE,

    # The follow-up workflow's types in settings (services.followup_types.FollowUpTypeError).
    "followup_type.name_required": _l("Give the follow-up type a name."),
    "followup_type.name_too_long": _l("A follow-up type name has at most %(n)d characters."),
    "followup_type.name_taken": _l("Another follow-up type is already called “%(name)s”."),
    "followup_type.description_too_long": _l("A description has at most %(n)d characters."),
    "followup_type.unknown_action": _l("Choose the action: none, trial session or sales appointment."),
    "followup_type.self_next": _l("A follow-up type cannot come next after itself."),
    "followup_type.unknown_next": _l("Choose the next types among the active follow-up types."),
    "followup_type.inactive": _l("Reactivate “%(name)s” before editing it."),
    "followup_type.last_first_step": _l("At least one active first-step type must remain: "
                                        "a follow-up workflow starts with one."),
    "followup_type.*": CHANGE_NOT_POSSIBLE,

    # Staff accounts (services.users.UserError).
    "user.email_taken": _l("An account with this email already exists."),
    "user.invalid_email": _l("This is not an email address."),
    "user.password_too_short": _l("The initial password needs at least %(n)d characters."),
    "user.password_common": _l("This password is among the most common ones, or built on the person's name: "
                               "choose another one."),
    "user.unknown_role": _l("Choose a role from the list."),
    "user.name_too_long": _l("The name is too long (%(n)d characters at most)."),
    "user.own_admin_role": _l("You cannot remove your own administrator role. Ask another administrator."),
    "user.own_account": _l("You cannot disable your own account. Ask another administrator."),

    # One's own password (services.users.UserError, as the password page words it).
    "password.wrong_current_password": _l("The current password is wrong."),
    "password.password_too_short": _l("The new password needs at least %(n)d characters."),
    "password.password_common": _l("This password is among the most common ones, or built on your name: "
                                   "an attacker would try it first. Choose another one."),

    # API tokens (services.tokens.TokenError).
    "token.no_scope": _l("Choose what the token may do."),
    "token.*": _l("Your role cannot give a token this right: ask someone whose role holds it."),

    # Suspected duplicates (services.duplicates.DuplicateError).
    "duplicate.already_decided": _l("Someone already decided about this pair: here is what they decided."),
    "duplicate.not_two_prospects": _l("A patient's record is the patient system's: it cannot be merged here."),
    "duplicate.keep_one_of_the_pair": _l("Choose which of the two records to keep."),
    "duplicate.not_found": _l("This pair no longer exists."),

    # Triage of inbound requests (services.intake.TriageError).
    "triage.already_handled": ALREADY_HANDLED,
    "triage.choose_one_record": _l("Choose one record to attach the request to."),
    "triage.emptied": _l("Its contents were deleted: there is nothing left to process."),
    "triage.*": ALREADY_HANDLED,

    # A source's settings (services.sources.SourceError), as the settings page and the CLI say them.
    "source.invalid_slug": _l("The identifier takes lower-case letters, digits and dashes (64 at most)."),
    "source.unknown_type": _l("Choose a type from the list."),
    "source.slug_taken": _l("Another source already uses this identifier."),
    "source.unknown_preset": _l("Choose a form kind from the list."),
    "source.unknown_mode": _l("Choose a mode from the list."),
    "source.unknown_owner": _l("Choose an owner rule or an active staff member from the list."),
    "source.invalid_origin": _l("Each allowed origin is a website address such as https://www.clinic.sn, "
                                "without a path."),
    "source.invalid_rate_limit": _l("Write the rate limit as “20 per minute”, “100 per hour” or “20/min” (a "
                                    "number alone is per minute), or leave it empty for no limit."),
    "source.invalid_honeypot": _l("The trap field's name takes letters, digits, dots, dashes and underscores."),
    "source.invalid_fields": _l("A field's list of names is too long."),
    "source.invalid_thank_you_url": _l("The thank-you page is a full address starting with https:// (or "
                                       "empty for ours)."),
    "source.secret_too_long": _l("The secret is too long (200 characters at most)."),
    "source.setting_required": _l("This setting is required."),
    "source.setting_not_a_number": _l("Write a whole number."),
    "source.setting_not_a_choice": _l("Choose a value from the list."),
    "source.setting_invalid": _l("This value is not valid."),
    "source.plain_needs_loopback": _l("Without encryption, the password would cross the network in clear: "
                                      "choose TLS or STARTTLS (plain is only allowed to a server on this "
                                      "machine)."),
    "source.no_secrets_key": _l("The password cannot be saved: no encryption key is configured. Set "
                                "RELANCE_SECRETS_KEY on the server (see the README), then try again."),
    "source.weak_secrets_key": _l("The password cannot be saved: RELANCE_SECRETS_KEY is too short (a Fernet "
                                  "key, or 32 characters or more)."),
    "source.secret_unreadable": _l("The stored password cannot be decrypted with the configured key: type it "
                                   "again."),
    "source.*": _l("This change could not be made."),
}


def text(domain: str, code: str, **params) -> str:
    """The refusal's words: `domain.code`, else the code alone, else the domain's fallback, else the code."""
    entry = MESSAGES.get(f"{domain}.{code}") or MESSAGES.get(code) or MESSAGES.get(f"{domain}.*")
    if entry is None:
        return code
    if callable(entry):   # a plural: a function of the parameters
        return entry(params)
    return str(entry) % params if params else str(entry)
