"""The real-server helpers of tests/servers.py work on this machine."""

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ may not be a package
from servers import GunicornServer, LiveServer, PostgresServer, free_port, http_get  # noqa: E402

pytestmark = pytest.mark.slow  # real servers and processes: not in the fast loop


def test_free_port_is_bindable():
    import socket

    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


@pytest.mark.postgres
def test_postgres_server_starts_serves_and_stops():
    if not PostgresServer.available():
        # In CI a missing server is a broken set-up, not a reason to skip.
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found (scripts/install-system-deps installs them)")
        pytest.skip("PostgreSQL binaries not found: run scripts/install-system-deps")
    import psycopg

    pg = PostgresServer().start()
    tmpdir = pg.tmpdir
    try:
        print(f"PostgreSQL started in {pg.started_in:.2f} s")
        with psycopg.connect(pg.url) as conn:
            assert conn.execute("SELECT current_user, 1 + 1").fetchone() == ("relance", 2)
        url = pg.create_database("relance_t1")
        assert url.endswith("/relance_t1")
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (42)")
            assert conn.execute("SELECT x FROM t").fetchone() == (42,)
    finally:
        pg.stop()
    assert not tmpdir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg.url, connect_timeout=2)


def test_live_server_serves_a_flask_app():
    from flask import Flask

    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return "ok"

    with LiveServer(app) as server:
        assert server.port
        assert http_get(server.url + "/healthz") == (200, b"ok")
        assert http_get(server.url + "/missing")[0] == 404
    with pytest.raises(OSError):
        http_get(server.url + "/healthz", timeout=1)


def test_gunicorn_server_starts_stops_and_kills(tmp_path):
    (tmp_path / "tinyapp.py").write_text(textwrap.dedent("""
        import os
        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [str(os.getpid()).encode()]
    """))
    env = {"PYTHONPATH": str(tmp_path)}

    t0 = time.monotonic()
    server = GunicornServer("tinyapp:app", env=env, workers=2).start()
    print(f"gunicorn answered in {time.monotonic() - t0:.2f} s")
    status, body = http_get(server.url + "/healthz")
    assert status == 200 and int(body) != server.proc.pid  # served by a worker
    assert server.stop() == 0

    server = GunicornServer("tinyapp:app", env=env, workers=2).start()
    status, body = http_get(server.url + "/healthz")
    worker = int(body)
    assert server.kill() == -9
    # The worker died with its master (same process group); a zombie (Z) counts as dead.
    stat = Path(f"/proc/{worker}/stat")
    deadline = time.monotonic() + 5
    while stat.exists() and stat.read_text().split(") ")[1][0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not stat.exists() or stat.read_text().split(") ")[1][0] == "Z"


def test_gunicorn_server_reports_a_broken_app(tmp_path):
    server = GunicornServer("no_such_module:app", env={"PYTHONPATH": str(tmp_path)}, timeout=20)
    with pytest.raises(RuntimeError, match="no_such_module"):
        server.start()
