"""Benchmarks for Relance: `python -m bench [NAME ...] [--quick] [--size N] [--check]` (or scripts/bench).

Each benchmark is a function `run(args) -> Report` registered under a name with `@register`; the runner
prints each report, and with `--check` exits 1 when a report holds a FAIL. A benchmark measures the
product against a plain limit *and* against a baseline measured in the same run (raw SQL, a bare
request...), so that a slow machine shows up in the baseline rather than as a false alarm.

Adding one: write `bench/<name>.py` with a function decorated `@register("<name>", "one line")`, add
the module to BENCHMARK_MODULES, and reuse bench.common (timing, percentiles, the report) and
bench.dataset (a temp database with the real schema, users, a fast bulk load of prospects).
"""
import argparse
import importlib
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

BENCHMARK_MODULES = ("bench.search", "bench.board", "bench.sweep", "bench.intake", "bench.front", "bench.mail",
                     "bench.mail_poll", "bench.reconcile")


@dataclass(frozen=True)
class Benchmark:
    name: str
    summary: str
    run: Callable  # run(args: argparse.Namespace) -> bench.common.Report


REGISTRY: dict[str, Benchmark] = {}


def register(name: str, summary: str):
    """Decorator: make `run(args) -> Report` available as `python -m bench NAME`."""
    def decorator(func):
        if name in REGISTRY and REGISTRY[name].run is not func:
            raise ValueError(f"benchmark {name!r} registered twice")
        REGISTRY[name] = Benchmark(name, summary, func)
        return func
    return decorator


def load_benchmarks() -> dict[str, Benchmark]:
    for module in BENCHMARK_MODULES:
        importlib.import_module(module)
    return REGISTRY


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run Relance's benchmarks (default: all of them).")
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (see --list)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true", help="fewer iterations: a smoke run, not a measure")
    parser.add_argument("--size", type=int, default=None,
                        help="number of rows to load (each benchmark has its own default, e.g. 100000)")
    parser.add_argument("--seed", type=int, default=20261123, help="random seed for the generated data")
    parser.add_argument("--check", action="store_true", help="exit 1 when a limit is not met")
    parser.add_argument("--profile", action="store_true",
                        help="also profile the measured requests (cProfile) and show where time goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and print its path")
    return parser


def main(argv: list[str] | None = None) -> int:
    from .common import load_average, machine_facts_lines, usable_cores

    parser = build_parser()
    args = parser.parse_args(argv)
    registry = load_benchmarks()
    if args.list:
        for bench in registry.values():
            print(f"{bench.name:12} {bench.summary}")
        return 0
    unknown = [n for n in args.names if n not in registry]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(registry)})")
    if args.size is not None and args.size < 100:
        parser.error("--size must be at least 100")
    names = args.names or list(registry)

    print("Relance benchmarks" + (" (quick: fewer iterations, not a measure)" if args.quick else ""))
    for line in machine_facts_lines():
        print(line)
    print(flush=True)
    failed = []
    for name in names:
        started, load_before = time.perf_counter(), load_average()
        report = registry[name].run(args)
        print(report.render())
        busy = max(os.getloadavg()[:1] + (float(load_before.split("/")[0]),)) > usable_cores() - 0.5 \
            if hasattr(os, "getloadavg") else False
        print(f"({name} took {time.perf_counter() - started:.1f} s; load average {load_before} before, "
              f"{load_average()} after" + ("; a busy machine: read the wall times as upper bounds, "
                                           "the CPU times hold better" if busy else "") + ")\n", flush=True)
        if report.failed:
            failed.append(name)
    if failed:
        print(f"FAIL: {', '.join(failed)}" + ("" if args.check else " (exit 0: add --check to fail on it)"))
        return 1 if args.check else 0
    print("PASS: every limit met")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
