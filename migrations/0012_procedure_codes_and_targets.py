"""The procedure as the clinic reads it (issue 13): stable codes, coded reasons, two working days.

- `follow_up_type.code`: the rules find their type by it, not by its French name (a manager who renamed
  "Rappel de RDV" silently stopped the reminders); filled for the seeded types by their seeded names.
- `action_code.sends_information`: an outbound contact that carried the quote or the information (DEVIS,
  DOC; `relance init-db` adds those two codes): seed 001's 7-day callback counts from it.
- `follow_up.reason_code` and `reason_params`: rule reasons as a code and parameters, translated when
  shown; older free-text reasons stay in `rule_reason` and are still shown.
- The `first_answer_working_hours` setting becomes `answer_target`: "48 heures ouvrées" is two working
  days (a value in whole days of 24 h becomes days; any other stays opening hours).
- Open first-answer follow-ups get their deadlines again, counted in working days from their cause (the
  question's time, in the cause key), and a rule follow-up born after its due day (a sweep catching up)
  is due at the next opening after it was made, its reason saying for when it was due. Each prospect's
  stored next action follows.
"""
import json
import os
from datetime import datetime

from peewee import *

TYPE_CODES = {
    "Réponse à la demande": "answer",
    "Appel pour proposer un RDV": "appointment_call",
    "Rendez-vous": "appointment",
    "Rappel de qualification": "qualify_call",
    "Envoi de documentation": "send_documentation",
    "Rappel après devis / information": "callback_after_answer",
    "Rappel de RDV": "appointment_reminder",
    "Consultation découverte": "trial",
}
ANSWER_RULES = ("first_answer", "answer_question")
NEXT_ACTION = """UPDATE prospect SET next_action_at = (
    SELECT MIN(follow_up.due_at) FROM follow_up
    WHERE follow_up.prospect_id = prospect.id AND follow_up.state = 'planned')"""


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('follow_up_type', 'code', CharField(null=True)),
        migrator.add_column('action_code', 'sends_information', BooleanField(default=False)),
        migrator.add_column('follow_up', 'reason_code', CharField(null=True)),
        migrator.add_column('follow_up', 'reason_params', TextField(null=True)),
    )
    migrator.migrate(migrator.add_index('follow_up_type', ('code',), True))
    p = db.param
    for name, code in TYPE_CODES.items():
        # The first type of that name, if two share it; a renamed seeded type is left for the manager.
        row = db.execute_sql(f"SELECT MIN(id) FROM follow_up_type WHERE name = {p}", (name,)).fetchone()
        if row and row[0] is not None:
            db.execute_sql(f"UPDATE follow_up_type SET code = {p} WHERE id = {p}", (code, row[0]))
    db.execute_sql(f"UPDATE action_code SET sends_information = {p} WHERE code IN ('DEVIS', 'DOC')", (True,))
    target = _answer_target(db)
    if _has_rows(db, "follow_up"):
        _redate_rule_followups(db, target)
        db.execute_sql(NEXT_ACTION)


def down(migrator, db):
    p = db.param
    row = db.execute_sql(f"SELECT value FROM setting WHERE key = {p}", ("answer_target",)).fetchone()
    if row:
        target = json.loads(row[0])
        hours = target["count"] * 24 if target["unit"] == "working_days" else target["count"]
        db.execute_sql(f"DELETE FROM setting WHERE key = {p}", ("answer_target",))
        db.execute_sql(f"INSERT INTO setting (key, value) VALUES ({p}, {p})",
                       ("first_answer_working_hours", json.dumps(hours)))
    migrator.migrate(migrator.drop_index('follow_up_type', 'follow_up_type_code'))
    migrator.migrate(
        migrator.drop_column('follow_up', 'reason_params'),
        migrator.drop_column('follow_up', 'reason_code'),
        migrator.drop_column('action_code', 'sends_information'),
        migrator.drop_column('follow_up_type', 'code'),
    )


def _has_rows(db, table) -> bool:
    return db.execute_sql(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None


def _answer_target(db) -> dict:
    """The old hours setting as the new target; the new default when there was none."""
    p = db.param
    row = db.execute_sql(f"SELECT value FROM setting WHERE key = {p}", ("first_answer_working_hours",)).fetchone()
    target = {"count": 2, "unit": "working_days"}
    if row:
        hours = float(json.loads(row[0]))
        if hours > 0 and hours % 24 == 0:
            target = {"count": int(hours // 24), "unit": "working_days"}
        else:
            target = {"count": hours, "unit": "working_hours"}
        db.execute_sql(f"DELETE FROM setting WHERE key = {p}", ("first_answer_working_hours",))
        db.execute_sql(f"INSERT INTO setting (key, value) VALUES ({p}, {p})",
                       ("answer_target", json.dumps(target, sort_keys=True)))
    return target


def _calendar(db):
    """The business calendar from the stored settings (the rules are pure: the migration reuses them)."""
    from webapp.rules.worktime import calendar_from_settings
    from webapp.timeutil import utcnow

    p = db.param
    settings = {key: json.loads(value) for key, value in db.execute_sql(
        f"SELECT key, value FROM setting WHERE key IN ({p}, {p})", ("working_hours", "holiday_country"))}
    if "working_hours" not in settings:
        from webapp.services.defaults import SETTINGS
        settings = {"working_hours": SETTINGS["working_hours"], "holiday_country": SETTINGS["holiday_country"],
                    **settings}
    overrides = [(_date(day), name, bool(closed))
                 for day, name, closed in db.execute_sql("SELECT day, name, closed FROM holiday")]
    year = utcnow().year
    first = db.execute_sql("SELECT MIN(created_at) FROM follow_up").fetchone()[0]
    first_year = _datetime(first).year if first else year
    return calendar_from_settings(settings["working_hours"], settings.get("holiday_country"),
                                  range(min(first_year, year) - 1, year + 2), _timezone(), overrides)


def _timezone() -> str:
    try:
        from flask import current_app
        return current_app.config["TIMEZONE"]
    except (RuntimeError, KeyError, ImportError):
        return os.environ.get("RELANCE_TIMEZONE", "Africa/Dakar")


def _redate_rule_followups(db, target):
    from webapp.rules.followups import PlannedFollowUp, answer_due, caught_up

    cal, p = _calendar(db), db.param
    rows = db.execute_sql("SELECT id, rule, cause_key, due_at, created_at FROM follow_up "
                          "WHERE state = 'planned' AND rule IS NOT NULL").fetchall()
    for row_id, rule, cause_key, due_at, created_at in rows:
        answer = rule in ANSWER_RULES and bool(cause_key)
        due, params = _datetime(due_at), {}
        if answer:
            due = answer_due(cal, datetime.fromisoformat(cause_key.split(":", 2)[2]), target)
            params = {"count": target["count"], "unit": target["unit"]}
        planned = caught_up(PlannedFollowUp(rule, cause_key or "", "", due, rule, params), cal,
                            _datetime(created_at))
        if not answer and not planned.caught_up:
            continue
        # An older free-text reason stays as it is; only the catch-up date is said beside it.
        params = planned.reason_params if answer else {"planned_for": planned.reason_params["planned_for"]}
        db.execute_sql(f"UPDATE follow_up SET due_at = {p}, reason_code = {p}, reason_params = {p} WHERE id = {p}",
                       (str(planned.due_at), rule if answer else None, json.dumps(params, sort_keys=True),
                        row_id))


def _datetime(value):
    return value if isinstance(value, datetime) or value is None else datetime.fromisoformat(str(value))


def _date(value):
    from datetime import date
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
