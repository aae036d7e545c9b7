"""The benchmark harness (bench/): a tiny run of the search benchmark, and its helpers."""
import os

import pytest

import bench
from bench.common import Report, Stats, format_table, percentile
from bench.search import PAGE_SQL, raw_condition

pytestmark = pytest.mark.slow  # real servers and processes: not in the fast loop


def test_search_benchmark_smoke(capsys):
    database_url = os.environ.get("RELANCE_DATABASE_URL")

    code = bench.main(["search", "--size", "2000", "--quick"])

    out = capsys.readouterr().out
    assert code == 0
    assert "SQLite" in out and "cores" in out                  # machine facts
    assert "search: the prospects list searched by phone and by name, 2,000 prospects" in out
    header = next(line for line in out.splitlines() if line.startswith("kind "))
    for column in ("app p50", "app p99", "raw p50", "raw p99", "ratio app/raw p50"):
        assert column in header
    for kind in ("phone, full page", "last name, full page", "first + last name, full page",
                 "name, htmx partial"):
        row = next(line for line in out.splitlines() if line.startswith(kind))
        assert row.count(" ms") == 5 and "x " in row          # p50/p99/cpu/raw p50/raw p99, ratio
        assert f"search {kind}: app p50 " in out              # the verdict line
    assert "load " in out and "within the 20 s target" in out
    # The benchmark restores the environment it changed.
    assert os.environ.get("RELANCE_DATABASE_URL") == database_url


def test_check_turns_a_fail_into_exit_1(monkeypatch, capsys):
    failing = Report("always fails")
    failing.verdict("limit", False, "too slow")
    monkeypatch.setitem(bench.REGISTRY, "failing", bench.Benchmark("failing", "test", lambda args: failing))
    monkeypatch.setattr(bench, "BENCHMARK_MODULES", ())

    assert bench.main(["failing"]) == 0
    assert bench.main(["failing", "--check"]) == 1
    assert "FAIL  limit: too slow" in capsys.readouterr().out


def test_unknown_benchmark_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["nope"])
    assert exit_info.value.code == 2
    assert "unknown benchmark" in capsys.readouterr().err


def test_list_names_the_benchmarks(capsys):
    assert bench.main(["--list"]) == 0
    assert capsys.readouterr().out.startswith("search ")


def test_percentiles_and_stats():
    assert percentile([3, 1, 2], 50) == 2
    assert percentile(range(1, 101), 99) == pytest.approx(99.01)
    assert percentile([5], 99) == 5
    stats = Stats.of([0.001, 0.002, 0.003])
    assert (stats.n, stats.p50, stats.min, stats.max) == (3, pytest.approx(2), pytest.approx(1), pytest.approx(3))
    assert format_table([["kind", "p50"], ["phone", "1 ms"]])[1] == "-----  ----"


def test_raw_sql_mirrors_the_app_conditions():
    assert raw_condition("77 123 45 67", "SN") == ('("t1"."phone" = ?)', ["+221771234567"])
    assert raw_condition("Ndèye  DIOP", "SN") == (
        '("t1"."id" IN (SELECT rowid FROM prospect_search WHERE prospect_search MATCH ?))', ['"ndeye" "diop"'])
    assert raw_condition("Awa Ba", "SN") == (
        '(("t1"."id" IN (SELECT rowid FROM prospect_search WHERE prospect_search MATCH ?)) AND '
        '("t1"."search_text" LIKE ?))', ['"awa"', "%ba%"])
    assert raw_condition("5%", "SN")[1] == ["%5\\%%", "\\"]
    assert "ORDER BY \"t1\".\"last_interaction_at\" DESC NULLS LAST" in PAGE_SQL
