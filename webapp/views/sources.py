"""Integration sources, as an administrator sets them up: list, create, edit (field mapping included),
secret, activation; the intake URL and the form to paste on the website.

Validation is `services.sources`'; a refusal re-renders the form (400) with the values typed, except the
secret, which is write-only: never rendered, only "set" or "not set" (SECURITY.md).

Any other source type (the mailbox, `integrations.imap`) gets its fields rendered from its
`SourceType.settings`, named `setting_<name>` on the edit page and `<type>__<name>` in the create form
(one fieldset per type); its secret setting (the password) is a write-only field, left empty to keep
the stored one. A mailbox's page also says how its last check went.
"""
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from integrations.contract import INTAKE_MODES as MODES
from integrations.plugins import source_type, source_types
from playhouse.flask_utils import get_object_or_404

from .. import messages
from ..forms import ActiveForm, PollForm, SecretForm, SourceForm
from ..forms.sources import MAX_SECRET
from ..models import Source
from ..rules.signatures import HEADER as SIGNATURE_HEADER
from ..rules.signatures import TOLERANCE_SECONDS
from ..security import require
from ..services import sources as service
from ..services.intake import config_of
from ..services.mailbox import status_of
from ..services.request_queues import source_counts
from ..services.users import active_staff

bp = Blueprint("sources", __name__, url_prefix="/admin/sources")

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


# The words for a setting's choices (a value not listed here is shown as it is).
CHOICE_LABELS = {"tls": _l("TLS (encrypted)"), "starttls": _l("STARTTLS (encrypted after connecting)"),
                 "plain": _l("None: only to a server on this machine")}
# Settings every request-bringing type has, rendered by the page itself (a list of staff for the owner).
CORE_SETTINGS = ("mode", "owner")
POLL_ERRORS = {
    "auth_failed": _l("the server refused the user name or the password"),
    "unreachable": _l("the server could not be reached"),
    "timeout": _l("the server did not answer in time"),
    "tls_error": _l("the secure connection (TLS) failed"),
    "folder_missing": _l("the folder does not exist on the server"),
    "protocol_error": _l("the server gave an unexpected answer"),
    "no_secrets_key": _l("no encryption key is configured (RELANCE_SECRETS_KEY)"),
    "secret_unreadable": _l("the stored password cannot be decrypted with the configured key: type it again"),
    "settings_invalid": _l("the settings are incomplete or not valid"),
    "storage_failed": _l("the mails could not be saved; they will be read again at the next check"),
}


def poll_status_text(source: Source) -> tuple[str, bool]:
    """How a mailbox's last check went, in the reader's words, and whether it failed."""
    from ..i18n import short_datetime

    status = status_of(source)
    if status is None:
        return _("Not checked yet."), False
    when = short_datetime(status["at"])
    if status.get("error"):
        reason = POLL_ERRORS.get(status["error"], status["error"])
        return _("Last check: %(when)s, error: %(error)s.", when=when, error=reason), True
    return _("Last check: %(when)s, %(count)s new request(s).", when=when, count=status.get("stored", 0)), False


def error_message(code: str, field: str | None = None) -> str:
    """A refused setting in the reader's words (a source type's refusal names the setting)."""
    text = messages.text("source", code)
    label = _setting_label(field) if field else None
    return _("%(setting)s: %(error)s", setting=label, error=text) if label else text


def _setting_label(name: str) -> str | None:
    for type_name in source_types():
        kind = source_type(type_name)
        for setting in kind.settings if kind else ():
            if setting.name == name and setting.name not in CORE_SETTINGS:
                return _(setting.label)
    return None


def _get(source_id: int) -> Source:
    return get_object_or_404(Source, Source.id == source_id)


def _targets(type_name: str) -> tuple[str, ...]:
    """The names the source type's field mapping takes (a web form's fields), if it has one."""
    kind = source_type(type_name)
    mapping = next((s for s in kind.settings if s.kind == "mapping"), None) if kind else None
    return mapping.choices if mapping else ()


def _form_values(type_name: str) -> dict:
    """The settings typed in the form, as `clean_config` reads them (the mapping under `fields`)."""
    posted = SourceForm()
    values = {key: posted[key].data for key in CONFIG_KEYS}
    values["fields"] = {target: request.form.get(f"field_{target}", "").strip() for target in _targets(type_name)}
    return values


def _shown(config: dict) -> dict:
    """A stored configuration as the form shows it (origins one per line)."""
    return {**config, "allowed_origins": "\n".join(config.get("allowed_origins") or []),
            "rate_limit": rate_limit_text(config.get("rate_limit")),
            "fields": dict(config.get("fields") or {})}


def _generic(type_name: str) -> bool:
    """A type whose page is built from its settings (every one but the web form's own page)."""
    return type_name != service.DEFAULT_TYPE and source_type(type_name) is not None


def _kinds() -> dict:
    """The types whose settings the create form renders, by name."""
    return {name: source_type(name) for name in source_types() if _generic(name)}


def _fields(kind) -> tuple:
    """The settings a type's form renders itself (mode and owner are the page's own selects)."""
    return tuple(s for s in kind.settings if s.name not in CORE_SETTINGS)


def _plugin_values(kind, prefix: str) -> dict:
    """A type's settings typed in the form (fields `<prefix><name>`), plus mode and owner."""
    values = {setting.name: request.form.get(prefix + setting.name, "") for setting in _fields(kind)}
    for setting in _fields(kind):
        if setting.kind == "bool":
            values[setting.name] = "1" if request.form.get(prefix + setting.name) else "0"
    posted = SourceForm()
    values["mode"], values["owner"] = posted.mode.data, posted.owner.data
    return values


def _plugin_shown(kind, config: dict) -> dict:
    """A source's stored settings as its form shows them (never the secret)."""
    shown = {}
    for setting in _fields(kind):
        if setting.kind == "secret":
            continue
        value = config.get(setting.name, setting.default)
        if setting.kind == "list":
            value = ", ".join(value or [])
        shown[setting.name] = "" if value is None else value
    return shown


def _choices(type_name: str = service.DEFAULT_TYPE) -> dict:
    kind = source_type(type_name)
    return {"secret_form": SecretForm(formdata=None), "active_form": ActiveForm(formdata=None),
            "poll_form": PollForm(formdata=None), "types": source_types(),
            "presets": getattr(kind, "presets", {}), "preset_labels": PRESET_LABELS,
            "modes": MODES, "mode_labels": MODE_LABELS, "owner_labels": OWNER_LABELS, "staff": active_staff(),
            "targets": _targets(type_name), "target_labels": TARGET_LABELS, "kinds": _kinds(),
            "kind_fields": {name: _fields(kind) for name, kind in _kinds().items()},
            "choice_labels": CHOICE_LABELS}


def _list_page(form: dict | None = None, error: str | None = None, status: int = 200):
    sources = list(Source.select().order_by(Source.active.desc(), Source.slug))
    defaults = {"type": service.DEFAULT_TYPE, "slug": "", "name": "", **_shown(service.clean_config({}))}
    return render_template("sources/index.html", sources=sources, counts=source_counts(),
                           configs={s.id: config_of(s) for s in sources}, form=form or defaults,
                           error=error, **_choices()), status


def _edit_page(source: Source, form: dict | None = None, error: str | None = None, status: int = 200,
               error_field: str | None = None):
    if _generic(source.type):
        kind = source_type(source.type)
        config = config_of(source)
        form = form or {"name": source.name, "mode": config.get("mode", "triage"),
                        "owner": config.get("owner", "round_robin"), "settings": _plugin_shown(kind, config)}
        poll = poll_status_text(source) if kind.channel == "email" else None
        return render_template("sources/edit.html", source=source, kind=kind, fields=_fields(kind), form=form,
                               error=error, error_field=error_field, poll=poll,
                               counts=source_counts().get(source.id, {}), **_choices(source.type)), status
    action_url = url_for("intake.receive", slug=source.slug, _external=True)
    snippet = service.embed_snippet(source, action_url)
    return render_template("sources/edit.html", source=source, form=form or {
        "name": source.name, **_shown(config_of(source))}, kind=None, error=error, action_url=action_url,
        snippet=snippet, counts=source_counts().get(source.id, {}), signature_header=SIGNATURE_HEADER,
        tolerance_minutes=TOLERANCE_SECONDS // 60, **_choices(source.type)), status


@bp.get("")
@require("admin.sources")
def index():
    return _list_page()


@bp.post("")
@require("admin.sources")
def create():
    posted = SourceForm()
    type_name = posted.type.data
    form = {"slug": posted.slug.data, "type": type_name, "name": posted.name.data, **_form_values(type_name)}
    generic = _generic(type_name)
    if generic:
        kind = source_type(type_name)
        config, secret = _plugin_values(kind, f"{kind.name}__"), None
        hidden = getattr(service.secret_setting(kind), "name", None)
        # what was typed, shown again on a refusal (never the secret)
        form["plugin_settings"] = {kind.name: {k: v for k, v in config.items() if k != hidden}}
    else:
        config, secret = _form_values(type_name), posted.secret.data
    try:
        if secret and len(secret) > MAX_SECRET:
            raise service.SourceError("secret_too_long")
        source = service.create_source(form["slug"], form["type"], form["name"], config, secret,
                                       actor=current_user._get_current_object())
    except service.SourceError as refusal:
        return _list_page(form=form, error=error_message(refusal.code, refusal.field), status=400)
    if generic:
        flash(_("Source “%(name)s” created.", name=source.name), "success")
        return redirect(url_for("sources.edit", source_id=source.id))
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
    if _generic(source.type):
        kind = source_type(source.type)
        values = _plugin_values(kind, "setting_")
        hidden = getattr(service.secret_setting(kind), "name", None)
        form = {"name": SourceForm().name.data, "mode": values["mode"], "owner": values["owner"],
                "settings": {k: v for k, v in values.items() if k != hidden}}
        try:
            service.update_source(source, name=form["name"], config=values,
                                  actor=current_user._get_current_object())
        except service.SourceError as refusal:
            return _edit_page(_get(source_id), form=form, error=error_message(refusal.code, refusal.field),
                              error_field=refusal.field, status=400)
        flash(_("Settings saved."), "success")
        return redirect(url_for("sources.edit", source_id=source.id))
    form = {"name": SourceForm().name.data, **_form_values(source.type)}
    try:
        service.update_source(source, name=form["name"], config=_form_values(source.type),
                              actor=current_user._get_current_object())
    except service.SourceError as refusal:
        return _edit_page(_get(source_id), form=form, error=refusal.message, status=400)
    flash(_("Settings saved."), "success")
    return redirect(url_for("sources.edit", source_id=source.id))


@bp.post("/<int:source_id>/secret")
@require("admin.sources")
def secret(source_id):
    source = _get(source_id)
    form = SecretForm()
    clear, value = form.clear.data, form.secret.data or ""
    if not clear and not value:
        return _edit_page(source, error=_("Type the new secret, or choose to remove it."), status=400)
    if len(value) > MAX_SECRET:
        return _edit_page(source, error=service.SourceError("secret_too_long").message, status=400)
    service.update_source(source, secret=value or None, clear_secret=clear,
                          actor=current_user._get_current_object())
    flash(_("Secret removed: posts are no longer checked for a signature.") if clear
          else _("Secret saved: from now on every post must be signed with it."), "success")
    return redirect(url_for("sources.edit", source_id=source.id) + "#secret")


@bp.post("/<int:source_id>/active")
@require("admin.sources")
def set_active(source_id):
    source = _get(source_id)
    form = ActiveForm()
    if not form.validate():  # "0" or "1", nothing else
        abort(400)
    value = form.active.data
    service.update_source(source, active=value == "1", actor=current_user._get_current_object())
    flash(_("Source active: it receives requests.") if value == "1"
          else _("Source deactivated: its posts are refused (404) and nothing is stored."), "success")
    return redirect(url_for("sources.edit", source_id=source.id))


@bp.post("/<int:source_id>/poll")
@require("admin.sources")
def poll_now(source_id):
    """Ask the worker to check a mailbox now."""
    from ..queue import poll_mailbox

    source = _get(source_id)
    kind = source_type(source.type)
    if kind is None or kind.channel != "email":
        abort(404)
    poll_mailbox(source.id)
    flash(_("The mailbox will be checked in a moment: reload the page to see the result."), "success")
    return redirect(url_for("sources.edit", source_id=source.id))
