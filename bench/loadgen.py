"""A small HTTP load generator for the intake benchmark: forked processes, raw sockets, keep-alive when the
server allows it, every request's bytes built before the clock starts.

Each process sends its share of the requests one at a time on one connection (a new one when the
server closes it, as gunicorn's sync workers do after each response), so `processes` is the number of
requests in flight. The processes report their own CPU time: the client's cost, on the same cores as
the server.
"""
from __future__ import annotations

import multiprocessing
import os
import socket
import time
from collections import Counter
from dataclasses import dataclass, field


def build_post(host: str, port: int, path: str, body: bytes, content_type: str,
               headers: dict | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Type: {content_type}",
             f"Content-Length: {len(body)}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _read_response(sock: socket.socket, buffer: bytearray) -> tuple[int, bool]:
    """Read one response from `sock` (leftover bytes stay in `buffer`); (status, server closes)."""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response headers")
        buffer += chunk
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    del buffer[:end + 4]
    status = int(head[0].split(" ", 2)[1])
    length, close = 0, head[0].startswith("HTTP/1.0")
    for line in head[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            close = value.strip().lower() == "close"
    while len(buffer) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the response body")
        buffer += chunk
    del buffer[:length]
    return status, close


def _client(host: str, port: int, requests: list[bytes], start_at: float, results) -> None:
    statuses: Counter = Counter()
    latencies: list[float] = []
    connections = errors = 0
    sock, buffer = None, bytearray()
    while time.time() < start_at:
        time.sleep(0.0005)
    cpu0, t0 = time.process_time(), time.perf_counter()
    for raw in requests:
        for _attempt in range(5):
            try:
                if sock is None:
                    sock = socket.create_connection((host, port))
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    connections += 1
                    buffer.clear()
                sent = time.perf_counter()
                sock.sendall(raw)
                status, close = _read_response(sock, buffer)
                latencies.append(time.perf_counter() - sent)
                statuses[status] += 1
                break
            except OSError:
                errors += 1
                if sock is not None:
                    sock.close()
                sock, close = None, False
        else:
            statuses["error"] += 1
            continue
        if close:
            sock.close()
            sock = None
    t1, cpu1 = time.perf_counter(), time.process_time()
    if sock is not None:
        sock.close()
    results.put({"statuses": dict(statuses), "latencies": latencies, "connections": connections,
                 "errors": errors, "cpu": cpu1 - cpu0, "start": t0, "end": t1, "pid": os.getpid()})


@dataclass
class LoadResult:
    sent: int
    wall: float                     # seconds from the common start to the last response
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    connections: int = 0
    errors: int = 0                 # connection errors retried
    client_cpu: float = 0.0         # seconds of CPU used by the client processes

    @property
    def throughput(self) -> float:
        return self.sent / self.wall if self.wall else 0.0

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if isinstance(status, int) and 200 <= status < 300)


def run_load(host: str, port: int, requests: list[bytes], processes: int = 4) -> LoadResult:
    """Send `requests` (raw bytes) with `processes` forked clients, each with one request in flight."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    shares = [requests[i::processes] for i in range(processes)]
    start_at = time.time() + 0.3  # every client forked and waiting before the first byte
    children = [context.Process(target=_client, args=(host, port, share, start_at, results), daemon=True)
                for share in shares if share]
    for child in children:
        child.start()
    reports = [results.get(timeout=600) for _ in children]
    for child in children:
        child.join(10)
    # perf_counter is CLOCK_MONOTONIC on Linux: comparable between the forked processes.
    result = LoadResult(sent=len(requests), wall=max(r["end"] for r in reports) - min(r["start"] for r in reports))
    for report in reports:
        result.statuses.update(report["statuses"])
        result.latencies += report["latencies"]
        result.connections += report["connections"]
        result.errors += report["errors"]
        result.client_cpu += report["cpu"]
    return result


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process, from /proc."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    """The direct children of `pid` (gunicorn's workers), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def _stat(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()
    except OSError:
        return None


def group_processes(pgid: int) -> dict[int, tuple[int, str]]:
    """Every process of process group `pgid` (a server started in a session of its own, with its
    front, masters and workers): {pid: (parent pid, command name)}, from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(entry)) and int(fields[2]) == pgid:
            try:
                with open(f"/proc/{entry}/comm") as handle:
                    name = handle.read().strip()
            except OSError:
                continue
            found[int(entry)] = (int(fields[1]), name)
    return found


def app_workers(pgid: int) -> tuple[list[int], list[int]]:
    """(the processes that run the app: the group's leaves that are not nginx, i.e. gunicorn's workers or
    a single-process server; everything else in the group: shells, masters, nginx)."""
    processes = group_processes(pgid)
    parents = {parent for parent, _ in processes.values()}
    workers = sorted(pid for pid, (_, name) in processes.items() if pid not in parents and name != "nginx"
                     and name not in ("sh", "bash", "dash"))
    return workers, sorted(set(processes) - set(workers))
