"""Issue 14, item 1: slow clients must not freeze the app. The Procfile's `web` line exactly as shipped (run
as honcho runs it, on `PORT`), 50 connections each sending a few bytes every 2 s (half stuck in the headers,
half in an intake post's body, reopened whenever the server closes one); while they are held, `/healthz`, a
logged-in staff page and a web-form post must each answer within a second, several times over."""
import re
import time

import pytest

from bench.intake_stack import IntakeStack
from bench.slow_clients import Probes, SlowClients
from tests.servers import ProcfileWeb

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 50
ROUNDS = 4            # probe rounds, 2 s apart, while the attack goes on
LIMIT = 1.0           # seconds


@pytest.fixture(scope="module")
def web():
    stack = IntakeStack().prepare()
    stack.add_source("site", mode="triage")
    server = ProcfileWeb(env=stack.env)
    server.start()
    try:
        yield stack, server
    finally:
        server.stop()
        stack.cleanup()


def test_fifty_slow_clients_do_not_keep_anyone_waiting(web):
    stack, server = web
    probes = Probes(f"http://127.0.0.1:{server.port}", "secretaire@intake.test", "intake-pass-42", "site")
    probes.login()
    for _ in range(3):      # warm: every web process has served each kind once
        assert {name: result for name, (_, result) in probes.round().items()} == \
            {"healthz": 200, "staff": 200, "intake": 202}

    rounds = []
    with SlowClients("127.0.0.1", server.port, count=SLOW_CLIENTS, interval=2.0, path="/intake/site") as attack:
        time.sleep(3)       # every slow connection has been accepted and sent something more
        for _ in range(ROUNDS):
            rounds.append(probes.round())
            time.sleep(2)
        held = attack.open
    print(f"\nslow clients: {SLOW_CLIENTS} held ({held} open at the end, {attack.reopened} closed by the server "
          f"and reopened); probes (s): " + "; ".join(
              ", ".join(f"{name} {seconds:.3f}" for name, (seconds, _) in r.items()) for r in rounds))

    slow = [(n, name, round(seconds, 3), result) for n, r in enumerate(rounds) for name, (seconds, result) in r.items()
            if seconds > LIMIT or result not in (200, 202)]
    assert not slow, f"answers over {LIMIT} s or not 2xx while {SLOW_CLIENTS} slow clients were held: {slow}\n" \
                     f"{server.output()[-3000:]}"
    assert held == SLOW_CLIENTS          # the attack really was going on


def test_the_front_benchmark_reports_each_probe_under_attack(capsys):
    import bench

    assert bench.main(["front", "--quick"]) == 0

    out = capsys.readouterr().out
    assert "web line  python -m webapp.front" in out
    for probe in ("healthz", "staff", "intake"):
        assert re.search(rf"^(PASS|FAIL)  front {probe} within 1 s under 20 slow clients: slowest \d+ ms$", out, re.M)
