"""The intake benchmark (bench/intake.py): a tiny run under real gunicorn servers, and its load generator."""
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import bench
from bench.loadgen import build_post, run_load

pytestmark = pytest.mark.slow  # real servers and processes: not in the fast loop


def test_intake_benchmark_smoke(capsys):
    database_url = os.environ.get("RELANCE_DATABASE_URL")

    code = bench.main(["intake", "--quick"])

    out = capsys.readouterr().out
    assert code == 0                                             # without --check a FAIL still exits 0
    assert "intake: POST /intake/<slug> under gunicorn, 1 round(s) of 300 distinct posts per app" in out
    header = next(line for line in out.splitlines() if line.startswith("kind "))
    for column in ("server", "req/s", "p50", "p99", "server cpu/req", "of which front", "worker split",
                   "client cpu/req", "non-2xx"):
        assert column in header
    for kind in ("(a) POST /intake/<slug> (the app)", "(b) bare endpoint + durable insert",
                 "(c) bare endpoint, no write"):
        rows = [line for line in out.splitlines() if line.startswith(kind)]
        assert [row.split()[len(kind.split())] for row in rows] == ["sync", "procfile"]
        for row in rows:
            assert row.count(" ms") == 5 and row.rstrip().endswith(" 0")   # every post answered 2xx
            assert re.search(r"\d+%/\d+%", row)                             # both workers served
    for server in ("sync", "procfile"):
        assert re.search(rf"^{server}: ratio a/b \(the app / bare durable insert\): \d+\.\d\d \(target 0\.8\); "
                         r"ratio a/c .*: \d+\.\d\d$", out, re.M)
    assert re.search(r"^(PASS|FAIL)  intake ratio a/b >= 0.8 \(the Procfile's web line\): \d+\.\d\d ", out, re.M)
    assert "under the Procfile's web line with the app swapped: python -m webapp.front" in out
    assert "intake ratio a/b >= 0.8 (2 sync workers)" not in out                # sync workers: a note only
    assert re.search(r"^post -> prospect through the worker .*: p50 \d+ ms, p99 \d+ ms", out, re.M)
    assert "PASS  intake every latency post processed: 20 of 20" in out
    assert os.environ.get("RELANCE_DATABASE_URL") == database_url


def test_the_load_generator_counts_statuses_and_follows_keep_alive():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"                           # keep-alive

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            status = 202 if self.path == "/ok" else 404
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_port
        requests = [build_post("127.0.0.1", port, "/ok" if i % 3 else "/no", b"x" * i, "text/plain")
                    for i in range(30)]
        result = run_load("127.0.0.1", port, requests, processes=2)
    finally:
        server.shutdown()
        server.server_close()
    assert result.statuses == {202: 20, 404: 10} and result.ok == 20
    assert result.connections == 2                               # one kept-alive connection per process
    assert len(result.latencies) == 30 and result.throughput > 0
