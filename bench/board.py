"""board: the pipeline board (kanban) at 10,000 open prospects.

Server time of GET /board (full page) and of its htmx partial (the columns only), through the Flask test
client logged in as the follow-up lead, p50/p99, beside the same cards rendered from memory: the list of
columns that services.board.columns() returned (fetched once, outside the timing), rendered with the
same templates and the same variables as the view, in a test request context. The ratio app/in-memory
says what the queries and the request machinery add to the rendering itself.

Limits (issue 3): p50 < 100 ms at 10,000 open prospects; ratio app/in-memory <= 2; no query per card
(the number of SQL statements per request is counted, at the full size and at a tenth of it: it must
not change).
"""
import contextlib
import cProfile
import pstats
import random
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta

from . import register
from .common import Report, Samples, Stats, measure, ms, profile_notes, progress, time_each
from .dataset import bench_app, load_prospects

DEFAULT_SIZE = 10_000       # open prospects
LIMIT_MS = 100.0            # app p50
RATIO_TARGET = 2.0          # app p50 / in-memory p50
CLOSED_SHARE = 0.10         # won and lost prospects, on top of the open ones (40% won, 60% lost)
FOLLOWUP_SHARE = 0.4        # planned follow-ups, due within +-30 days (about half overdue)
# How the open prospects spread over the open stages, in their order (Nouveau ... Promesse).
OPEN_WEIGHTS = (35, 25, 15, 15, 10)
PARTIAL_HEADERS = {"HX-Request": "true", "HX-Request-Type": "partial"}
CARD_MARK = b'class="board-card '


@dataclass
class Kind:
    key: str
    label: str
    htmx: bool
    app: Stats | None = None
    app_cpu: Stats | None = None
    memory: Stats | None = None
    memory_cpu: Stats | None = None
    memory_template: str = ""
    cards: int = 0
    queries: int = 0
    same_html: bool | None = None
    profile: dict | None = None


@dataclass
class QueryLog:
    """Every statement the app sends through Peewee (Database.execute_sql), with its parameters."""
    statements: list[tuple[str, tuple]] = field(default_factory=list)

    def __len__(self):
        return len(self.statements)


@contextlib.contextmanager
def counting_queries(database):
    """Wrap the bound database's execute_sql (the one door of every Peewee query) and log the calls."""
    real = database.obj
    original = real.execute_sql
    log = QueryLog()

    def execute_sql(sql, params=None, *args, **kwargs):
        log.statements.append((sql, tuple(params or ())))
        return original(sql, params, *args, **kwargs)

    real.execute_sql = execute_sql
    try:
        yield log
    finally:
        del real.execute_sql   # back to the class's method


# ---- data ---------------------------------------------------------------------------------------------

def load_board(env, size: int, seed: int) -> dict:
    """`size` open prospects over the open stages, plus CLOSED_SHARE won/lost ones; planned follow-ups
    (with a type) for about 40% of the open ones, none on closed ones (the app cancels them)."""
    from webapp.models import FollowUpType, LostReason, Stage, database
    from webapp.services.next_action import refresh_next_action
    from webapp.timeutil import utcnow

    closed = max(int(size * CLOSED_SHARE), 2)
    load_prospects(env, size + closed, seed, followup_share=FOLLOWUP_SHARE)
    rng = random.Random(seed + 7)
    with env.app.app_context(), database.connection_context(), env.steps.step("spread over the stages"):
        stages = list(Stage.select().where(~Stage.retired).order_by(Stage.position, Stage.id))
        open_ids = [s.id for s in stages if s.kind == "open"]
        won = next(s.id for s in stages if s.kind == "won")
        lost = next(s.id for s in stages if s.kind == "lost")
        reasons = [r.id for r in LostReason.select(LostReason.id)]
        types = [t.id for t in FollowUpType.select(FollowUpType.id)]
        weights = OPEN_WEIGHTS[:len(open_ids)] + (10,) * max(len(open_ids) - len(OPEN_WEIGHTS), 0)
        ids = [p.id for p in env.people]
        rng.shuffle(ids)
        open_part, closed_part = ids[:size], ids[size:]
        now = utcnow().replace(microsecond=0)
        open_rows = [(stage, pid) for pid, stage in zip(open_part, rng.choices(open_ids, weights, k=size))]
        closed_rows = []
        for number, pid in enumerate(closed_part):
            is_won = number % 5 < 2
            closed_rows.append((won if is_won else lost, "won" if is_won else "lost",
                                None if is_won else rng.choice(reasons),
                                now - timedelta(days=rng.randint(0, 180)) if is_won else None,
                                now - timedelta(minutes=rng.randint(0, 180 * 24 * 60)), pid))
        with database.atomic():
            cursor = database.cursor()
            cursor.executemany('UPDATE "prospect" SET "stage_id" = ? WHERE "id" = ?', open_rows)
            cursor.executemany('UPDATE "prospect" SET "stage_id" = ?, "outcome" = ?, "lost_reason_id" = ?, '
                               '"converted_at" = ?, "updated_at" = ? WHERE "id" = ?', closed_rows)
            if closed_part:
                marks = ", ".join("?" * len(closed_part))
                cursor.execute(f'UPDATE "follow_up" SET "state" = \'cancelled\', "done_at" = ? '
                               f'WHERE "prospect_id" IN ({marks})', [now, *closed_part])
                refresh_next_action(closed_part)   # as services.board.move does when it closes
            if types:
                rows = cursor.execute('SELECT "id" FROM "follow_up"').fetchall()
                cursor.executemany('UPDATE "follow_up" SET "type_id" = ? WHERE "id" = ?',
                                   [(rng.choice(types), fid) for (fid,) in rows])
        database.execute_sql("ANALYZE")
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        planned, overdue = database.execute_sql(
            'SELECT COUNT(*), SUM("due_at" < ?) FROM "follow_up" WHERE "state" = \'planned\'', [now]).fetchone()
        per_stage = dict(database.execute_sql(
            'SELECT "stage_id", COUNT(*) FROM "prospect" GROUP BY "stage_id"').fetchall())
    return {"open": size, "closed": closed, "planned": planned, "overdue": overdue or 0,
            "stages": [(s.name, per_stage.get(s.id, 0)) for s in stages]}


# ---- the two sides -------------------------------------------------------------------------------------

def _app_call(client, htmx: bool):
    headers = PARTIAL_HEADERS if htmx else {}

    def call(_=None):
        response = client.get("/board", headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET /board answered {response.status_code}")
        if htmx and b"<html" in response.data[:300]:
            raise RuntimeError("the htmx request got the full page, not the fragment")
        response.close()
        return response
    return call


class InMemory:
    """The board's cards already in memory (services.board.columns(), called once), rendered with the
    same templates and variables as views.board.index, in a test request context logged in as `user`.

    Render inside `with memory.active():` (a request context of its own, no database connection: the
    render runs no query), so that app requests can be interleaved with renders."""

    def __init__(self, env, user, fragment: bool):
        from urllib.parse import urlencode

        from flask import render_template

        from webapp.models import database
        from webapp.services import board as service
        from webapp.services.search import Criteria
        from webapp.services.users import active_staff
        from webapp.views.board import card_text

        self._app, self._user, self._render = env.app, user, render_template
        self.template = "board/_columns.html" if fragment else "board/index.html"
        self._headers = PARTIAL_HEADERS if fragment else {}
        with self.active(), database.connection_context():
            filters = {}
            criteria = Criteria.from_args(filters, user.id)
            self.columns = service.columns(criteria, {})
            self.context = dict(columns=self.columns, filters=filters, criteria=criteria,
                                owners=[(str(u.id), u.name) for u in active_staff()],
                                version=service.board_version(), lost_reasons=service.lost_reasons(),
                                query=urlencode(filters), fragment=fragment, card_text=card_text())
            self.render()   # the first render compiles the templates: outside the timing

    @contextlib.contextmanager
    def active(self):
        from flask_login import login_user

        with self._app.test_request_context("/board", headers=self._headers):
            login_user(self._user)
            yield self

    def render(self, _=None) -> str:
        return self._render(self.template, **self.context)


def _comparable(html: str) -> str:
    """The page without its CSRF tokens (one per session: the in-memory render has its own session)."""
    return re.sub(r'(name="csrf_token" value="|name="csrf-token" content=")[^"]*"', r'\1…"', html)


def interleaved(app_call, memory: InMemory, runs: int, warmup: int, block: int = 10) -> tuple[Samples, Samples]:
    """App requests and in-memory renders in alternating blocks, so that other work on the machine
    weighs on both sides alike (the ratio is the figure that matters)."""
    measure(app_call, list(range(warmup)))
    with memory.active():
        measure(memory.render, list(range(warmup)))
    app, rendered = Samples([], []), Samples([], [])
    while len(app.wall) < runs:
        values = list(range(min(block, runs - len(app.wall))))
        done = measure(app_call, values)
        app.wall += done.wall
        app.cpu += done.cpu
        with memory.active():
            done = measure(memory.render, values)
        rendered.wall += done.wall
        rendered.cpu += done.cpu
    return app, rendered


def replay_sql(connection: sqlite3.Connection, statements: list[tuple[str, tuple]]):
    """The statements one request sent, run again with plain sqlite3 (rows fetched, nothing built)."""
    def call(_=None):
        for sql, params in statements:
            connection.execute(sql, params).fetchall()
    return call


# ---- profile -------------------------------------------------------------------------------------------

def profile_kind(client, kind: Kind, count: int) -> dict:
    call = _app_call(client, kind.htmx)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)

    def cumulative(path_end: str, name: str) -> float:
        return sum(v[3] for (path, _, func), v in stats.stats.items()
                   if func == name and path.replace("\\", "/").endswith(path_end)) / count * 1000

    def calls(path_end: str, name: str) -> float:
        return sum(v[1] for (path, _, func), v in stats.stats.items()
                   if func == name and path.replace("\\", "/").endswith(path_end)) / count

    sqlite_exec = 0.0
    for (path, _, func), v in stats.stats.items():
        if path == "~" and "sqlite3" in func and "connect" not in func:
            sqlite_exec += v[2]
    buckets = [
        ("SQLite itself (execute + fetch, C code)", sqlite_exec / count * 1000),
        ("services.board.columns (counts + cards + decorate, incl. SQL)",
         cumulative("webapp/services/board.py", "columns")),
        ("  of which the column queries (built once per kind, run per column)",
         cumulative("webapp/services/board.py", "__init__") + cumulative("webapp/services/board.py", "rows")),
        ("  of which decorating the cards (owners, next types, dates)",
         cumulative("webapp/services/board.py", "_decorator") + cumulative("webapp/services/board.py", "decorate")),
        ("services.board.board_version", cumulative("webapp/services/board.py", "board_version")),
        ("services.board.lost_reasons + active_staff",
         cumulative("webapp/services/board.py", "lost_reasons") + cumulative("webapp/services/users.py",
                                                                              "active_staff")),
        ("login user loader (incl. SQL)", cumulative("webapp/security.py", "_load_user")),
        ("connection open + pragmas (peewee connect)", cumulative("peewee.py", "connect")),
        ("template rendering (Jinja, flask _render)", cumulative("flask/templating.py", "_render")),
        ("  of which url_for", cumulative("flask/app.py", "url_for")),
        ("  of which Babel date formatting", cumulative("flask_babel/__init__.py", "format_datetime")),
        ("  of which gettext (the template's _() and the lazy labels)",
         cumulative("flask_babel/__init__.py", "gettext")),
        ("  of which lazy labels (labels.temperature[...] etc.)", cumulative("flask_babel/speaklater.py", "__html__")),
        ("  of which can()", cumulative("webapp/security.py", "can")),
    ]
    counters = [("url_for calls per request", calls("flask/app.py", "url_for")),
                ("gettext calls per request", calls("flask_babel/__init__.py", "gettext")),
                ("lazy label renders per request", calls("flask_babel/speaklater.py", "__html__")),
                ("can() calls per request", calls("webapp/security.py", "can"))]
    top = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:12]
    return {"total": stats.total_tt / count * 1000, "buckets": buckets, "counters": counters,
            "top": [(_short(key), v[2] / count * 1000) for key, v in top]}


def _short(key) -> str:
    path, line, func = key
    if path == "~":
        return func
    parts = path.replace("\\", "/").split("/")
    return f"{'/'.join(parts[-2:])}:{line} {func}"


def _plans(connection, statements) -> list[str]:
    lines, seen = [], set()
    for sql, params in statements:
        shape = re.sub(r"\s+", " ", sql)
        if shape in seen:
            continue
        seen.add(shape)
        plan = connection.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        lines.append(f"    {shape[:150]}{'…' if len(shape) > 150 else ''}")
        lines.append("      plan: " + "; ".join(row[-1] for row in plan))
    return lines


# ---- one size ------------------------------------------------------------------------------------------

def _lead(env):
    return next(u for u in env.users.values() if u.role == "lead")


def count_queries(env, client, kinds: list[Kind]) -> dict[str, QueryLog]:
    from webapp.models import database

    logs = {}
    for kind in kinds:
        call = _app_call(client, kind.htmx)
        call()   # warm: nothing cached on the first request only
        with counting_queries(database) as log:
            response = call()
        logs[kind.key] = log
        kind.queries = len(log)
        kind.cards = response.data.count(CARD_MARK)
    return logs


def queries_at(size: int, args) -> tuple[dict[str, int], dict[str, int]]:
    """Statements and cards per request on a second, smaller database."""
    kinds = [Kind("page", "", False), Kind("partial", "", True)]
    with bench_app(keep=False) as env:
        load_board(env, size, args.seed)
        client = env.logged_in_client(_lead(env))
        count_queries(env, client, kinds)
    return {k.key: k.queries for k in kinds}, {k.key: k.cards for k in kinds}


@register("board", "the kanban board at 10,000 open prospects vs the same cards rendered from memory "
                   "(p50 < 100 ms, ratio <= 2, no query per card)")
def run(args) -> Report:
    size = args.size or DEFAULT_SIZE
    small = max(size // 10, 100) if size > 100 else 50
    runs, warmup = (10, 2) if args.quick else (100, 10)
    report = Report(f"board: the pipeline board, {size:,} open prospects")
    kinds = [Kind("page", "GET /board, full page", False), Kind("partial", "GET /board, htmx partial", True)]
    with bench_app(keep=args.keep) as env:
        from webapp.models import database
        from webapp.services.board import PAGE

        data = load_board(env, size, args.seed)
        lead = _lead(env)
        client = env.logged_in_client(lead)
        progress("counting the queries of one request…")
        logs = count_queries(env, client, kinds)
        connection = env.raw_connection()
        sql_alone = {}
        for kind in kinds:
            memory = InMemory(env, lead, fragment=kind.htmx)
            kind.memory_template = memory.template
            with memory.active():
                html = memory.render()
                with counting_queries(database) as memory_log:
                    memory.render()
            if len(memory_log):
                raise AssertionError(f"rendering from memory ran {len(memory_log)} queries")
            kind.same_html = _comparable(_app_call(client, kind.htmx)().get_data(as_text=True)) == _comparable(html)
            if html.count(CARD_MARK.decode()) != kind.cards:
                raise AssertionError(f"{kind.label}: the app shows {kind.cards} cards, the in-memory "
                                     f"render {html.count(CARD_MARK.decode())}")
            progress(f"{kind.label}: {runs} requests through the app and {runs} renders from memory, "
                     "interleaved…")
            app, rendered = interleaved(_app_call(client, kind.htmx), memory, runs, warmup)
            kind.app, kind.app_cpu = Stats.of(app.wall), Stats.of(app.cpu)
            kind.memory, kind.memory_cpu = Stats.of(rendered.wall), Stats.of(rendered.cpu)
            progress(f"{kind.label}: its {kind.queries} statements with plain sqlite3…")
            sql_alone[kind.key] = Stats.of(time_each(replay_sql(connection, logs[kind.key].statements),
                                                     list(range(runs)), warmup))
        plans = _plans(connection, logs["partial"].statements) if args.profile else []
        if args.profile:
            for kind in kinds:
                progress(f"{kind.label}: profiling…")
                kind.profile = profile_kind(client, kind, 10 if args.quick else 30)
        connection.close()
        db_mb = sum(p.stat().st_size for p in env.directory.glob("relance.db*")) / 1e6
        load_summary = env.steps.summary()
        followups = env.followups
        statements_text = [re.sub(r"\s+", " ", sql) for sql, _ in logs["partial"].statements]

    progress(f"counting the queries again at {small:,} open prospects…")
    small_queries, small_cards = queries_at(small, args)

    stage_text = ", ".join(f"{name} {count:,}" for name, count in data["stages"])
    report.fact("data", f"{data['open']:,} open + {data['closed']:,} closed prospects ({stage_text}); "
                        f"{followups:,} follow-ups of which {data['planned']:,} still planned "
                        f"({data['overdue']:,} overdue); {len(env.users)} staff; SQLite file {db_mb:.1f} MB")
    report.fact("load", load_summary)
    report.fact("app", "GET /board with the Flask test client, logged in as the follow-up lead, no filter; "
                       "server time = wall time of the call (routing, session, SQL, template); "
                       f"partial = headers {', '.join(f'{k}: {v}' for k, v in PARTIAL_HEADERS.items())}")
    report.fact("in-memory", "the columns services.board.columns() returned (fetched once, outside the "
                             "timing) rendered with render_template, same template and variables as the "
                             "view, in a test request context: no query")
    report.fact("sql alone", "the statements of one request, replayed with plain sqlite3 on one open connection")
    report.fact("cards", f"{PAGE} per column at first (services.board.PAGE): "
                         + ", ".join(f"{k.label.split(', ')[1]} {k.cards}" for k in kinds)
                         + "; in-memory HTML identical to the app's (CSRF tokens aside): "
                         + ", ".join(f"{k.label.split(', ')[1]} {'yes' if k.same_html else 'no'}" for k in kinds))
    report.fact("limits", f"app p50 < {LIMIT_MS:.0f} ms at {DEFAULT_SIZE:,} open prospects; ratio app/in-memory "
                          f"p50 <= {RATIO_TARGET:g}; queries per request independent of the number of cards")
    report.fact("runs", f"{warmup} untimed warm-up calls, then {runs} timed per kind and side, app requests "
                        "and in-memory renders interleaved in blocks of 10 (a busy machine weighs on both)")

    report.table.append(["kind", "n", "app p50", "app p99", "app cpu p50", "in-memory p50", "in-memory p99",
                         "in-memory cpu p50", "sql alone p50", "ratio app/in-memory p50", "limit"])
    for kind in kinds:
        ratio = kind.app.p50 / kind.memory.p50 if kind.memory.p50 else float("inf")
        passed = kind.app.p50 < LIMIT_MS
        report.table.append([kind.label, str(kind.app.n), ms(kind.app.p50), ms(kind.app.p99),
                             ms(kind.app_cpu.p50), ms(kind.memory.p50), ms(kind.memory.p99),
                             ms(kind.memory_cpu.p50), ms(sql_alone[kind.key].p50), f"{ratio:.2f}x",
                             "PASS" if passed else "FAIL"])

    for kind in kinds:
        ratio = kind.app.p50 / kind.memory.p50 if kind.memory.p50 else float("inf")
        cpu_ratio = kind.app_cpu.p50 / kind.memory_cpu.p50 if kind.memory_cpu.p50 else float("inf")
        report.notes.append(f"ratio app/in-memory p50, {kind.label}: {ratio:.2f} "
                            f"({ms(kind.app.p50)} / {ms(kind.memory.p50)} rendering {kind.memory_template}; "
                            f"target <= {RATIO_TARGET:g}: {'met' if ratio <= RATIO_TARGET else 'NOT met'}; "
                            f"in CPU time {cpu_ratio:.2f})")
    for kind in kinds:
        report.notes.append(f"queries per request, {kind.label}: {kind.queries} at {size:,} open prospects, "
                            f"{small_queries[kind.key]} at {small:,} ({kind.cards} and "
                            f"{small_cards[kind.key]} cards shown)")
    report.notes.append("statements of one htmx partial request:")
    report.notes += [f"  {number:2}. {text[:160]}{'…' if len(text) > 160 else ''}"
                     for number, text in enumerate(statements_text, 1)]

    for kind in kinds:
        passed = kind.app.p50 < LIMIT_MS
        report.verdict(f"board {kind.label}", passed,
                       f"app p50 {ms(kind.app.p50)} {'<' if passed else '>='} {LIMIT_MS:.0f} ms "
                       f"(p99 {ms(kind.app.p99)})")
    partial = kinds[1]
    ratio = partial.app.p50 / partial.memory.p50 if partial.memory.p50 else float("inf")
    report.verdict("board ratio app/in-memory (htmx partial vs board/_columns.html)", ratio <= RATIO_TARGET,
                   f"{ratio:.2f} {'<=' if ratio <= RATIO_TARGET else '>'} {RATIO_TARGET:g}")
    steady = all(kind.queries == small_queries[kind.key] for kind in kinds)
    fewer = all(kind.queries < kind.cards for kind in kinds)
    report.verdict("board no query per card", steady and fewer,
                   ", ".join(f"{k.key} {k.queries} queries at {size:,} and {small_queries[k.key]} at {small:,}"
                             for k in kinds) + ("" if steady else ": the count grows with the data"))

    if size != DEFAULT_SIZE:
        report.notes.append(f"note: the limits are stated at {DEFAULT_SIZE:,} open prospects; this run has {size:,}.")
    if args.quick:
        report.notes.append("note: --quick: few iterations, the p99 is close to the maximum.")
    if args.profile:
        report.notes += profile_notes(kinds, counters=True)
        report.notes.append("query plans (EXPLAIN QUERY PLAN, each statement of the htmx partial once):")
        report.notes += plans
    return report
