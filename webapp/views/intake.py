"""Public web-form intake, `POST /intake/<source>` (DESIGN: public contract).

The order is the promise: check what must be refused before reading (unknown source, size, rate), store
the raw post in one committed write, then answer at once and leave the processing to the worker. A
browser post is sent on to the thank-you page (303); a machine gets 202 and a JSON reference. What
cannot be read is stored too, and answered with a 4xx that says why.
"""
import time

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from integrations.plugins import source_type

from .. import ratelimit
from ..models import Source
from ..rules import signatures
from ..rules.web import is_web_url
from ..security import csrf
from ..services import intake as service
from ..services.handover import requests_handover
from ..services.intake_store import find_source

bp = Blueprint("intake", __name__, url_prefix="/intake")
csrf.exempt(bp)  # a public endpoint: no session, no cookie to ride on

PREFLIGHT_HEADERS = "Content-Type, Idempotency-Key, X-Relance-Signature"
# What a browser's form posts: a person, who wants a page back.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# The limit per sender address of a source whose type offers no rate-limit setting of its own.
DEFAULT_RATE_LIMIT = "20 per minute"


def error_messages() -> dict[str, str]:
    """What a person who filled the form reads, per error code (machines read the code)."""
    return {
        "unknown_source": _("This form is not (or no longer) connected to our follow-up."),
        "too_large": _("What you sent is too large."),
        "rate_limited": _("Too many requests from your connection. Please wait a minute and try again."),
        "unsupported_content_type": _("This kind of content cannot be received here."),
        "unknown_charset": _("The text encoding of the form is not supported."),
        "bad_encoding": _("The text of the form could not be read."),
        "bad_json": _("The JSON body could not be read."),
        "json_not_object": _("The JSON body must be an object."),
        "bad_multipart": _("The form data could not be read."),
        "too_many_fields": _("The form has too many fields."),
        "missing_contact": _("Please give a phone number or an email address so that we can answer you."),
        "origin_not_allowed": _("This form cannot be sent from this website."),
        "bad_signature": _("The request signature is missing or wrong."),
        "storage_unavailable": _("Your request could not be saved just now. Please send it again in a moment."),
    }


def _for_person() -> bool:
    """A browser submitting a form, which wants a page; anything else is a machine wanting JSON."""
    accept = request.accept_mimetypes
    return request.mimetype in FORM_TYPES and accept["text/html"] > accept["application/json"]


def _refuse(code: str, status: int, source_slug: str | None = None, request_id: int | None = None):
    message = error_messages().get(code, code)
    if _for_person():
        response = current_app.response_class(
            render_template("intake/public.html", status=status, error=message, slug=source_slug),
            mimetype="text/html")
    else:
        body = {"error": {"code": code, "message": message}}
        if request_id is not None:
            body["id"] = request_id
            body["url"] = url_for("api.request_detail", request_id=request_id)
        response = jsonify(body)
    return response, status


def _allowed_origin(config: dict) -> str | None:
    """The Origin to echo in CORS headers, or None. An empty list allows any origin."""
    origin = request.headers.get("Origin")
    allowed = config.get("allowed_origins") or []
    if origin and (not allowed or origin in allowed):
        return origin
    return None


def _cors(response, origin: str | None):
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    return response


def _active_source(slug: str) -> Source | None:
    """The active source of this slug, unless its type says it takes no posts (a mailbox). A type whose
    plugin is gone still gets its posts stored, in the failed queue, for a replay once it is back."""
    source = find_source(slug)
    if source is None:
        return None
    kind = source_type(source.type)
    return source if kind is None or kind.receives_posts else None


def _rate_limited(slug: str, config: dict) -> bool:
    limit = (config.get("rate_limit", DEFAULT_RATE_LIMIT) or "").strip()   # set empty: no limit
    return not ratelimit.hit(limit, "intake", slug, request.remote_addr or "")


def _read_body(max_bytes: int) -> bytes | None:
    """The body, or None when it is over the limit (announced or streamed)."""
    if request.content_length is not None and request.content_length > max_bytes:
        return None
    body = request.stream.read(max_bytes + 1)
    return None if len(body) > max_bytes else body


@bp.route("/<slug>", methods=["OPTIONS"])
def preflight(slug: str):
    source = _active_source(slug)
    origin = _allowed_origin(service.config_of(source)) if source else None
    if origin is None:
        return _refuse("origin_not_allowed", 403)
    response = current_app.response_class(status=204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = PREFLIGHT_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return _cors(response, origin)


@bp.post("/<slug>")
def receive(slug: str):
    source = _active_source(slug)
    if source is None:
        return _refuse("unknown_source", 404)
    config = service.config_of(source)
    if _rate_limited(slug, config):
        return _refuse("rate_limited", 429, slug)
    body = _read_body(current_app.config["INTAKE_MAX_BYTES"])
    if body is None:
        return _refuse("too_large", 413, slug)
    spam_reason = None
    origin = request.headers.get("Origin")
    allowed = config.get("allowed_origins") or []
    if origin and allowed and origin not in allowed:
        spam_reason = "origin_not_allowed"
    elif source.secret:
        problem = signatures.check(source.secret, request.headers.get(signatures.HEADER), body, time.time())
        if problem:
            spam_reason = f"bad_signature:{problem}"
    try:
        received = service.accept(
            source, content_type=request.content_type or "", headers=service.kept_headers(request.environ),
            body=body, remote_addr=request.remote_addr or "",
            idempotency_key=request.headers.get("Idempotency-Key"), spam_reason=spam_reason,
            dispatch=requests_handover.add)
    except Exception:  # the database refused the write (full disk, lock timeout): nothing was promised
        current_app.logger.exception("intake: could not store a post to %s", slug)
        response, status = _refuse("storage_unavailable", 503, slug)
        response.headers["Retry-After"] = "5"
        return response, status
    if spam_reason:  # kept for review as spam, and refused
        code = spam_reason.partition(":")[0]
        return _refuse(code, 403 if code == "origin_not_allowed" else 401, slug, received.id)
    if received.error is not None:
        response, status = _refuse(received.error.code, received.error.status, slug, received.id)
        return _cors(response, _allowed_origin(config)), status
    if _for_person():
        thanks = config.get("thank_you_url") or ""
        # A page set before addresses were checked may be unusable: the default page rather than a 500.
        return redirect(thanks if is_web_url(thanks) else url_for("intake.thanks", slug=slug), 303)
    response = jsonify({"id": received.id, "url": url_for("api.request_detail", request_id=received.id),
                        # a honeypot catch is answered like any other post: bots learn nothing
                        "state": "received" if received.state == "spam" else received.state,
                        "duplicate": received.duplicate})
    response.status_code = 202
    return _cors(response, _allowed_origin(config))


@bp.get("/<slug>/merci")
def thanks(slug: str):
    """The default thank-you page, for sources that do not name their own."""
    source = _active_source(slug)
    return render_template("intake/public.html", status=200, error=None, slug=slug,
                           name=source.name if source else "")
