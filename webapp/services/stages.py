"""Pipeline stages, the manager's settings: add, rename, reorder, re-kind, retire, restore, delete.

Order: positions stay dense, 0..n-1 over every stage, the non-retired stages first (the board's
order) and the retired ones after them. So retiring sends a stage to the end; restoring puts it back
among the live stages where `add_stage` would put a new one (an open stage after the last open
one, a won or lost stage last); moving swaps a live stage with its live neighbour, so every move
changes the board. Retired stages are not moved.

Rules: a name is non-empty, at most 60 characters and unique among live stages (ignoring case); at
least one live open stage remains (new prospects land in the first one), and one live won and one
live lost stage (the board needs them). A stage still holding open prospects is not retired (retire
is for stages no longer used); a stage that has ever held a prospect is not deleted, only retired.
Each change is one transaction, audited; a refusal raises `StageError(code)` and changes nothing.
"""
from peewee import fn

from ..models import Prospect, Stage, StageChange, database
from ..refusals import Refusal
from ..vocabulary import STAGE_KINDS
from .audit import record as audit

MAX_NAME = 60
DIRECTIONS = ("up", "down")


class StageError(Refusal, ValueError):
    """A refused stage change: `code` names the rule, `count` how many prospects are in the way."""
    domain = "stage"
    status = 400

    def __init__(self, code: str, count: int = 0, **params):
        super().__init__(code, count=count, **params)
        self.count = count


def ordered_stages() -> list[Stage]:
    """Every stage in settings order: the live ones as on the board, then the retired ones."""
    return list(Stage.select().order_by(Stage.retired, Stage.position, Stage.id))


def open_stages() -> list[Stage]:
    """The live open stages in board order; new prospects land in the first."""
    return list(Stage.select().where((Stage.kind == "open") & ~Stage.retired)
                .order_by(Stage.position, Stage.id))


def prospect_counts() -> dict[int, int]:
    """How many prospects each stage holds, in one grouped query."""
    query = (Prospect.select(Prospect.stage, fn.COUNT(Prospect.id))
             .group_by(Prospect.stage).tuples())
    return {stage_id: count for stage_id, count in query}


def used_stage_ids() -> set[int]:
    """Stages a prospect has ever been moved from or to, in one query (these cannot be deleted)."""
    moved_to = StageChange.select(StageChange.to_stage.alias("stage_id"))
    moved_from = (StageChange.select(StageChange.from_stage.alias("stage_id"))
                  .where(StageChange.from_stage.is_null(False)))
    return {stage_id for (stage_id,) in (moved_to | moved_from).tuples()}


# -- changes ------------------------------------------------------------------------------------

def add_stage(name: str, kind: str = "open") -> Stage:
    """A new live stage: an open one after the last open stage, a won or lost one last."""
    _check_kind(kind)
    with database.atomic():
        stages = _locked()
        name = _clean_name(name, stages)
        stage = Stage.create(name=name, kind=kind, position=len(stages), retired=False)
        stages.insert(_insertion_index(stages, kind), stage)
        _renumber(stages)
        audit("stage.create", "stage", stage.id, detail=f"{kind} {name}")
    return stage


def rename_stage(stage: Stage, name: str) -> bool:
    """Rename a stage; False when the name is unchanged."""
    with database.atomic():
        stages = _locked()
        current = _find(stages, stage)
        name = _clean_name(name, stages, exclude=current.id)
        if name == current.name:
            return False
        previous, current.name = current.name, name
        current.save(only=[Stage.name])
        audit("stage.rename", "stage", current.id, detail=f"{previous} -> {name}")
    _refresh(stage, current)
    return True


def move_stage(stage: Stage, direction: str) -> None:
    """Swap a live stage with its live neighbour above ("up") or below ("down")."""
    if direction not in DIRECTIONS:
        raise StageError("unknown_direction")
    with database.atomic():
        stages = _locked()
        current = _find(stages, stage)
        if current.retired:
            raise StageError("retired", name=current.name)
        live = [s for s in stages if not s.retired]
        index = live.index(current)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(live):
            raise StageError("at_edge", name=current.name)
        live[index], live[other] = live[other], live[index]
        _renumber(live + [s for s in stages if s.retired])
        audit("stage.move", "stage", current.id, detail=f"{direction} to {current.position}")
    _refresh(stage, current)


def set_kind(stage: Stage, kind: str) -> bool:
    """Make a stage open, won or lost; False when it already is.

    Refused while the stage holds prospects whose outcome would contradict the new kind (an open
    prospect in a won column): they are moved first, by the board, which records why.
    """
    _check_kind(kind)
    with database.atomic():
        stages = _locked()
        current = _find(stages, stage)
        if current.kind == kind:
            return False
        at_odds = (Prospect.select().where((Prospect.stage == current.id) & (Prospect.outcome != kind))
                   .count())
        if at_odds:
            raise StageError("kind_in_use", at_odds, name=current.name)
        previous, current.kind = current.kind, kind
        _check_kinds(stages)
        current.save(only=[Stage.kind])
        audit("stage.kind", "stage", current.id, detail=f"{previous} -> {kind}")
    _refresh(stage, current)
    return True


def retire_stage(stage: Stage) -> bool:
    """Take a stage off the board, keeping its history; False when it already is retired.

    Refused while open prospects are in it (`count` says how many to move first); won and lost
    prospects may stay in a retired stage.
    """
    with database.atomic():
        stages = _locked()
        current = _find(stages, stage)
        if current.retired:
            return False
        still_open = (Prospect.select().where((Prospect.stage == current.id) & (Prospect.outcome == "open"))
                      .count())
        if still_open:
            raise StageError("holds_open", still_open, name=current.name)
        current.retired = True
        _check_kinds(stages)
        current.save(only=[Stage.retired])
        _renumber(stages)
        audit("stage.retire", "stage", current.id)
    _refresh(stage, current)
    return True


def restore_stage(stage: Stage) -> bool:
    """Put a retired stage back on the board; False when it is not retired."""
    with database.atomic():
        stages = _locked()
        current = _find(stages, stage)
        if not current.retired:
            return False
        _clean_name(current.name, stages, exclude=current.id)  # its name may have been reused
        stages.remove(current)
        current.retired = False
        stages.insert(_insertion_index(stages, current.kind), current)
        current.save(only=[Stage.retired])
        _renumber(stages)
        audit("stage.restore", "stage", current.id)
    _refresh(stage, current)
    return True


def delete_stage(stage: Stage) -> None:
    """Delete a stage no prospect has ever been in; any other is retired instead."""
    with database.atomic():
        stages = _locked()
        current = _find(stages, stage)
        held = Prospect.select().where(Prospect.stage == current.id).count()
        moved = StageChange.select().where((StageChange.to_stage == current.id)
                                           | (StageChange.from_stage == current.id)).exists()
        if held or moved:
            raise StageError("in_use", held, name=current.name)
        stages.remove(current)
        _check_kinds(stages)
        name = current.name
        current.delete_instance()
        _renumber(stages)
        audit("stage.delete", "stage", current.id, detail=name)


# -- helpers ------------------------------------------------------------------------------------

def _locked() -> list[Stage]:
    """Every stage in settings order, locked until the transaction ends where the database can
    (PostgreSQL), so two managers' changes queue up instead of both passing the checks."""
    query = Stage.select().order_by(Stage.retired, Stage.position, Stage.id)
    if database.for_update:
        query = query.for_update()
    return list(query)


def _find(stages: list[Stage], stage: Stage) -> Stage:
    for candidate in stages:
        if candidate.id == stage.id:
            return candidate
    raise StageError("not_found")


def _refresh(stage: Stage, current: Stage) -> None:
    """The caller's object reflects what was saved."""
    if stage is not current:
        stage.name, stage.kind = current.name, current.kind
        stage.position, stage.retired = current.position, current.retired


def _check_kind(kind: str) -> None:
    if kind not in STAGE_KINDS:
        raise StageError("unknown_kind")


def _clean_name(name: str, stages: list[Stage], exclude: int | None = None) -> str:
    """The name trimmed (inner runs of spaces made one), or a refusal."""
    name = " ".join((name or "").split())
    if not name:
        raise StageError("name_required")
    if len(name) > MAX_NAME:
        raise StageError("name_too_long", n=MAX_NAME)
    key = name.casefold()
    if any(s.name.casefold() == key for s in stages if not s.retired and s.id != exclude):
        raise StageError("name_taken", name=name)
    return name


def _check_kinds(stages: list[Stage]) -> None:
    """The stages, as they would be after a change, keep a live open, won and lost stage."""
    live_kinds = {s.kind for s in stages if not s.retired}
    for kind in STAGE_KINDS:
        if kind not in live_kinds:
            raise StageError(f"last_{kind}")


def _insertion_index(stages: list[Stage], kind: str) -> int:
    """Where a stage joins the live ones: open after the last live open stage, won/lost last."""
    live = [s for s in stages if not s.retired]
    if kind == "open":
        opens = [i for i, s in enumerate(live) if s.kind == "open"]
        if opens:
            return opens[-1] + 1
    return len(live)


def _renumber(stages: list[Stage]) -> None:
    """Positions 0..n-1 in the given order, live stages first; only changed rows are written."""
    ordered = sorted(stages, key=lambda s: s.retired)  # stable: keeps the order within each group
    for position, stage in enumerate(ordered):
        if stage.position != position:
            Stage.update(position=position).where(Stage.id == stage.id).execute()
            stage.position = position
