"""The pipeline board, the staff's home: columns of cards, filters in the URL, moves, live refresh."""
from urllib.parse import urlencode

from flask import (Blueprint, abort, flash, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user
from playhouse.flask_utils import get_object_or_404

from .. import htmx, vocabulary
from ..forms import MoveForm
from ..models import LostReason, Prospect, Stage
from ..rules.numbers import MAX_ID, parse_count, parse_id
from ..security import can, require
from ..services import board as service
from ..services.search import Criteria
from ..services.users import active_staff

bp = Blueprint("board", __name__, url_prefix="/board")


FILTER_KEYS = ("q", "owner", "temperature", "activity_status", "qualification", "channel")
SESSION_KEY = "board_filters"

def card_text() -> dict:
    """What every card says the same way, translated once per response rather than once per card
    (bench/board.py: a third of the board's render time went to per-card gettext and url_for)."""
    return {
        "overdue": _("Overdue"), "to_do": _("To do"), "no_name": _("(no name)"),
        "do_not_contact": _("Do not contact"), "budget": _("Actions left of the budget"),
        "budget_spent": _("Budget spent: classify"), "call": _("Call %(name)s"),
        "whatsapp": _("WhatsApp %(name)s"), "move": _("Move %(name)s"),
        "temperature": {k: str(v) for k, v in vocabulary.TEMPERATURES.items()},
        "activity": {k: str(v) for k, v in vocabulary.ACTIVITY_STATUSES.items()},
        "qualification": {k: str(v) for k, v in vocabulary.QUALIFICATIONS.items()},
        "show_url": url_for("prospects.index") + "/",
        "move_url": url_for("board.move_form", prospect_id=0)[:-1],
        "can_edit": can("prospects.edit"),
    }


def _filters(args) -> dict:
    return {key: args[key] for key in FILTER_KEYS if args.get(key)}


def _criteria(args) -> Criteria:
    return Criteria.from_args(_filters(args), current_user.id)   # BadFilter: a 400 (the refusal handler)


def _loaded(args) -> dict[int, int]:
    """How many cards of each column the browser shows, e.g. "3:60,4:30" (kept on live refresh)."""
    loaded = {}
    for part in args.get("loaded", "").split(","):
        stage, _, count = part.partition(":")
        if parse_id(stage) and parse_count(count, None) is not None:
            loaded[int(stage)] = int(count)
    return loaded


@bp.get("")
@require("prospects.view")
def index():
    if "reset" in request.args:
        session.pop(SESSION_KEY, None)
        return redirect(url_for("board.index"))
    filters = _filters(request.args)
    criteria = _criteria(request.args)
    # The home page and the nav link bring the person back to her filters. Not to her search: the
    # session cookie is signed, not encrypted, and a searched name is personal data.
    remembered = {name: value for name, value in filters.items() if name != "q"}
    if session.get(SESSION_KEY) != remembered:
        session[SESSION_KEY] = remembered
    columns = service.columns(criteria, _loaded(request.args), pinned=parse_id(request.args.get("pin")))
    response = htmx.render("board/index.html", "board/_columns.html", columns=columns, filters=filters,
                           criteria=criteria, owners=[(str(u.id), u.name) for u in active_staff()],
                           version=service.board_version(), lost_reasons=service.lost_reasons(),
                           query=urlencode(filters), fragment=htmx.wants_fragment(), card_text=card_text())
    if htmx.wants_fragment() and "loaded" not in request.args:
        # A filter change: the address bar shows the filters that are set, and only those.
        htmx.set_headers(response, push_url=remembered_url(filters))
    return response


def remembered_url(filters: dict | None = None) -> str:
    """The board with the person's last filters (DESIGN: the last filter is remembered)."""
    filters = session.get(SESSION_KEY, {}) if filters is None else filters
    return url_for("board.index") + ("?" + urlencode(filters) if filters else "")


@bp.get("/columns/<int:stage_id>")
@require("prospects.view")
def column(stage_id):
    stage = get_object_or_404(Stage, Stage.id == stage_id)
    offset = parse_count(request.args.get("offset"), 0)
    filters = _filters(request.args)
    page = service.column_page(stage, _criteria(request.args), offset, pinned=request.args.get("pin", type=int))
    return render_template("board/_cards.html", column=page, cards=page.cards, offset=offset,
                           query=urlencode(filters), card_text=card_text())


@bp.get("/changes")
@require("prospects.view")
def changes():
    """A cheap poll: 204 when nothing changed, else an event that makes the page refresh itself."""
    if request.args.get("version") == service.board_version():
        return "", 204
    response = make_response("", 200)
    return htmx.set_headers(response, trigger="board-changed")


@bp.get("/move/<int:prospect_id>")
@require("prospects.edit")
def move_form(prospect_id):
    prospect = get_object_or_404(Prospect, Prospect.id == prospect_id)
    form = MoveForm(formdata=None)
    form.lost_reason.choices = [("", "—")] + [(str(reason.id), reason.label) for reason in service.lost_reasons()]
    return htmx.render("board/move.html", "board/_move_form.html", prospect=prospect, form=form,
                       stages=service.stages(), query=urlencode(_filters(request.args)))


@bp.post("/move")
@require("prospects.edit")
def move():
    form = MoveForm()
    prospect_id = parse_id(form.prospect_id.data)
    stage = Stage.get_or_none(Stage.id == parse_id(form.stage_id.data))
    version = parse_count(form.version.data, None, highest=MAX_ID)
    if prospect_id is None or stage is None or version is None:
        abort(400)
    reason_id = parse_id(form.lost_reason.data)
    reason = LostReason.get_or_none(LostReason.id == reason_id) if reason_id else None
    before = Prospect.get_or_none(Prospect.id == prospect_id)
    moved = service.move(prospect_id, stage, current_user._get_current_object(), version=version,
                         lost_reason=reason, confirmed=form.confirm.data,
                         may_reopen=can("prospects.classify"), reopen_confirmed=form.reopen.data)
    if not htmx.is_htmx():
        flash(_("%(name)s moved to %(stage)s.", name=moved.full_name, stage=stage.name), "success")
        return redirect(url_for("board.index") + _query_suffix())
    criteria = _criteria(request.form)
    counted = service.stage_counts(criteria, (before.stage_id, stage.id))
    return render_template("board/_move_result.html", card=service.card(moved.id), counts=counted,
                           card_text=card_text(),
                           message=_("%(name)s moved to %(stage)s.", name=moved.full_name, stage=stage.name))


def _query_suffix() -> str:
    filters = _filters(request.form)
    return "?" + urlencode(filters) if filters else ""


@bp.errorhandler(service.MoveRefused)
def _refused(refusal: service.MoveRefused):
    """A refused move: without JavaScript, the board again with the reason; with htmx, the reason beside
    the card, which the board's script puts back in its column."""
    if not htmx.is_htmx():
        flash(refusal.message, "error")
        return redirect(url_for("board.index") + _query_suffix())
    response = make_response(render_template("board/_refused.html", message=refusal.message, code=refusal.code,
                                             prospect_id=parse_id(request.form.get("prospect_id"))),
                             refusal.status)
    return htmx.vary(response)
