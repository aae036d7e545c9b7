"""Slow clients, as issue 14 found them: connections that keep a request unfinished by sending a few bytes
every few seconds, half of them still in the headers, half in an intake post's body. A connection the
server closes is opened again at once, as an attacker would. Used by tests/test_slow_clients.py and by
`scripts/bench front`.

    with SlowClients("127.0.0.1", port, count=50, interval=2.0, path="/intake/site") as attack:
        ...                       # the server is under attack here; attack.reopened counts closures
"""
from __future__ import annotations

import socket
import threading
import time


class SlowClients:
    """`count` connections to host:port, each sending a few bytes every `interval` seconds from a thread."""

    def __init__(self, host: str, port: int, count: int = 50, interval: float = 2.0, path: str = "/intake/slow"):
        self.host, self.port, self.count, self.interval, self.path = host, port, count, interval, path
        self.reopened = 0              # connections the server closed (timed out, refused), opened again
        self.failed_connects = 0       # connection attempts refused or timed out
        self._sockets: list[socket.socket | None] = [None] * count
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _opening(self, n: int) -> bytes:
        """The first bytes of connection n: headers left open (even n) or a body that never ends (odd n)."""
        if n % 2 == 0:
            return f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUser-Agent: slow/{n}\r\n".encode()
        return (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/x-www-form-urlencoded"
                f"\r\nContent-Length: 200000\r\n\r\nname=Awa&message=").encode()

    @staticmethod
    def _drip(n: int, tick: int) -> bytes:
        return f"X-{tick}: a\r\n".encode() if n % 2 == 0 else b"aaaa"

    def _open(self, n: int) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=2)
            sock.sendall(self._opening(n))
            sock.setblocking(False)
            self._sockets[n] = sock
        except OSError:
            self.failed_connects += 1
            self._sockets[n] = None

    def _closed_by_server(self, sock: socket.socket) -> bool:
        try:
            return sock.recv(4096) is not None   # b"" (closed) or an answer (408, 400): either way it is over
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(self.interval):
            tick += 1
            for n, sock in enumerate(self._sockets):
                if self._stop.is_set():
                    return
                if sock is not None and not self._closed_by_server(sock):
                    try:
                        sock.send(self._drip(n, tick))
                        continue
                    except OSError:
                        pass
                if sock is not None:
                    sock.close()
                    self.reopened += 1
                self._open(n)

    def start(self) -> "SlowClients":
        for n in range(self.count):
            self._open(n)
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
        self._thread.start()
        return self

    @property
    def open(self) -> int:
        return sum(sock is not None for sock in self._sockets)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        for sock in self._sockets:
            if sock is not None:
                sock.close()
        self._sockets = [None] * self.count

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def timed(call, timeout: float) -> tuple[float, object]:
    """(seconds taken, result) of `call()`; (timeout, the exception) when it raised (timed out, refused)."""
    started = time.perf_counter()
    try:
        result = call()
    except Exception as error:       # a probe that failed counts as its full timeout
        return max(timeout, time.perf_counter() - started), error
    return time.perf_counter() - started, result


class Probes:
    """What must still answer under attack: `GET /healthz`, a staff page for a logged-in person and a web-form
    post, each timed; `timeout` seconds at most per probe."""

    def __init__(self, url: str, email: str, password: str, source: str, staff_page: str = "/board",
                 timeout: float = 5.0):
        import http.cookiejar
        import urllib.request

        self.url, self.email, self.password, self.source = url, email, password, source
        self.staff_page, self.timeout = staff_page, timeout
        # No proxy (a CI proxy must never see requests to 127.0.0.1); cookies kept for the session.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                   urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self._posts = 0

    def _get(self, path: str) -> tuple[int, bytes]:
        with self._opener.open(self.url + path, timeout=self.timeout) as response:
            return response.status, response.read()

    def login(self) -> None:
        import re
        from urllib.parse import urlencode

        _, page = self._get("/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        data = urlencode({"csrf_token": token, "email": self.email, "password": self.password}).encode()
        with self._opener.open(self.url + "/login", data=data, timeout=self.timeout) as response:
            if not response.url.rstrip("/").endswith(("/board", "/my-day")) and "/login" in response.url:
                raise RuntimeError(f"login failed: ended on {response.url}")

    def healthz(self) -> int:
        return self._get("/healthz")[0]

    def staff(self) -> int:
        status, body = self._get(self.staff_page)
        if b'name="password"' in body:
            raise RuntimeError(f"{self.staff_page} answered the login page: the session was lost")
        return status

    def intake(self) -> int:
        import json

        from .intake_stack import post, senegal_mobile

        self._posts += 1
        body = json.dumps({"name": f"Probe Sarr{self._posts}", "phone": senegal_mobile(9_000_000 + self._posts)[0],
                           "request": "rdv"}).encode()
        return post(f"{self.url}/intake/{self.source}", body, "application/json", {"Accept": "application/json"},
                    timeout=self.timeout)[0]

    def round(self) -> dict[str, tuple[float, object]]:
        """One timed probe of each kind: {name: (seconds, status or the exception)}."""
        return {name: timed(call, self.timeout)
                for name, call in (("healthz", self.healthz), ("staff", self.staff), ("intake", self.intake))}
