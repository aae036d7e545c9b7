"""Shared by the benchmarks: timing, percentiles, machine facts, progress lines and the report block."""
import contextlib
import os
import platform
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable


# ---- timing ---------------------------------------------------------------------------------------

def percentile(samples: Iterable[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default)."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Stats:
    """Durations in milliseconds."""
    n: int
    p50: float
    p99: float
    mean: float
    min: float
    max: float

    @classmethod
    def of(cls, seconds: list[float]) -> "Stats":
        ms = [s * 1000 for s in seconds]
        return cls(n=len(ms), p50=percentile(ms, 50), p99=percentile(ms, 99), mean=sum(ms) / len(ms),
                   min=min(ms), max=max(ms))


def time_each(call: Callable, values: list, warmup: int = 0) -> list[float]:
    """Call `call(value)` for each value and return each wall time in seconds; first `warmup` calls
    (cycling through the same values) untimed."""
    return measure(call, values, warmup).wall


@dataclass
class Samples:
    """Per-call durations in seconds: wall clock, and this process's CPU time (less sensitive to other
    work on a shared machine, blind to waiting)."""
    wall: list[float]
    cpu: list[float]


def measure(call: Callable, values: list, warmup: int = 0) -> Samples:
    """Call `call(value)` once per value, after `warmup` untimed calls cycling through the values."""
    for i in range(warmup):
        call(values[i % len(values)])
    wall, cpu = [], []
    clock, cpu_clock = time.perf_counter, time.process_time
    for value in values:
        started, cpu_started = clock(), cpu_clock()
        call(value)
        cpu.append(cpu_clock() - cpu_started)
        wall.append(clock() - started)
    return Samples(wall, cpu)


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Steps:
    """Named durations of a multi-step set-up (e.g. a data load), printed as `total (a 1.2 s, b 0.3 s)`."""

    def __init__(self):
        self.durations: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str):
        progress(f"{name}…")
        started = time.perf_counter()
        try:
            yield
        finally:
            self.durations[name] = self.durations.get(name, 0.0) + time.perf_counter() - started

    @property
    def total(self) -> float:
        return sum(self.durations.values())

    def summary(self) -> str:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.durations.items())
        return f"{self.total:.1f} s ({parts})"


_started = time.perf_counter()


def progress(message: str) -> None:
    """A progress line on stderr, so that stdout holds only the reports."""
    print(f"[{time.perf_counter() - _started:6.1f} s] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def environment(**variables: str):
    """Set environment variables for the block, restoring the previous values after."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ---- machine facts ---------------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gb() -> str:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return "?"


def machine_facts_lines() -> list[str]:
    return [
        f"machine   {usable_cores()} usable cores of {os.cpu_count()} ({_cpu_model()}), {_memory_gb()} RAM",
        f"load      {load_average()} (1/5/15 min averages: other work on the machine skews the figures)",
        f"software  Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.release()}",
    ]


# ---- the report --------------------------------------------------------------------------------------

@dataclass
class Verdict:
    label: str
    passed: bool
    detail: str


@dataclass
class Report:
    """One benchmark's result block: facts, a table, verdicts against limits, and notes."""
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)   # first row: the header
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fact(self, name: str, value: str) -> None:
        self.facts.append((name, value))

    def verdict(self, label: str, passed: bool, detail: str) -> Verdict:
        verdict = Verdict(label, passed, detail)
        self.verdicts.append(verdict)
        return verdict

    @property
    def failed(self) -> bool:
        return any(not v.passed for v in self.verdicts)

    def render(self) -> str:
        lines = [f"== {self.title} ".ljust(100, "=")]
        width = max((len(name) for name, _ in self.facts), default=0)
        lines += [f"{name.ljust(width)}  {value}" for name, value in self.facts]
        if self.table:
            lines.append("")
            lines += format_table(self.table)
        if self.verdicts:
            lines.append("")
            lines += [f"{'PASS' if v.passed else 'FAIL'}  {v.label}: {v.detail}" for v in self.verdicts]
        if self.notes:
            lines.append("")
            lines += self.notes
        return "\n".join(lines)


def format_table(rows: list[list[str]]) -> list[str]:
    """Left-align the first column, right-align the others; a rule under the header."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    out = []
    for number, row in enumerate(rows):
        cells = [str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(row)]
        out.append("  ".join(cells).rstrip())
        if number == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def ms(value: float) -> str:
    """A duration in milliseconds, to two decimals under 10 ms."""
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def profile_notes(kinds, counters: bool = False) -> list[str]:
    """The "where the time goes" lines shared by the benchmarks (each kind has .label and .profile)."""
    notes = ["where the time goes (cProfile, ms per request; profiling inflates Python code, not SQLite):"]
    for kind in kinds:
        profile = kind.profile
        notes.append(f"  {kind.label}: {profile['total']:.1f} ms profiled per request")
        notes += [f"    {name:<66} {value:7.2f} ms" for name, value in profile["buckets"]]
        if counters:
            notes += [f"    {name:<66} {value:7.0f}" for name, value in profile["counters"]]
        notes.append("    top functions by own time:")
        notes += [f"      {value:7.2f} ms  {name}" for name, value in profile["top"]]
    return notes
