"""Intake benchmark: how many web-form posts per second `POST /intake/<slug>` accepts (each one stored in one
durable write before the answer) against two plain limits under the same server, and how long a post
takes to become a prospect through a real worker.

All three apps run under gunicorn with 2 *sync* workers on loopback (the NOTES.md figures were taken
that way; a sync worker closes the connection after each response, so connections spread evenly over
the workers, which the table checks from each worker's CPU time):

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
import sqlite3
import threading
import time

from . import register
from .common import Report, Stats, percentile, progress
from .intake_apps import create_schema
from .intake_stack import IntakeStack, senegal_mobile, wait_for
from .loadgen import build_post, children_of, process_cpu, run_load

TARGET_RATIO = 0.8
# Two server set-ups, the same for the three apps: gunicorn's sync workers (one request at a time, as
# NOTES.md measured), and the Procfile's threaded workers, where posts arriving together in one process
# share a commit (webapp/services/intake_store.py). The verdict is on the Procfile's.
SERVERS = (
    ("sync", "2 sync workers", (), 4),
    # --reuse-port (as in the Procfile): each worker listens on its own socket and the kernel spreads the
    # kept-alive connections; with one shared socket, one worker can end up holding most of them.
    ("procfile", "2 gthread workers x 4 threads (the Procfile)",
     ("--worker-class", "gthread", "--threads", "4", "--reuse-port"), 16),
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


def _throughput(stack: IntakeStack, spec: str, server_args: tuple, clients: int, offset: int, count: int,
                warmup: int) -> dict:
    server = stack.gunicorn(workers=2, app_spec=spec, env={"BENCH_INTAKE_DB": str(stack.dir / "bare.db")},
                            extra_args=server_args).start()
    try:
        host, port = server.host, server.port
        requests = [build_post(host, port, "/intake/bench", body, "application/json")
                    for body in _bodies(offset, warmup + count)]
        run_load(host, port, requests[:warmup], clients)
        workers = children_of(server.proc.pid)
        cpu_before = [process_cpu(pid) for pid in workers]
        result = run_load(host, port, requests[warmup:], clients)
        cpu = [process_cpu(pid) - before for pid, before in zip(workers, cpu_before)]
    finally:
        server.stop()
    return {"result": result, "worker_cpu": cpu}


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


@register("intake", "web-form posts accepted per second vs a bare durable insert; post-to-prospect latency")
def run(args) -> Report:
    count, warmup = (300, 50) if args.quick else (4000, 300)
    posts, spacing = (20, 0.02) if args.quick else (200, 0.05)
    stack = IntakeStack(keep=args.keep).prepare()
    stack.add_source("bench", mode="triage")
    create_schema(str(stack.dir / "bare.db"))
    report = Report(f"intake: POST /intake/<slug> under gunicorn, {count:,} distinct posts per app")
    report.fact("server", "gunicorn on loopback, each app under " + " and under ".join(
        label for _, label, _, _ in SERVERS))
    report.fact("client", "forked processes on raw sockets (4 for sync workers, 16 for threaded ones), one "
                          "request in flight each, keep-alive when the server allows it, request bytes built "
                          "before the clock starts")
    report.fact("database", "SQLite WAL, synchronous=FULL (webapp/db.py SQLITE_PRAGMAS), a temp file")
    try:
        measured = {}
        offset = 0
        for server, server_label, server_args, clients in SERVERS:
            for key, label, spec in APPS:
                progress(f"intake: {label}, {server_label}…")
                measured[server, key] = _throughput(stack, spec, server_args, clients, offset, count, warmup)
                offset += 1_000_000
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

    report.table.append(["kind", "server", "req/s", "p50", "p99", "server cpu/req", "worker split",
                         "client cpu/req", "non-2xx"])
    for server, _, _, _ in SERVERS:
        for key, label, _ in APPS:
            result, cpu = measured[server, key]["result"], measured[server, key]["worker_cpu"]
            stats = Stats.of(result.latencies)
            split = "/".join(f"{100 * c / sum(cpu):.0f}%" for c in cpu) if sum(cpu) else "?"
            report.table.append([f"({key}) {label}", server, f"{result.throughput:,.0f}", f"{stats.p50:.2f} ms",
                                 f"{stats.p99:.2f} ms", f"{1000 * sum(cpu) / result.sent:.2f} ms", split,
                                 f"{1000 * result.client_cpu / result.sent:.2f} ms",
                                 str(result.sent - result.ok)])
    for server, server_label, _, _ in SERVERS:
        rate = {key: measured[server, key]["result"].throughput for key, _, _ in APPS}
        a_b, a_c = rate["a"] / rate["b"], rate["a"] / rate["c"]
        report.notes.append(f"{server}: ratio a/b (the app / bare durable insert): {a_b:.2f} "
                            f"(target {TARGET_RATIO}); ratio a/c (the app / bare endpoint, no write): {a_c:.2f}")
        if server == "procfile":
            report.verdict(f"intake ratio a/b >= {TARGET_RATIO} ({server_label})", a_b >= TARGET_RATIO,
                           f"{a_b:.2f} ({rate['a']:,.0f} vs {rate['b']:,.0f} req/s)")
    client = measured["sync", "c"]["result"]
    report.notes.append(f"client cost: {1000 * client.client_cpu / client.sent:.2f} ms CPU per request at the "
                        f"fastest sync app, {client.client_cpu / client.wall:.2f} of a core over its run")
    if latencies:
        report.notes.append(
            f"post -> prospect through the worker (auto mode, consumer with 2 thread workers, "
            f"{len(latencies)} posts {1000 * spacing:.0f} ms apart): p50 {1000 * percentile(latencies, 50):.0f} ms, "
            f"p99 {1000 * percentile(latencies, 99):.0f} ms, max {1000 * max(latencies):.0f} ms"
            + (f"; {missing} not processed within 30 s" if missing else ""))
    report.verdict("intake every latency post processed", bool(latencies) and not missing,
                   f"{len(latencies)} of {len(latencies) + missing}")
    return report
