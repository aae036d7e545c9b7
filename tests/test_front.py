"""The web process's front (webapp/front.py): nginx in front of gunicorn, as the Procfile starts it. What a
client writes in X-Forwarded-For is not believed, bodies over the intake limit stop at nginx, the two
processes live and die together, and without nginx the web process still serves and says it is exposed."""
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from bench.intake_stack import IntakeStack, post
from tests.servers import ProcfileWeb, http_get
from webapp.front import find_nginx, render

pytestmark = pytest.mark.slow


def _require_nginx():
    if find_nginx() is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: scripts/install-system-deps installs it")
        pytest.skip("nginx is not installed (scripts/install-system-deps)")


@pytest.fixture
def stack():
    stack = IntakeStack().prepare()
    stack.add_source("site", mode="triage")
    yield stack
    stack.cleanup()


def _front_dirs() -> set[Path]:
    return set(Path(os.environ.get("TMPDIR", "/tmp")).glob("relance-front-*"))


def test_the_rendered_configuration_is_valid_nginx(tmp_path):
    _require_nginx()
    import subprocess

    (tmp_path / "nginx.conf").write_text(render(tmp_path, "127.0.0.1:8099", 262144))
    check = subprocess.run([find_nginx(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                            "-e", "stderr"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    conf = (tmp_path / "nginx.conf").read_text()
    for directive in ("client_header_timeout 10s", "client_body_timeout 10s", "proxy_request_buffering on",
                      "client_max_body_size 262144", "proxy_set_header X-Forwarded-For $remote_addr"):
        assert directive in conf


def test_through_the_front_a_forged_x_forwarded_for_is_not_believed_and_big_posts_stop_at_nginx(stack):
    _require_nginx()
    with ProcfileWeb(env=stack.env) as web:
        status, _, body = post(f"http://127.0.0.1:{web.port}/intake/site",
                               json.dumps({"name": "Awa Diop", "phone": "77 100 00 09"}).encode(),
                               "application/json", {"Accept": "application/json", "X-Forwarded-For": "41.82.10.7"})
        assert status == 202, body
        big, _, _ = post(f"http://127.0.0.1:{web.port}/intake/site", b"x" * (256 * 1024 + 1),
                         "application/x-www-form-urlencoded")
        web_log = web.output()
    stored = stack.sql("SELECT remote_addr FROM inbound_request WHERE id = ?", (json.loads(body)["id"],))
    assert stored == [("127.0.0.1",)]                  # the client's own address, as nginx saw it
    assert big == 413
    assert "client intended to send too large body" in web_log     # refused by nginx, not the app


def test_through_the_front_external_urls_keep_the_host_and_port_the_client_used(stack):
    _require_nginx()
    from bench.slow_clients import Probes
    from webapp.services.users import create_user

    stack.run(create_user, "admin@intake.test", "Admin", "admin", "intake-pass-42")
    with ProcfileWeb(env=stack.env) as web:
        admin = Probes(f"http://127.0.0.1:{web.port}", "admin@intake.test", "intake-pass-42", "site")
        admin.login()
        _, page = admin._get("/admin/sources/1")      # the form to paste into the website

    assert f"http://127.0.0.1:{web.port}/intake/site".encode() in page
    assert b"http://127.0.0.1/intake/site" not in page


def test_the_front_and_gunicorn_stop_together_and_leave_nothing_behind(stack):
    _require_nginx()
    before = _front_dirs()
    web = ProcfileWeb(env=stack.env).start()
    assert len(_front_dirs() - before) == 1
    web.stop()                                       # SIGTERM to the group, as a Procfile runner sends it
    deadline = time.monotonic() + 20
    while _group(web.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _group(web.proc.pid) == []                # nginx, gunicorn and the launcher all ended
    assert _front_dirs() - before == set()

    web = ProcfileWeb(env=stack.env).start()
    on_socket = _group(web.proc.pid, "--bind unix:")          # gunicorn's master and workers
    gunicorn_master = next(pid for pid in on_socket if _parent(pid) not in on_socket)
    os.kill(gunicorn_master, signal.SIGKILL)         # the app dies: the web process must not linger
    deadline = time.monotonic() + 20
    while web.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    code = web.proc.poll()
    web.kill()
    assert code not in (None, 0)
    assert not [pid for pid in _group(web.proc.pid) if "nginx" in _cmdline(pid)]


def test_nothing_is_left_serving_when_the_launcher_itself_is_killed(stack):
    _require_nginx()
    before = _front_dirs()
    web = ProcfileWeb(env=stack.env).start()
    launcher = next(pid for pid in _group(web.proc.pid, "webapp.front") if _cmdline(pid).startswith("python"))
    os.kill(launcher, signal.SIGKILL)                # as an OOM kill would: no chance to clean up
    deadline = time.monotonic() + 20
    while [pid for pid in _group(web.proc.pid) if pid != web.proc.pid] and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [_cmdline(pid) for pid in _group(web.proc.pid) if pid != web.proc.pid]
    web.kill()
    for directory in _front_dirs() - before:        # a launcher killed outright cannot clean up
        shutil.rmtree(directory, ignore_errors=True)
    assert left == []


def test_without_nginx_gunicorn_serves_the_port_itself_and_says_so(stack):
    with ProcfileWeb(env={**stack.env, "RELANCE_NGINX": "off"}) as web:
        assert http_get(f"http://127.0.0.1:{web.port}/healthz")[0] == 200
        assert "WITHOUT a buffering front" in web.output()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def _group(pgid: int, needle: str = "") -> list[int]:
    from bench.loadgen import group_processes

    return [pid for pid in group_processes(pgid) if needle in _cmdline(pid)]
