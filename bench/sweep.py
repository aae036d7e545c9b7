"""sweep: the periodic sweep over 1,000,000 prospects on SQLite (issue 4).

Activity statuses: the sweep's set-based pass (services.sweep.sweep_activity: a history INSERT ... SELECT
and an UPDATE ... CASE of the rows that change) beside the plain limit measured in the same run,
one `UPDATE prospect SET activity_status = CASE ... END` over the same open rows with plain sqlite3 (no
history). Timed twice: the first sweep (every status stale, the worst catch-up) and the next day's
(steady state: only the rows crossing a boundary). The rules (services.sweep.sweep_rules: facts by
GROUP BY per chunk of 5,000, rules in Python, INSERT ... ON CONFLICT DO NOTHING) are timed on a sample
and given per 1,000 prospects. Limit: the first sweep's activity pass within 3x the plain UPDATE.
"""
import random
import time
from datetime import timedelta

from . import register
from .common import Report, progress
from .dataset import bench_app, bulk_insert

DEFAULT_SIZE = 1_000_000
RATIO_LIMIT = 3.0
RULES_SAMPLE = 20_000
TEMPERATURES = (("hot", 20), ("warm", 50), ("cold", 30))
OUTCOMES = (("open", 90), ("won", 6), ("lost", 4))
QUALIFICATIONS = (("appointment", 40), ("quote", 30), ("programme", 20), (None, 10))


def plain_update_sql(thresholds: dict, as_of) -> tuple[str, list]:
    """The plain limit: one CASE over every open row, the same cut-offs as the sweep, no history."""
    whens, params = [], []
    for temperature, (dormant_from, lost_after) in thresholds.items():
        whens.append("WHEN temperature = ? AND last_interaction_at <= ? THEN 'lost'")
        params += [temperature, str(as_of - timedelta(days=lost_after + 1))]
        whens.append("WHEN temperature = ? AND last_interaction_at <= ? THEN 'dormant'")
        params += [temperature, str(as_of - timedelta(days=dormant_from))]
    sql = ("UPDATE prospect SET activity_status = CASE WHEN last_interaction_at IS NULL THEN 'normal' "
           + " ".join(whens) + " ELSE 'normal' END WHERE outcome = 'open'")
    return sql, params


def load(env, size: int, seed: int, now) -> None:
    """`size` prospects over the past year (5% never reached since intake), all marked normal, with an
    inbound first contact, our answer at the last interaction, and the initial temperature entry."""
    from webapp.models import Prospect, Stage, database

    rng = random.Random(seed)
    staff = [u.id for u in env.users.values() if u.role != "admin"]
    with env.app.app_context(), database.connection_context():
        stage_id = Stage.select(Stage.id).where(Stage.kind == "open").order_by(Stage.position).scalar()
        with env.steps.step("generate rows"):
            temps = rng.choices(*zip(*TEMPERATURES), k=size)
            outcomes = rng.choices(*zip(*OUTCOMES), k=size)
            quals = rng.choices(*zip(*QUALIFICATIONS), k=size)
            year = 365 * 24 * 3600
            rows = []
            for i in range(size):
                created = now - timedelta(seconds=rng.randrange(year))
                last = None if rng.random() < 0.05 else \
                    created + timedelta(seconds=rng.randrange(int((now - created).total_seconds()) + 1))
                rows.append(("Awa", "Diop", temps[i], "normal", outcomes[i], quals[i], stage_id,
                             rng.choice(staff), rng.random() < 0.02, created, last, created, last or created))
        fields = [Prospect.first_name, Prospect.last_name, Prospect.temperature, Prospect.activity_status,
                  Prospect.outcome, Prospect.qualification, Prospect.stage, Prospect.owner,
                  Prospect.do_not_contact, Prospect.first_contact_at, Prospect.last_interaction_at,
                  Prospect.created_at, Prospect.updated_at]
        with env.steps.step("insert prospects"):
            bulk_insert(database, Prospect, fields, rows)
        with env.steps.step("interactions and temperature history (INSERT ... SELECT)"):
            with database.atomic():
                database.execute_sql(
                    "INSERT INTO interaction (prospect_id, occurred_at, channel, direction, note, created_at) "
                    "SELECT id, first_contact_at, 'phone', 'in', '', first_contact_at FROM prospect")
                database.execute_sql(
                    "INSERT INTO interaction (prospect_id, occurred_at, channel, direction, note, created_at) "
                    "SELECT id, last_interaction_at, 'phone', 'out', '', last_interaction_at FROM prospect "
                    "WHERE last_interaction_at > first_contact_at")
                database.execute_sql(
                    "INSERT INTO temperature_change (prospect_id, old, new, reason, changed_at) "
                    "SELECT id, NULL, temperature, '', created_at FROM prospect")
        with env.steps.step("checkpoint"):
            database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _timed(call):
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def _plain_update(connection, sql: str, params: list) -> int:
    rows = connection.execute(sql, params).rowcount
    connection.commit()
    return rows


def _status_counts(connection) -> dict:
    return dict(connection.execute("SELECT activity_status, COUNT(*) FROM prospect GROUP BY activity_status"))


@register("sweep", "activity sweep over 1,000,000 prospects vs one plain UPDATE ... CASE; rules per 1,000")
def run(args) -> Report:
    from webapp.models import database
    from webapp.services.defaults import setting
    from webapp.services.sweep import sweep_activity, sweep_rules
    from webapp.timeutil import utcnow

    size = args.size or DEFAULT_SIZE
    sample = min(5_000 if args.quick else RULES_SAMPLE, size)
    report = Report(f"sweep: activity statuses and follow-up rules, {size:,} prospects")
    now = utcnow().replace(microsecond=0)
    with bench_app(keep=args.keep) as env:
        load(env, size, args.seed, now)
        connection = env.raw_connection()
        with env.app.app_context(), database.connection_context():
            thresholds = setting("activity_thresholds")
            progress("plain UPDATE ... CASE over every open row…")
            sql, params = plain_update_sql(thresholds, now)
            plain_s, plain_rows = _timed(lambda: _plain_update(connection, sql, params))
            expected = _status_counts(connection)
            connection.execute("UPDATE prospect SET activity_status = 'normal'")
            connection.commit()
            progress("the sweep's activity pass, first run (every status stale)…")
            first_s, first = _timed(lambda: sweep_activity(now))
            agrees = _status_counts(connection) == expected
            progress("the sweep's activity pass, the next day (steady state)…")
            next_s, following = _timed(lambda: sweep_activity(now + timedelta(days=1)))
            again_s, again = _timed(lambda: sweep_activity(now + timedelta(days=1)))
            progress(f"the rules over a sample of {sample:,} prospects…")
            rules_s, (evaluated, created) = _timed(lambda: sweep_rules(now, limit=sample))
            rerun_s, (_, recreated) = _timed(lambda: sweep_rules(now, limit=sample))
            contactable = database.execute_sql(
                "SELECT COUNT(*) FROM prospect WHERE outcome = 'open' AND NOT do_not_contact "
                "AND temperature IN ('hot', 'warm')").fetchone()[0]
        connection.close()
        db_mb = sum(p.stat().st_size for p in env.directory.glob("relance.db*")) / 1e6

    changed = sum(first.values())
    ratio = first_s / plain_s if plain_s else float("inf")
    per_1000 = rules_s / max(evaluated, 1) * 1000
    report.fact("data", f"{size:,} prospects (hot/warm/cold 20/50/30 %, 90 % open), about {2 * size:,} "
                        f"interactions, {size:,} temperature entries; SQLite file {db_mb:.0f} MB")
    report.fact("load", env.steps.summary())
    report.fact("plain", "one UPDATE prospect SET activity_status = CASE ... END WHERE outcome = 'open', plain "
                         "sqlite3, same cut-offs, no history")
    report.fact("sweep", "services.sweep.sweep_activity: INSERT ... SELECT into the history + UPDATE ... CASE "
                         "of the rows that change, one transaction (Peewee)")
    report.fact("agreement", "the sweep leaves the same statuses as the plain UPDATE: "
                             + ("yes" if agrees else "NO"))
    report.table.append(["pass", "rows changed", "time", "vs plain"])
    report.table.append(["plain UPDATE ... CASE (all open rows)", f"{plain_rows:,}",
                         f"{plain_s:.2f} s", "1.0x"])
    report.table.append(["sweep activity, first run (catch-up)", f"{changed:,}", f"{first_s:.2f} s",
                         f"{ratio:.2f}x"])
    report.table.append(["sweep activity, next day", f"{sum(following.values()):,}", f"{next_s:.2f} s",
                         f"{next_s / plain_s:.2f}x"])
    report.table.append(["sweep activity, same moment again", f"{sum(again.values()):,}", f"{again_s:.2f} s",
                         f"{again_s / plain_s:.2f}x"])
    report.table.append([f"rules, first run ({evaluated:,} prospects)", f"{created:,} follow-ups",
                         f"{rules_s:.2f} s", f"{per_1000 * 1000:.0f} ms / 1,000"])
    report.table.append([f"rules, run again ({evaluated:,} prospects)", f"{recreated:,} follow-ups",
                         f"{rerun_s:.2f} s", f"{rerun_s / max(evaluated, 1) * 1e6:.0f} ms / 1,000"])
    report.verdict("sweep activity vs plain UPDATE", agrees and ratio <= RATIO_LIMIT,
                   f"{first_s:.2f} s for {changed:,} changes with history = {ratio:.2f}x the plain UPDATE's "
                   f"{plain_s:.2f} s (limit {RATIO_LIMIT:.0f}x" + ("" if agrees else "; statuses DIFFER") + ")")
    report.notes.append(f"rules: {per_1000 * 1000:.0f} ms per 1,000 prospects; the {contactable:,} open, "
                        f"contactable hot/warm prospects of this run would take about "
                        f"{per_1000 * contactable / 1000:.0f} s in one sweep (chunks of 5,000, each its own "
                        f"transactions).")
    if size != DEFAULT_SIZE:
        report.notes.append(f"note: the benchmark is stated at {DEFAULT_SIZE:,} prospects; this run has {size:,}.")
    return report
