"""The mail benchmark (bench/mail.py): a quick run, and the messages it generates read as their kind."""
import re

import pytest

import bench
from webapp.mailreader import read_mail

# bench.mail is imported inside the tests: importing it here would register "mail" before the other
# benchmarks when this file is collected first (test_bench lists them in BENCHMARK_MODULES order).


def test_the_generated_messages_read_as_the_kind_they_stand_for():
    from bench.mail import KINDS, generate_messages

    expected = {kind: automated for kind, automated, *_ in KINDS}

    messages = generate_messages(40, seed=7)

    assert {kind for kind, _ in messages} == set(expected)          # every kind at least once
    for kind, raw in messages:
        mail = read_mail(raw)
        assert mail.automated == expected[kind], kind
        if expected[kind] is None:
            assert mail.new_text and "a écrit" not in mail.new_text and "De\u00a0:" not in mail.new_text


@pytest.mark.slow   # polls a dovecot mailbox of many mails
def test_mail_benchmark_quick_run_prints_throughput_and_the_ratio(capsys):
    from bench.mail import MEASURES, parse_throughput

    code = bench.main(["mail", "--quick", "--size", "100"])

    out = capsys.readouterr().out
    assert code == 0
    assert MEASURES[0] is parse_throughput
    assert "mail: the mailbox's costs" in out
    assert re.search(r"^bare email parse +[\d,]+ +[\d,]+-[\d,]+ +[\d,]+ µs", out, re.M)
    assert re.search(r"^read_mail +[\d,]+ +[\d,]+-[\d,]+ +[\d,]+ µs", out, re.M)
    assert re.search(r"^(PASS|FAIL)  mail parse ratio read_mail / bare <= 3: \d+\.\d\dx in CPU time .*, "
                     r"\d+\.\d\dx in wall time", out, re.M)
    assert "  newsletter " in out                                   # the per-kind lines
