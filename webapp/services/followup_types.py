"""Follow-up types (seed 002), the manager's settings: add, edit, deactivate, reactivate.

A type has a name, a description (for the team), a "first step" flag (a workflow starts with one of
those), an action (none, trial session, sales appointment) and the types that may come next.

Rules: a name is non-empty, at most 60 characters and unique among active types (ignoring case); the
action is one of `FOLLOWUP_ACTIONS`; the next types are a set of other active types (a type never
lists itself); at least one active first-step type remains (otherwise no follow-up could start).
Types are referenced by follow-ups, so they are deactivated, never deleted; links to an inactive type
are kept (hidden) so reactivating it restores the workflow. Each change is one transaction, audited;
a refusal raises `FollowUpTypeError(code)` and changes nothing.
"""
from ..models import FollowUpType, FollowUpTypeNext, database
from ..refusals import Refusal
from ..rules.numbers import parse_id
from ..vocabulary import FOLLOWUP_ACTIONS
from .audit import record as audit

MAX_NAME = 60
MAX_DESCRIPTION = 500


class FollowUpTypeError(Refusal, ValueError):
    """A refused follow-up type change: `code` names the rule."""
    domain = "followup_type"
    status = 400


def ordered_types() -> list[FollowUpType]:
    """Every type in settings order: the active ones first, then the inactive ones."""
    return list(FollowUpType.select()
                .order_by(FollowUpType.active.desc(), FollowUpType.position, FollowUpType.id))


def next_ids() -> dict[int, set[int]]:
    """Each type's next types, in one query."""
    links: dict[int, set[int]] = {}
    for from_id, to_id in FollowUpTypeNext.select(FollowUpTypeNext.from_type,
                                                  FollowUpTypeNext.to_type).tuples():
        links.setdefault(from_id, set()).add(to_id)
    return links


# -- changes ------------------------------------------------------------------------------------

def create_type(name: str, description: str = "", first_step: bool = False, action: str = "none",
                next_type_ids=()) -> FollowUpType:
    """A new active type, last in order, with its next types."""
    _check_action(action)
    with database.atomic():
        types = _locked()
        name = _clean_name(name, types)
        description = _clean_description(description)
        wanted = _clean_next(next_type_ids, types, None)
        followup_type = FollowUpType.create(
            name=name, description=description, first_step=bool(first_step), action=action,
            position=max((t.position for t in types), default=-1) + 1, active=True)
        for to_id in sorted(wanted):
            FollowUpTypeNext.create(from_type=followup_type.id, to_type=to_id)
        audit("followup_type.create", "followup_type", followup_type.id,
              detail=f"{action} {'first ' if first_step else ''}{name} -> {sorted(wanted)}")
    return followup_type


def update_type(followup_type: FollowUpType, name: str, description: str = "", first_step: bool = False,
                action: str = "none", next_type_ids=()) -> bool:
    """Change every field of a type and replace its next types; False when nothing changed.

    Links to inactive types are not shown on the page, so they are kept as they are.
    """
    _check_action(action)
    with database.atomic():
        types = _locked()
        current = _find(types, followup_type)
        if not current.active:
            raise FollowUpTypeError("inactive", name=current.name)
        name = _clean_name(name, types, exclude=current.id)
        description = _clean_description(description)
        first_step = bool(first_step)
        wanted = _clean_next(next_type_ids, types, current.id)
        active_ids = {t.id for t in types if t.active}
        existing = next_ids().get(current.id, set())
        kept_inactive = {i for i in existing if i not in active_ids}
        wanted |= kept_inactive
        if current.first_step and not first_step:
            _check_first_step(types, without=current.id)
        changes = []
        for field, value in (("name", name), ("description", description), ("first_step", first_step),
                             ("action", action)):
            if getattr(current, field) != value:
                changes.append(f"{field}: {getattr(current, field)} -> {value}")
                setattr(current, field, value)
        if wanted != existing:
            changes.append(f"next: {sorted(existing)} -> {sorted(wanted)}")
        if not changes:
            return False
        current.save(only=[FollowUpType.name, FollowUpType.description, FollowUpType.first_step,
                           FollowUpType.action])
        removed, added = existing - wanted, wanted - existing
        if removed:
            FollowUpTypeNext.delete().where((FollowUpTypeNext.from_type == current.id)
                                            & FollowUpTypeNext.to_type.in_(sorted(removed))).execute()
        for to_id in sorted(added):
            FollowUpTypeNext.create(from_type=current.id, to_type=to_id)
        audit("followup_type.update", "followup_type", current.id, detail="; ".join(changes))
    _refresh(followup_type, current)
    return True


def deactivate_type(followup_type: FollowUpType) -> bool:
    """Stop offering a type (its follow-ups keep it); False when it already is inactive."""
    with database.atomic():
        types = _locked()
        current = _find(types, followup_type)
        if not current.active:
            return False
        if current.first_step:
            _check_first_step(types, without=current.id)
        current.active = False
        current.save(only=[FollowUpType.active])
        audit("followup_type.deactivate", "followup_type", current.id, detail=current.name)
    _refresh(followup_type, current)
    return True


def reactivate_type(followup_type: FollowUpType) -> bool:
    """Offer an inactive type again; False when it is active."""
    with database.atomic():
        types = _locked()
        current = _find(types, followup_type)
        if current.active:
            return False
        _clean_name(current.name, types, exclude=current.id)  # its name may have been reused
        current.active = True
        current.save(only=[FollowUpType.active])
        audit("followup_type.reactivate", "followup_type", current.id, detail=current.name)
    _refresh(followup_type, current)
    return True


# -- helpers ------------------------------------------------------------------------------------

def _locked() -> list[FollowUpType]:
    """Every type, locked until the transaction ends where the database can (PostgreSQL), so two
    managers' changes queue up instead of both passing the checks."""
    query = FollowUpType.select().order_by(FollowUpType.position, FollowUpType.id)
    if database.for_update:
        query = query.for_update()
    return list(query)


def _find(types: list[FollowUpType], followup_type: FollowUpType) -> FollowUpType:
    for candidate in types:
        if candidate.id == followup_type.id:
            return candidate
    raise FollowUpTypeError("not_found")


def _refresh(followup_type: FollowUpType, current: FollowUpType) -> None:
    """The caller's object reflects what was saved."""
    if followup_type is not current:
        for field in ("name", "description", "first_step", "action", "position", "active"):
            setattr(followup_type, field, getattr(current, field))


def _check_action(action: str) -> None:
    if action not in FOLLOWUP_ACTIONS:
        raise FollowUpTypeError("unknown_action")


def _clean_name(name: str, types: list[FollowUpType], exclude: int | None = None) -> str:
    """The name trimmed (inner runs of spaces made one), or a refusal."""
    name = " ".join((name or "").split())
    if not name:
        raise FollowUpTypeError("name_required")
    if len(name) > MAX_NAME:
        raise FollowUpTypeError("name_too_long", n=MAX_NAME)
    key = name.casefold()
    if any(t.name.casefold() == key for t in types if t.active and t.id != exclude):
        raise FollowUpTypeError("name_taken", name=name)
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise FollowUpTypeError("description_too_long", n=MAX_DESCRIPTION)
    return description


def _clean_next(values, types: list[FollowUpType], self_id: int | None) -> set[int]:
    """The next types as a set of active type ids other than the type itself, or a refusal."""
    active_ids = {t.id for t in types if t.active}
    wanted = set()
    for value in values or ():
        number = parse_id(value)
        if number is None:
            raise FollowUpTypeError("unknown_next")
        wanted.add(number)
    if self_id is not None and self_id in wanted:
        raise FollowUpTypeError("self_next")
    if not wanted <= active_ids:
        raise FollowUpTypeError("unknown_next")
    return wanted


def _check_first_step(types: list[FollowUpType], without: int) -> None:
    """Another active first-step type remains once `without` is no longer one."""
    if not any(t.active and t.first_step and t.id != without for t in types):
        raise FollowUpTypeError("last_first_step")
