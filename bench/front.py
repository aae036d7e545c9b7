"""Slow-client benchmark: the Procfile's `web` line (or BENCH_WEB_LINE, to measure another set-up the same
way) under N slow clients (bench/slow_clients.py: headers or an intake body dripping every 2 s), and how
long `/healthz`, a logged-in staff page and an intake post take meanwhile. Limit: 1 s for each, as in
tests/test_slow_clients.py; `--size N` sets the number of slow clients (default 50, then 1,000; `--quick`: 20).
"""
from __future__ import annotations

import os
import time
from statistics import median

from . import register
from .common import Report, progress
from .intake_stack import IntakeStack
from .slow_clients import Probes, SlowClients

LIMIT = 1.0
ROUNDS = 6


def _attack(url_port: int, probes: Probes, count: int) -> tuple[dict[str, list], int, int]:
    rounds = []
    with SlowClients("127.0.0.1", url_port, count=count, interval=2.0, path="/intake/site") as attack:
        time.sleep(3)
        for _ in range(ROUNDS):
            rounds.append(probes.round())
            time.sleep(2)
        held, reopened = attack.open, attack.reopened
    return {name: [r[name] for r in rounds] for name in rounds[0]}, held, reopened


@register("front", "the web line under slow clients: healthz, a staff page and an intake post within 1 s")
def run(args) -> Report:
    from tests.servers import ProcfileWeb, procfile_line

    line = os.environ.get("BENCH_WEB_LINE") or procfile_line("web")
    sizes = [args.size] if args.size else [20] if args.quick else [50, 1000]
    report = Report(f"front: the web line under {' then '.join(f'{n:,}' for n in sizes)} slow clients")
    report.fact("web line", line)
    report.fact("attack", "connections dripping a header line or 4 bytes of an intake body every 2 s, reopened "
                          f"when the server closes them; {ROUNDS} probe rounds 2 s apart, 5 s timeout per probe")
    stack = IntakeStack().prepare()
    stack.add_source("site", mode="triage")
    server = ProcfileWeb(env=stack.env, command=line)
    try:
        server.start()
        probes = Probes(f"http://127.0.0.1:{server.port}", "secretaire@intake.test", "intake-pass-42", "site")
        probes.login()
        for _ in range(3):
            probes.round()
        report.table.append(["slow clients", "probe", "median", "slowest", "answers", "held", "closed by server"])
        for count in sizes:
            progress(f"front: {count} slow clients…")
            results, held, reopened = _attack(server.port, probes, count)
            for name, timings in results.items():
                seconds = [t for t, _ in timings]
                answers = sorted({str(result)[:24] for _, result in timings})
                report.table.append([f"{count:,}", name, f"{1000 * median(seconds):.0f} ms",
                                     f"{1000 * max(seconds):.0f} ms", ", ".join(answers), f"{held:,}",
                                     f"{reopened:,}"])
                report.verdict(f"front {name} within {LIMIT:.0f} s under {count:,} slow clients",
                               max(seconds) <= LIMIT and all(r in (200, 202) for _, r in timings),
                               f"slowest {1000 * max(seconds):.0f} ms")
    finally:
        server.stop()
        stack.cleanup()
    return report
