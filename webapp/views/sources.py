"""Integration sources, as an administrator sets them up: list, create, edit (field mapping included),
secret, activation; the intake URL and the form to paste on the website.

Validation is `services.sources`'; a refusal re-renders the form (400) with the values typed, except the
secret, which is write-only: never rendered, only "set" or "not set" (SECURITY.md).
"""
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from integrations.contract import INTAKE_MODES as MODES
from integrations.plugins import source_type, source_types
from playhouse.flask_utils import get_object_or_404

from ..models import Source
from ..rules.signatures import HEADER as SIGNATURE_HEADER
from ..rules.signatures import TOLERANCE_SECONDS
from ..security import require
from ..services import sources as service
from ..services.intake import config_of
from ..services.request_queues import source_counts
from ..services.users import active_staff

bp = Blueprint("sources", __name__, url_prefix="/admin/sources")

MAX_SECRET = 200
CONFIG_KEYS = ("preset", "mode", "owner", "thank_you_url", "allowed_origins", "rate_limit", "honeypot")
PRESET_LABELS = {"html": _l("Plain HTML form"), "cf7": _l("WordPress Contact Form 7"),
                 "json": _l("JSON webhook")}
MODE_LABELS = {"triage": _l("Triage by the follow-up lead"),
               "auto": _l("Automatic: the prospect is created at once")}
OWNER_LABELS = {"round_robin": _l("In turn (secretaries and follow-up lead)"),
                "none": _l("Nobody (assigned at triage)")}
TARGET_LABELS = {"full_name": _l("Full name"), "first_name": _l("First name"), "last_name": _l("Last name"),
                 "phone": _l("Phone"), "email": _l("Email"), "birth_date": _l("Birth date"),
                 "request": _l("Request (appointment, quote, programme)"), "message": _l("Message"),
                 "origin": _l("Origin (campaign)")}

RATE_UNITS = {"second": (_l("second"), _l("seconds")), "minute": (_l("minute"), _l("minutes")),
              "hour": (_l("hour"), _l("hours")), "day": (_l("day"), _l("days"))}


def rate_limit_text(limit: str | None) -> str:
    """A stored rate limit ("20 per minute", "5 per 2 hour") in the person's words: "20 par minute"."""
    try:
        limit = service.read_rate_limit(limit)
    except service.SourceError:
        return limit or ""
    match = re.fullmatch(r"(\d+) per (?:(\d+) )?([a-z]+)", limit)
    if not match:
        return limit
    count, multiple, unit = match.groups()
    if multiple:
        return _("%(count)s per %(multiple)s %(units)s", count=count, multiple=multiple,
                 units=RATE_UNITS[unit][1])
    return _("%(count)s per %(unit)s", count=count, unit=RATE_UNITS[unit][0])


def _error(code: str) -> str:
    return str({
        "invalid_slug": _l("The identifier takes lower-case letters, digits and dashes (64 at most)."),
        "unknown_type": _l("Choose a type from the list."),
        "slug_taken": _l("Another source already uses this identifier."),
        "unknown_preset": _l("Choose a form kind from the list."),
        "unknown_mode": _l("Choose a mode from the list."),
        "unknown_owner": _l("Choose an owner rule or an active staff member from the list."),
        "invalid_origin": _l("Each allowed origin is a website address such as https://www.clinic.sn, "
                             "without a path."),
        "invalid_rate_limit": _l("Write the rate limit as “20 per minute”, “100 per hour” or “20/min” (a "
                                 "number alone is per minute), or leave it empty for no limit."),
        "invalid_honeypot": _l("The trap field's name takes letters, digits, dots, dashes and underscores."),
        "invalid_fields": _l("A field's list of names is too long."),
        "invalid_thank_you_url": _l("The thank-you page is a full address starting with https:// (or "
                                    "empty for ours)."),
        "secret_too_long": _l("The secret is too long (200 characters at most)."),
    }.get(code, _l("This change could not be made.")))


def _get(source_id: int) -> Source:
    return get_object_or_404(Source, Source.id == source_id)


def _targets(type_name: str) -> tuple[str, ...]:
    """The names the source type's field mapping takes (a web form's fields), if it has one."""
    kind = source_type(type_name)
    mapping = next((s for s in kind.settings if s.kind == "mapping"), None) if kind else None
    return mapping.choices if mapping else ()


def _form_values(type_name: str) -> dict:
    """The settings typed in the form, as `clean_config` reads them (the mapping under `fields`)."""
    values = {key: request.form.get(key, "") for key in CONFIG_KEYS}
    values["fields"] = {target: request.form.get(f"field_{target}", "").strip() for target in _targets(type_name)}
    return values


def _shown(config: dict) -> dict:
    """A stored configuration as the form shows it (origins one per line)."""
    return {**config, "allowed_origins": "\n".join(config.get("allowed_origins") or []),
            "rate_limit": rate_limit_text(config.get("rate_limit")),
            "fields": dict(config.get("fields") or {})}


def _choices(type_name: str = service.DEFAULT_TYPE) -> dict:
    kind = source_type(type_name)
    return {"types": source_types(), "presets": getattr(kind, "presets", {}), "preset_labels": PRESET_LABELS,
            "modes": MODES, "mode_labels": MODE_LABELS, "owner_labels": OWNER_LABELS, "staff": active_staff(),
            "targets": _targets(type_name), "target_labels": TARGET_LABELS}


def _list_page(form: dict | None = None, error: str | None = None, status: int = 200):
    sources = list(Source.select().order_by(Source.active.desc(), Source.slug))
    defaults = {"type": service.DEFAULT_TYPE, "slug": "", "name": "", **_shown(service.clean_config({}))}
    return render_template("sources/index.html", sources=sources, counts=source_counts(),
                           configs={s.id: config_of(s) for s in sources}, form=form or defaults,
                           error=error, **_choices()), status


def _edit_page(source: Source, form: dict | None = None, error: str | None = None, status: int = 200):
    action_url = url_for("intake.receive", slug=source.slug, _external=True)
    snippet = service.embed_snippet(source, action_url)
    return render_template("sources/edit.html", source=source, form=form or {
        "name": source.name, **_shown(config_of(source))}, error=error, action_url=action_url,
        snippet=snippet, counts=source_counts().get(source.id, {}), signature_header=SIGNATURE_HEADER,
        tolerance_minutes=TOLERANCE_SECONDS // 60, **_choices(source.type)), status


@bp.get("")
@require("admin.sources")
def index():
    return _list_page()


@bp.post("")
@require("admin.sources")
def create():
    type_name = request.form.get("type", "")
    form = {"slug": request.form.get("slug", "").strip(), "type": type_name,
            "name": request.form.get("name", "").strip(), **_form_values(type_name)}
    secret = request.form.get("secret", "")
    try:
        if len(secret) > MAX_SECRET:
            raise service.SourceError("secret_too_long")
        source = service.create_source(form["slug"], form["type"], form["name"], _form_values(type_name), secret,
                                       actor=current_user._get_current_object())
    except service.SourceError as refusal:
        return _list_page(form=form, error=_error(refusal.code), status=400)
    flash(_("Source “%(name)s” created. Paste the form below on the website, or give the address to "
            "whoever sends the requests.", name=source.name), "success")
    return redirect(url_for("sources.edit", source_id=source.id))


@bp.get("/<int:source_id>")
@require("admin.sources")
def edit(source_id):
    return _edit_page(_get(source_id))


@bp.post("/<int:source_id>")
@require("admin.sources")
def update(source_id):
    source = _get(source_id)
    form = {"name": request.form.get("name", "").strip(), **_form_values(source.type)}
    try:
        service.update_source(source, name=form["name"], config=_form_values(source.type),
                              actor=current_user._get_current_object())
    except service.SourceError as refusal:
        return _edit_page(_get(source_id), form=form, error=_error(refusal.code), status=400)
    flash(_("Settings saved."), "success")
    return redirect(url_for("sources.edit", source_id=source.id))


@bp.post("/<int:source_id>/secret")
@require("admin.sources")
def secret(source_id):
    source = _get(source_id)
    clear = request.form.get("clear") == "1"
    value = request.form.get("secret", "").strip()
    if not clear and not value:
        return _edit_page(source, error=_("Type the new secret, or choose to remove it."), status=400)
    if len(value) > MAX_SECRET:
        return _edit_page(source, error=_error("secret_too_long"), status=400)
    service.update_source(source, secret=value or None, clear_secret=clear,
                          actor=current_user._get_current_object())
    flash(_("Secret removed: posts are no longer checked for a signature.") if clear
          else _("Secret saved: from now on every post must be signed with it."), "success")
    return redirect(url_for("sources.edit", source_id=source.id) + "#secret")


@bp.post("/<int:source_id>/active")
@require("admin.sources")
def set_active(source_id):
    source = _get(source_id)
    value = request.form.get("active", "")
    if value not in ("0", "1"):
        abort(400)
    service.update_source(source, active=value == "1", actor=current_user._get_current_object())
    flash(_("Source active: it receives requests.") if value == "1"
          else _("Source deactivated: its posts are refused (404) and nothing is stored."), "success")
    return redirect(url_for("sources.edit", source_id=source.id))
