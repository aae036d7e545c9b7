"""The board benchmark (bench/board.py): a small smoke run, and its query counter."""
import os
import re

import pytest

import bench

pytestmark = pytest.mark.slow  # real servers and processes: not in the fast loop


def test_board_benchmark_smoke(capsys):
    database_url = os.environ.get("RELANCE_DATABASE_URL")

    code = bench.main(["board", "--size", "300", "--quick"])

    out = capsys.readouterr().out
    assert code == 0                                             # without --check a FAIL still exits 0
    assert "board: the pipeline board, 300 open prospects" in out
    header = next(line for line in out.splitlines() if line.startswith("kind "))
    for column in ("app p50", "app p99", "in-memory p50", "in-memory p99", "in-memory cpu p50",
                   "ratio app/in-memory p50"):
        assert column in header
    for kind in ("GET /board, full page", "GET /board, htmx partial"):
        row = next(line for line in out.splitlines() if line.startswith(kind))
        assert row.count(" ms") == 7 and "x " in row            # app p50/p99/cpu, memory p50/p99/cpu, sql; ratio
        assert re.search(rf"^ratio app/in-memory p50, {kind}: \d+\.\d\d ", out, re.M)
        counts = re.search(rf"^queries per request, {kind}: (\d+) at 300 open prospects, (\d+) at 100 ", out, re.M)
        assert counts and counts.group(1) == counts.group(2)     # the same number at 300 and at 100
        assert re.search(rf"^(PASS|FAIL)  board {kind}: app p50 ", out, re.M)
    assert re.search(r"^(PASS|FAIL)  board ratio app/in-memory .*: \d+\.\d\d", out, re.M)
    assert "PASS  board no query per card" in out
    assert "in-memory HTML identical to the app's (CSRF tokens aside): full page yes, htmx partial yes" in out
    # The benchmark restores the environment it changed.
    assert os.environ.get("RELANCE_DATABASE_URL") == database_url


def test_board_is_listed(capsys):
    assert bench.main(["--list"]) == 0
    assert any(line.startswith("board ") for line in capsys.readouterr().out.splitlines())


def test_query_counter_sees_every_statement_and_unwraps(ctx):
    from bench.board import counting_queries
    from webapp.models import Stage, database

    with counting_queries(database) as log:
        list(Stage.select())
        Stage.select().count()
    assert len(log) == 2 and "stage" in log.statements[0][0]
    assert "execute_sql" not in vars(database.obj)              # the class's method again
