"""The reconciliation benchmark (bench/reconcile.py): a small smoke run with known answers."""
import os
import re

import pytest

import bench

pytestmark = pytest.mark.slow  # real servers and processes: not in the fast loop


def test_reconcile_benchmark_smoke(capsys):
    database_url = os.environ.get("RELANCE_DATABASE_URL")

    code = bench.main(["reconcile", "--size", "2000", "--quick"])

    out = capsys.readouterr().out
    assert code == 0
    assert "reconcile: 2,000 patients against 2,000 prospects, end to end" in out
    assert re.search(r"^apply +median \d+\.\d\d s, spread \d+\.\d\d-\d+\.\d\d s", out, re.M)
    assert re.search(r"^dict join +median \d+\.\d\d\d s", out, re.M)
    assert re.search(r"^(PASS|FAIL)  reconcile apply under 3 s: median ", out, re.M)
    assert re.search(r"^(PASS|FAIL)  reconcile ratio apply/dict join at most 5: \d+\.\d\d", out, re.M)
    # Correctness holds at any size and on any machine: no false automatic conversion, nothing lost.
    assert "PASS  reconcile precision of automatic conversions 1.0: 1.0000" in out
    assert "traps converted: 0" in out
    assert "PASS  reconcile every true pair meant for a person is in review: 1.0000" in out
    for kind in ("child on its mother's number", "near-homonym", "spelling variant"):
        assert re.search(rf"^{re.escape(kind)} ", out, re.M)
    assert os.environ.get("RELANCE_DATABASE_URL") == database_url


def test_reconcile_is_listed(capsys):
    assert bench.main(["--list"]) == 0
    assert any(line.startswith("reconcile ") for line in capsys.readouterr().out.splitlines())
