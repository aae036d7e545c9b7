"""Intake benchmark: how many web-form posts per second `POST /intake/<slug>` accepts (each one stored in one
durable write before the answer) against two plain limits under the same server, and how long a post
takes to become a prospect through a real worker.

All three apps run under gunicorn with 2 *sync* workers on loopback (the NOTES.md figures were taken
that way; a sync worker closes the connection after each response, so connections spread evenly over
the workers, which the table checks from each worker's CPU time), then under the Procfile's `web` line
itself with only the app swapped, so the bare apps sit behind the same front (nginx, webapp/front.py)
as the app; the front's own CPU is counted in the server's and shown apart:

  (a) the app: webapp:create_app(), a web-form source with no rate limit, a distinct JSON body per post
      (the duplicate check never short-circuits);
  (b) bench.intake_apps:durable_insert_app(): a bare Flask endpoint doing only the same durable insert
      (SQLite, WAL, synchronous=FULL, the app's pragmas) and answering 202;
  (c) bench.intake_apps:bare_app(): a bare Flask endpoint answering 202 without writing.

The load generator (bench/loadgen.py) is forked processes on raw sockets with every request's bytes
built before the clock starts; its own CPU time is printed. Latency: an auto-mode source, the consumer
as the Procfile runs it (2 thread workers), posts spaced out, and a reader polling the database.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from statistics import median

from . import register
from .common import Report, Stats, percentile, progress
from .intake_apps import create_schema
from .intake_stack import IntakeStack, senegal_mobile, wait_for
from .loadgen import app_workers, build_post, process_cpu, run_load

TARGET_RATIO = 0.8
# Two server set-ups, the same for the three apps: gunicorn's sync workers on loopback (one request at a
# time, as NOTES.md measured), and the Procfile's `web` line itself, with only the app swapped (its front,
# nginx, included: like is compared with like). The verdict is on the Procfile's.
# BENCH_WEB_LINE measures another web line the same way (with webapp:create_app where the app goes).
SERVERS = (
    ("sync", "2 sync workers", (), 4),
    ("procfile", "the Procfile's web line", None, 16),
)
APPS = (
    ("a", "POST /intake/<slug> (the app)", "webapp:create_app()"),
    ("b", "bare endpoint + durable insert", "bench.intake_apps:durable_insert_app()"),
    ("c", "bare endpoint, no write", "bench.intake_apps:bare_app()"),
)


def _bodies(start: int, count: int) -> list[bytes]:
    return [json.dumps({"name": f"Awa Diop{n}", "phone": senegal_mobile(n)[0], "request": "rdv",
                        "message": "Bonjour, je voudrais un rendez-vous la semaine prochaine."}).encode()
            for n in range(start, start + count)]


@dataclass
class Run:
    """One app's share of the rounds under one server set-up: every round's load, and its workers' CPU."""
    rounds: list = field(default_factory=list)      # LoadResult per round
    worker_cpu: list[float] | None = None           # seconds per app worker, summed over the rounds
    other_cpu: float = 0.0                          # seconds used by the rest of the set-up (nginx, masters)

    def add(self, result, cpu: list[float], other: float = 0.0) -> None:
        self.rounds.append(result)
        self.worker_cpu = cpu if self.worker_cpu is None else [a + b for a, b in zip(self.worker_cpu, cpu)]
        self.other_cpu += other

    @property
    def sent(self) -> int:
        return sum(r.sent for r in self.rounds)

    @property
    def throughput(self) -> float:
        return self.sent / sum(r.wall for r in self.rounds)

    def total(self, name: str):
        return sum(getattr(r, name) for r in self.rounds)

    @property
    def latencies(self) -> list[float]:
        return [latency for r in self.rounds for latency in r.latencies]


def web_line(spec: str = "webapp:create_app()") -> str:
    """The Procfile's `web` line (or BENCH_WEB_LINE) serving `spec` in place of the app."""
    from tests.servers import procfile_line

    line = os.environ.get("BENCH_WEB_LINE") or procfile_line("web")
    if "webapp:create_app" not in line:
        raise ValueError(f"no webapp:create_app to swap in the web line: {line}")
    return line.replace("webapp:create_app()", spec).replace("webapp:create_app", spec.removesuffix("()"))


def _server(stack: IntakeStack, spec: str, server_args: tuple | None):
    """One app under one set-up: gunicorn with `server_args` on loopback, or (None) the Procfile's line."""
    env = {"BENCH_INTAKE_DB": str(stack.dir / "bare.db")}
    if server_args is not None:
        return stack.gunicorn(workers=2, app_spec=spec, env=env, extra_args=server_args)
    from tests.servers import ProcfileWeb

    return ProcfileWeb(env={**stack.env, **env}, command=web_line(spec))


def _throughput(stack: IntakeStack, server_args: tuple, clients: int, offset: int, rounds: int, count: int,
                warmup: int) -> dict[str, Run]:
    """The three apps served side by side, each warmed up, then `rounds` rounds of `count` posts each,
    the apps taking turns in alternating order (a b c, c b a, ...) so that a slow spell of the machine
    falls on all of them."""
    servers = {key: _server(stack, spec, server_args) for key, _, spec in APPS}
    runs = {key: Run() for key in servers}
    try:
        for server in servers.values():
            server.start()
        bodies = iter(_bodies(offset, len(servers) * (warmup + rounds * count)))
        requests = {key: [build_post(server.host, server.port, "/intake/bench", next(bodies), "application/json")
                          for _ in range(warmup + rounds * count)] for key, server in servers.items()}
        for key, server in servers.items():
            run_load(server.host, server.port, requests[key][:warmup], clients)
        for number in range(rounds):
            order = list(servers) if number % 2 == 0 else list(reversed(servers))
            for key in order:
                server = servers[key]
                workers, others = app_workers(server.proc.pid)
                cpu_before = [process_cpu(pid) for pid in workers + others]
                start = warmup + number * count
                result = run_load(server.host, server.port, requests[key][start:start + count], clients)
                cpu = [process_cpu(pid) - before for pid, before in zip(workers + others, cpu_before)]
                runs[key].add(result, cpu[:len(workers)], sum(cpu[len(workers):]))
    finally:
        for server in servers.values():
            server.stop()
    return runs


def _latency(stack: IntakeStack, posts: int, spacing: float) -> tuple[list[float], int]:
    """Seconds from sending each post to seeing it processed with its prospect (polled every 2 ms)."""
    from .intake_stack import post

    server = stack.gunicorn(workers=2).start()
    consumer = stack.consumer(workers=2).start()
    sent: dict[int, float] = {}
    seen: dict[int, float] = {}
    stop = threading.Event()

    def watch():
        conn = sqlite3.connect(stack.db_path, timeout=10)
        while not stop.is_set():
            pending = [i for i in list(sent) if i not in seen]
            if pending:
                marks = ",".join("?" * len(pending))
                now = time.perf_counter()
                for (request_id,) in conn.execute(
                        f"SELECT id FROM inbound_request WHERE state = 'processed' AND prospect_id IS NOT NULL "
                        f"AND id IN ({marks})", pending):
                    seen[request_id] = now
            time.sleep(0.002)
        conn.close()

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        # Warm up: the consumer started (app imported, start-up re-scan done) and processing.
        for body in _bodies(4_900_000, 3):
            post(server.url + "/intake/latency", body, "application/json", {"Accept": "application/json"})
        wait_for(lambda: stack.sql("SELECT count(*) FROM inbound_request WHERE state = 'received'")[0][0] == 0,
                 timeout=60)
        watcher.start()
        for body in _bodies(5_000_000, posts):
            started = time.perf_counter()
            status, _, data = post(server.url + "/intake/latency", body, "application/json",
                                   {"Accept": "application/json"})
            if status == 202:
                sent[json.loads(data)["id"]] = started
            time.sleep(spacing)
        deadline = time.monotonic() + 30
        while len(seen) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        watcher.join(5)
        consumer.stop()
        server.stop()
    return [seen[i] - sent[i] for i in sent if i in seen], len(sent) - len(seen)


def _ratios(runs: dict[str, Run], over: str) -> list[float]:
    """a/`over` in each round, from the two apps' turns in that round."""
    return [a.throughput / o.throughput for a, o in zip(runs["a"].rounds, runs[over].rounds)]


@register("intake", "web-form posts accepted per second vs a bare durable insert; post-to-prospect latency")
def run(args) -> Report:
    rounds, count, warmup = (1, 300, 50) if args.quick else (5, 1000, 300)
    posts, spacing = (20, 0.02) if args.quick else (200, 0.05)
    stack = IntakeStack(keep=args.keep).prepare()
    stack.add_source("bench", mode="triage")
    create_schema(str(stack.dir / "bare.db"))
    report = Report(f"intake: POST /intake/<slug> under gunicorn, {rounds} round(s) of {count:,} distinct posts "
                    f"per app")
    report.fact("server", "the three apps side by side, under gunicorn with 2 sync workers on loopback, then "
                          f"under the Procfile's web line with the app swapped: {web_line()}")
    report.fact("client", "forked processes on raw sockets (4 for sync workers, 16 for threaded ones), one "
                          "request in flight each, keep-alive when the server allows it, request bytes built "
                          "before the clock starts")
    report.fact("rounds", "the apps take turns in each round (a b c, then c b a, ...); a ratio is the median "
                          "of the rounds' ratios")
    report.fact("database", "SQLite WAL, synchronous=FULL (webapp/db.py SQLITE_PRAGMAS), a temp file")
    try:
        measured = {}
        for number, (server, server_label, server_args, clients) in enumerate(SERVERS):
            progress(f"intake: the three apps, {server_label}…")
            measured[server] = _throughput(stack, server_args, clients, number * 10_000_000, rounds, count, warmup)
    finally:
        if args.keep:
            print(f"(kept {stack.dir})")
        stack.cleanup()
    # A fresh database: the throughput runs left thousands of requests for a worker to process.
    progress("intake: post-to-prospect latency through the worker…")
    stack = IntakeStack(keep=args.keep).prepare()
    stack.add_source("latency", mode="auto")
    try:
        latencies, missing = _latency(stack, posts, spacing)
    finally:
        stack.cleanup()

    report.table.append(["kind", "server", "req/s", "p50", "p99", "server cpu/req", "of which front",
                         "worker split", "client cpu/req", "non-2xx"])
    for server, _, _, _ in SERVERS:
        for key, label, _ in APPS:
            run = measured[server][key]
            stats, cpu = Stats.of(run.latencies), run.worker_cpu
            split = "/".join(f"{100 * c / sum(cpu):.0f}%" for c in cpu) if sum(cpu) else "?"
            report.table.append([f"({key}) {label}", server, f"{run.throughput:,.0f}", f"{stats.p50:.2f} ms",
                                 f"{stats.p99:.2f} ms", f"{1000 * (sum(cpu) + run.other_cpu) / run.sent:.2f} ms",
                                 f"{1000 * run.other_cpu / run.sent:.2f} ms", split,
                                 f"{1000 * run.total('client_cpu') / run.sent:.2f} ms",
                                 str(run.sent - run.total("ok"))])
    for server, server_label, _, _ in SERVERS:
        runs = measured[server]
        a_b, a_c = _ratios(runs, "b"), _ratios(runs, "c")
        spread = f" (rounds {min(a_b):.2f}–{max(a_b):.2f})" if len(a_b) > 1 else ""
        report.notes.append(f"{server}: ratio a/b (the app / bare durable insert): {median(a_b):.2f}{spread} "
                            f"(target {TARGET_RATIO}); ratio a/c (the app / bare endpoint, no write): "
                            f"{median(a_c):.2f}")
        if server == "procfile":   # the verdict is on the set-up Relance runs with
            report.verdict(f"intake ratio a/b >= {TARGET_RATIO} ({server_label})", median(a_b) >= TARGET_RATIO,
                           f"{median(a_b):.2f} ({runs['a'].throughput:,.0f} vs {runs['b'].throughput:,.0f} req/s)")
    client = measured["sync"]["c"]
    client_cpu, wall = client.total("client_cpu"), client.total("wall")
    report.notes.append(f"client cost: {1000 * client_cpu / client.sent:.2f} ms CPU per request at the "
                        f"fastest sync app, {client_cpu / wall:.2f} of a core over its run")
    if latencies:
        report.notes.append(
            f"post -> prospect through the worker (auto mode, consumer with 2 thread workers, "
            f"{len(latencies)} posts {1000 * spacing:.0f} ms apart): p50 {1000 * percentile(latencies, 50):.0f} ms, "
            f"p99 {1000 * percentile(latencies, 99):.0f} ms, max {1000 * max(latencies):.0f} ms"
            + (f"; {missing} not processed within 30 s" if missing else ""))
    report.verdict("intake every latency post processed", bool(latencies) and not missing,
                   f"{len(latencies)} of {len(latencies) + missing}")
    return report
