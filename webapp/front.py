"""The web process of the Procfile: nginx in front of gunicorn (issue 14: slow clients).

    python -m webapp.front [--port PORT] -- gunicorn [gunicorn options] "webapp:create_app()"

nginx listens on PORT (all addresses, as the Procfile's `web` promises) and reads every request whole,
headers within `client_header_timeout` and the body into its buffer, before passing it to gunicorn over a
unix socket in a private temporary directory (gunicorn listens on no address at all). A slow client then
holds one of nginx's thousands of cheap connections, never one of gunicorn's eight threads. The run
directory holds the rendered nginx.conf, the socket and nginx's temp files, and is deleted on exit.

Either process ending stops the other (a Procfile runner then sees the web process end); SIGTERM and
SIGINT are passed on to both. Without nginx (not installed: scripts/install-system-deps and scripts/run
install it; or RELANCE_NGINX=off, behind a buffering proxy of your own), gunicorn serves PORT itself and
a warning says the app is then open to slow clients.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NGINX = ("/usr/sbin/nginx", "nginx")

# Timeouts and sizes; the README's "Production front" explains each one.
CONF = """\
# Rendered by webapp/front.py for one run; do not edit (see the README, "The production front").
worker_processes 1;
worker_rlimit_nofile 8192;
pid {dir}/nginx.pid;
error_log stderr warn;
daemon off;
events {{ worker_connections 4096; }}

http {{
    access_log off;                       # gunicorn logs each request it answers
    server_tokens off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    # A request reaches gunicorn only once nginx has all of it.
    client_header_timeout 10s;            # the whole request line and headers
    client_body_timeout 10s;              # between two reads of the body
    client_header_buffer_size 1k;
    large_client_header_buffers 4 8k;
    client_max_body_size {max_body};      # the app's own limit (MAX_CONTENT_LENGTH)
    client_body_buffer_size 256k;         # an intake post stays in memory; larger bodies go to a temp file
    proxy_request_buffering on;
    proxy_buffering on;                   # slow readers are nginx's to wait for, too
    send_timeout 10s;
    keepalive_timeout 15s;
    keepalive_requests 1000;
    reset_timedout_connection on;

{real_ip}
    upstream app {{
        server unix:{dir}/gunicorn.sock;
    }}

    server {{
        listen {listen} backlog=4096;
        # Inherited by both locations (each sets no header of its own).
        proxy_http_version 1.0;
        proxy_redirect off;
        proxy_set_header Host $http_host;
        # nginx is the edge: what a client wrote in X-Forwarded-For is replaced, not extended.
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $relance_proto;
        proxy_set_header X-Forwarded-Host $http_host;     # with its port: external URLs keep it
        proxy_connect_timeout 5s;
        proxy_read_timeout 60s;
        proxy_send_timeout 60s;

        location / {{
            proxy_pass http://app;
        }}

        location /intake/ {{
            client_max_body_size {intake_max_body};   # RELANCE_INTAKE_MAX_BYTES
            proxy_pass http://app;
        }}

        location = /patients/import {{
            client_max_body_size {upload_max_body};   # a patient export (views/patient_imports.py)
            proxy_pass http://app;
        }}
    }}
}}
"""

MAX_CONTENT_LENGTH = 2 * 1024 * 1024     # webapp/__init__.py: the app's largest request body
UPLOAD_MAX_BODY = 11 * 1024 * 1024       # webapp/__init__.py LARGE_BODIES: a 10 MB patient export

# nginx is the edge unless RELANCE_FRONT_REAL_IP_FROM names balancers in front of it: their
# X-Forwarded-For gives the client's address (nginx's realip) and their X-Forwarded-Proto the scheme.
EDGE = """\
    map $scheme $relance_proto {{ default $scheme; }}
"""
BEHIND = """\
{set_real_ip_from}
    real_ip_header X-Forwarded-For;
    real_ip_recursive on;
    geo $realip_remote_addr $relance_from_balancer {{
        default 0;
{balancers}
    }}
    map "$relance_from_balancer:$http_x_forwarded_proto" $relance_proto {{
        default $scheme;
        "1:https" https;
        "1:http" http;
    }}
"""


def _real_ip(balancers: list[str]) -> str:
    if not balancers:
        return EDGE.format()
    return BEHIND.format(set_real_ip_from="\n".join(f"    set_real_ip_from {b};" for b in balancers),
                         balancers="\n".join(f"        {b} 1;" for b in balancers))


def find_nginx() -> str | None:
    """RELANCE_NGINX (a path; `off` to serve without the front), else Debian's nginx, else none."""
    chosen = os.environ.get("RELANCE_NGINX", "")
    if chosen:
        return None if chosen == "off" else chosen
    for candidate in NGINX:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def render(directory: Path, listen: str, intake_max_bytes: int, balancers: list[str] = ()) -> str:
    """nginx.conf for one run: `balancers` are the addresses or CIDR ranges of proxies in front of nginx."""
    return CONF.format(dir=directory, listen=listen, max_body=MAX_CONTENT_LENGTH, intake_max_body=intake_max_bytes,
                       upload_max_body=UPLOAD_MAX_BODY, real_ip=_real_ip(list(balancers)))


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    if "--" not in argv:
        raise SystemExit("usage: python -m webapp.front [--port PORT] [--host HOST] -- gunicorn [options] APP")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m webapp.front")
    parser.add_argument("--port", default=os.environ.get("PORT", "5000"))
    parser.add_argument("--host", default="0.0.0.0", help="the address nginx listens on (default: all)")
    args = parser.parse_args(argv[:split])
    return args, argv[split + 1:]


def _unprotected(gunicorn: list[str], host: str, port: str) -> None:
    why = ("RELANCE_NGINX=off" if os.environ.get("RELANCE_NGINX") == "off" else
           "nginx is not installed (scripts/install-system-deps run)")
    print(f"front: {why}: gunicorn serves {host}:{port} itself, WITHOUT a buffering front; a few slow "
          "clients can hold every thread (README, 'Slow clients')", file=sys.stderr, flush=True)
    os.execvp(gunicorn[0], [*gunicorn[:1], "--bind", f"{host}:{port}", *gunicorn[1:]])


def _die_with_us() -> None:
    """In each child before exec (Linux): SIGTERM when the launcher dies, even by SIGKILL, so that no
    orphaned nginx keeps the port or gunicorn its socket."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_for_socket(path: Path, app: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if app.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _private_directory() -> tuple[Path, str]:
    """A fresh directory only we (and, as root, nginx's unprivileged workers) can enter; the nginx `user`
    line to go with it."""
    directory = Path(tempfile.mkdtemp(prefix="relance-front-"))
    if os.geteuid() != 0:
        os.chmod(directory, 0o700)
        return directory, ""
    import grp
    import pwd

    # As root, nginx runs its workers as an unprivileged user: they must reach the socket, nobody else.
    for name in ("www-data", "nobody"):
        try:
            user = pwd.getpwnam(name)
            break
        except KeyError:
            continue
    else:
        raise SystemExit("front: running as root and no www-data or nobody user for nginx's workers")
    group = grp.getgrgid(user.pw_gid).gr_name
    os.chown(directory, 0, user.pw_gid)
    os.chmod(directory, 0o750)
    return directory, f"user {user.pw_name} {group};\n"


def main(argv: list[str] | None = None) -> int:
    args, gunicorn = _parse(sys.argv[1:] if argv is None else argv)
    nginx = find_nginx()
    if nginx is None:
        _unprotected(gunicorn, args.host, args.port)
    directory, user_line = _private_directory()
    socket_path = directory / "gunicorn.sock"
    intake_max = int(os.environ.get("RELANCE_INTAKE_MAX_BYTES", str(256 * 1024)))
    conf = directory / "nginx.conf"
    balancers = os.environ.get("RELANCE_FRONT_REAL_IP_FROM", "").replace(",", " ").split()
    conf.write_text(user_line + render(directory, f"{args.host}:{args.port}", intake_max, balancers))
    # The app believes one proxy, nginx, which sends the client's address alone in X-Forwarded-For.
    env = {**os.environ, "RELANCE_PROXY_COUNT": "1"}
    children: list[subprocess.Popen] = []
    stopping = False

    def stop(signum=signal.SIGTERM, frame=None):
        nonlocal stopping
        stopping = True
        for child in reversed(children):      # nginx first: no new request reaches a stopping gunicorn
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        tied = {"preexec_fn": _die_with_us} if sys.platform == "linux" else {}
        app = subprocess.Popen([*gunicorn[:1], "--bind", f"unix:{socket_path}", *gunicorn[1:]], env=env, **tied)
        children.append(app)
        if not _wait_for_socket(socket_path, app) or stopping:
            stop()
            return app.wait() or 1
        children.append(subprocess.Popen([nginx, "-p", str(directory), "-c", str(conf), "-e", "stderr"], **tied))
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
        signalled = stopping
        if not signalled:
            ended = [child.args[0] for child in children if child.poll() is not None]
            print(f"front: {', '.join(ended)} ended; stopping the rest", file=sys.stderr, flush=True)
        stop()
        for child in children:
            try:
                child.wait(25)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        return 0 if signalled else 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
