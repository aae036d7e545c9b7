"""The JSON API for machines, /api/v1, behind `Authorization: Bearer <token>` (DESIGN: public contract)."""
from datetime import date
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request, url_for

from .. import ratelimit
from ..models import ActionCode, InboundRequest, Prospect
from ..models.intake import REQUEST_STATES
from ..reasons import reason_text
from ..refusals import Refusal
from ..rules.contact import contact_problems
from ..rules.numbers import parse_count
from ..security import csrf
from ..services import prospects as service
from ..services import request_queues
from ..services import search as search_service
from ..services import tokens
from ..services.audit import record as audit
from ..services.dedupe import SUSPECT, kind_of
from ..services.users import owner_by_id
from ..timeutil import isoformat, parse_iso_date, parse_iso_datetime
from ..vocabulary import CHANNELS, DIRECTIONS, QUALIFICATIONS, TEMPERATURES

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies here: a bearer token cannot be sent by a third-party page


# What a contact needs (rules/contact.py), as this API has always answered it.
CONTACT_PROBLEMS = {
    "email_invalid": ("invalid_field", "email is not an email address."),
    "name_required": ("missing_field", "first_name or last_name is required."),
    "contact_required": ("missing_field", "phone or email is required."),
}


class ApiError(Refusal):
    """A refusal in the API's own words (English, for the developers of the machines that call it),
    answered as JSON by the app's refusal handler."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(code, status=status, message=message)


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    found = tokens.verify(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        response = jsonify({"error": {"code": "unauthorized", "message": "A valid bearer token is required."}})
        response.headers["WWW-Authenticate"] = 'Bearer realm="relance"'
        return response, 401
    g.api_token = found
    limit = current_app.config["API_RATE_LIMIT"]
    if not ratelimit.hit(limit, "api", str(found.id)):
        response = jsonify({"error": {"code": "rate_limited", "message": f"Too many requests ({limit})."}})
        response.headers["Retry-After"] = str(ratelimit.retry_after(limit, "api", str(found.id)))
        return response, 429


def scope(name: str):
    """View decorator: the token must carry this scope (security.TOKEN_SCOPES)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if name not in g.api_token.scope_list:
                raise ApiError(403, "insufficient_scope", f"This token lacks the {name} scope.")
            return view(*args, **kwargs)
        wrapped.scope = name
        return wrapped
    return decorator


@bp.after_request
def _audit(response):
    """Every read and write a machine makes, with its token as the actor (SECURITY.md)."""
    token = g.get("api_token")
    if token is not None and request.endpoint:
        ident = next((value for value in (request.view_args or {}).values() if isinstance(value, int)), None)
        kind = "api.read" if request.method in ("GET", "HEAD") else "api.write"
        audit(kind, request.endpoint.removeprefix("api."), ident,
              detail=f"{request.method} {request.full_path.rstrip('?')} {response.status_code}")
    return response


def prospect_json(prospect: Prospect, next_action=None) -> dict:
    owner = prospect.owner
    stage = prospect.stage
    return {
        "id": prospect.id,
        "first_name": prospect.first_name,
        "last_name": prospect.last_name,
        "phone": prospect.phone,
        "phone_raw": prospect.phone_raw,
        "phone_valid": prospect.phone_valid,
        "email": prospect.email,
        "birth_date": prospect.birth_date.isoformat() if prospect.birth_date else None,
        "channel": prospect.channel,
        "origin_detail": prospect.origin_detail,
        "qualification": prospect.qualification,
        "temperature": prospect.temperature,
        "activity_status": prospect.activity_status,
        "stage": {"id": stage.id, "name": stage.name, "kind": stage.kind},
        "outcome": prospect.outcome,
        "owner": {"id": owner.id, "name": owner.name} if owner else None,
        "do_not_contact": prospect.do_not_contact,
        "interaction_count": prospect.interaction_count,
        "actions_left": prospect.actions_left,
        "last_interaction_at": isoformat(prospect.last_interaction_at),
        "created_at": isoformat(prospect.created_at),
        "next_action": _next_action_json(next_action),
        "url": url_for("api.prospect", prospect_id=prospect.id),
    }


def _next_action_json(followup) -> dict | None:
    if followup is None:
        return None
    return {"id": followup.id, "type": followup.type.name if followup.type_id else None,
            "due_at": isoformat(followup.due_at), "rule": followup.rule, "rule_reason": reason_text(followup),
            "reason_code": followup.reason_code, "reason_params": followup.reason_params}


def _body() -> dict:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than Python's parser goes
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return data


def _text(data: dict, name: str, max_length: int = 200) -> str:
    value = data.get(name) or ""
    if not isinstance(value, str):
        raise ApiError(422, "invalid_field", f"{name} must be a string.")
    if len(value) > max_length:
        raise ApiError(422, "invalid_field", f"{name} is longer than {max_length} characters.")
    if "\x00" in value:  # no database stores it in text, and no person types it
        raise ApiError(422, "invalid_field", f"{name} contains a NUL character.")
    return value.strip()


def _choice(data: dict, name: str, allowed, default=None):
    value = data.get(name, default)
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:   # a list or an object is no code either
        raise ApiError(422, "invalid_field", f"{name} must be one of: {', '.join(allowed)}.")
    return value


def _parsed(data: dict, name: str, parse, expected: str):
    """A field read by `parse` (None when absent), or a 422 saying what was expected."""
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        return parse(str(value))
    except ValueError:
        raise ApiError(422, "invalid_field", f"{name} must be {expected}.")


def _birth_date(data: dict) -> date | None:
    return _parsed(data, "birth_date", parse_iso_date, "YYYY-MM-DD")


def _occurred_at(data: dict):
    return _parsed(data, "occurred_at", lambda text: parse_iso_datetime(text, current_app.config["TIMEZONE"]),
                   "an ISO 8601 date and time")


def _action_code(data: dict):
    code = data.get("action_code")
    if code in (None, ""):
        return None
    found = ActionCode.get_or_none(ActionCode.code == str(code))
    if found is None:
        raise ApiError(422, "invalid_field", "action_code is not in the lexicon.")
    return found


def _owner(data: dict):
    owner_id = data.get("owner_id")
    if owner_id in (None, ""):
        return None
    owner = owner_by_id(owner_id)
    if owner is None:
        raise ApiError(422, "invalid_field", "owner_id is not an active staff member who follows prospects.")
    return owner


def _prospect_or_404(prospect_id: int) -> Prospect:
    """get_object_or_404 in the API's words."""
    found = Prospect.get_or_none(Prospect.id == prospect_id)
    if found is None:
        raise ApiError(404, "not_found", "No prospect with this id.")
    return found


def _paging() -> tuple[int, int]:
    """The page asked for and its size (50 by default, 200 at most)."""
    return (parse_count(request.args.get("page"), 1, lowest=1),
            parse_count(request.args.get("per_page"), 50, lowest=1, highest=200))


@bp.get("/prospects")
@scope("prospects:read")
def prospects():
    args = request.args.to_dict()
    for key in ("phone", "email"):
        if args.get(key):
            args["q"] = args.pop(key)
    try:
        criteria = search_service.Criteria.from_args(args)
    except search_service.BadFilter as exc:
        raise ApiError(400, "invalid_filter", f"Unknown filter or value: {exc}.")
    page, per_page = _paging()
    rows, total = search_service.search(criteria, page, per_page)
    actions = search_service.next_actions([p.id for p in rows])
    return jsonify({"items": [prospect_json(p, actions.get(p.id)) for p in rows], "total": total,
                    "page": page, "per_page": per_page})


@bp.get("/prospects/<int:prospect_id>")
@scope("prospects:read")
def prospect(prospect_id):
    found = _prospect_or_404(prospect_id)
    return jsonify(prospect_json(found, search_service.next_actions([found.id]).get(found.id)))


@bp.post("/prospects")
@scope("prospects:write")
def create_prospect():
    data = _body()
    contact = service.ContactInput(
        first_name=_text(data, "first_name", 100), last_name=_text(data, "last_name", 100),
        phone=_text(data, "phone", 40), email=_text(data, "email") or None, birth_date=_birth_date(data),
        channel=_choice(data, "channel", CHANNELS, "other"),
        direction=_choice(data, "direction", DIRECTIONS, "in"),
        qualification=_choice(data, "qualification", QUALIFICATIONS),
        temperature=_choice(data, "temperature", TEMPERATURES, "warm"),
        note=_text(data, "note", 5000), origin_detail=_text(data, "origin_detail"),
        owner=_owner(data), action_code=_action_code(data), occurred_at=_occurred_at(data))
    problems = contact_problems(contact.first_name, contact.last_name, contact.phone, contact.email)
    if problems:
        raise ApiError(422, *CONTACT_PROBLEMS[problems[0]])
    # A machine cannot answer "same person?": a known phone or email under another name or birth date
    # gives a new prospect (201), linked to those records as a suspected duplicate for the lead.
    outcome = service.record_contact(contact, None, decision=SUSPECT)
    body = prospect_json(outcome.prospect) if outcome.prospect else {"id": None}
    body.update({"matched_on": outcome.matched_on, "recorded_on": outcome.recorded_on,
                 "patient_id": outcome.patient.id if outcome.patient else None,
                 "interaction_id": outcome.interaction.id,
                 "suspected_duplicates": [{"kind": kind_of(record), "id": record.id, "matched_on": keys}
                                          for record, keys in outcome.shares_with]})
    return jsonify(body), 201 if outcome.created else 200


@bp.post("/prospects/<int:prospect_id>/interactions")
@scope("prospects:write")
def add_interaction(prospect_id):
    found = _prospect_or_404(prospect_id)
    data = _body()
    channel = _choice(data, "channel", CHANNELS)
    direction = _choice(data, "direction", DIRECTIONS)
    if channel is None or direction is None:
        raise ApiError(422, "missing_field", "channel and direction are required.")
    interaction = service.add_interaction(found, channel=channel, direction=direction,
                                          note=_text(data, "note", 5000), action_code=_action_code(data),
                                          occurred_at=_occurred_at(data))
    return jsonify({"id": interaction.id, "prospect_id": found.id, "channel": channel,
                    "direction": direction, "occurred_at": isoformat(interaction.occurred_at),
                    "action_code": interaction.action_code.code if interaction.action_code_id else None,
                    "note": interaction.note}), 201


def request_json(inbound: InboundRequest) -> dict:
    """An inbound request as the contract shows it: its state and where it went, never its raw body."""
    return {
        "id": inbound.id,
        "source": inbound.source.slug,
        "received_at": isoformat(inbound.received_at),
        "state": inbound.state,
        "error": inbound.error if inbound.state in ("failed", "dismissed", "spam") else None,
        "attempts": inbound.attempts,
        "processed_at": isoformat(inbound.processed_at) if inbound.state == "processed" else None,
        "prospect_id": inbound.prospect_id,
        "patient_id": inbound.patient_id,
        "triage": inbound.triage,
    }


@bp.get("/requests")
@scope("requests")
def requests_list():
    state = request.args.get("state")
    if state and state not in REQUEST_STATES:
        raise ApiError(400, "invalid_filter", f"state must be one of {', '.join(REQUEST_STATES)}.")
    page, per_page = _paging()
    rows, total = request_queues.page_of_requests(state, request.args.get("source"), page, per_page)
    return jsonify({"items": [request_json(r) for r in rows], "total": total, "page": page,
                    "per_page": per_page})


@bp.get("/requests/<int:request_id>")
@scope("requests")
def request_detail(request_id):
    found = request_queues.with_source(request_id)
    if found is None:
        raise ApiError(404, "not_found", "No request with this id.")
    return jsonify(request_json(found))
