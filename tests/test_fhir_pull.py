"""The FHIR R4 pull against a conformant server of our own on loopback: paging by `next` links, each
injected fault, and an interrupted sync resumed with nothing skipped and nothing applied twice."""
import json
import urllib.request

import pytest

from integrations import fhir
from tests.fhir_server import FhirServer, patient
from webapp.models import Source, SourceCursor, database
from webapp.services import patient_sync


@pytest.fixture(scope="module")
def server():
    running = FhirServer().start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def fresh(server):
    server.patients, server.faults, server.requests, server.token = [], [], [], None


def stamp(n: int) -> str:
    return f"2026-11-{1 + n // 24:02d}T{n % 24:02d}:00:00+00:00"


def seven(server, same_instant=False):
    """Seven patients; with `same_instant`, four of them changed at one instant across a page boundary."""
    for n in range(7):
        updated = stamp(3) if same_instant and 1 <= n <= 4 else stamp(n)
        server.add(patient(f"pat-{n}", "Ndiaye", f"Awa {n}", updated, phone=f"+22177123450{n}",
                           birth="1990-01-0%d" % (n + 1)))


class Recorder:
    """A stand-in for reconcile.apply that records what it was given."""

    def __init__(self):
        self.applied: list[str] = []
        self.fail_after: int | None = None

    def __call__(self, source, records, *, now, user=None, dry_run=False):
        if self.fail_after is not None and len(self.applied) >= self.fail_after:
            raise RuntimeError("database went away")
        self.applied.extend(r.external_id for r in records)

        class Result:
            patients_created = len(records)
        return Result()


@pytest.fixture
def source(ctx, server):
    return Source.create(slug="his", type="fhir", name="HIS",
                         config={"base_url": server.base_url, "page_size": 3})


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """The client's waits, recorded instead of slept."""
    recorded = []
    monkeypatch.setattr(fhir, "SLEEP", recorded.append)
    return recorded


def run(source, recorder, waits=None):
    return patient_sync.pull(source, apply=recorder)


def cursor_of(source):
    row = SourceCursor.get_or_none(SourceCursor.source == source)
    return json.loads(row.value) if row else None


def test_the_server_is_conformant_and_answers_its_capability_statement(server):
    with urllib.request.urlopen(f"{server.base_url}/metadata") as response:
        body = json.load(response)
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"


def test_paging_follows_next_links_and_applies_each_patient_once(server, source):
    seven(server)
    recorder = Recorder()
    summary = run(source, recorder)
    assert summary.error is None and summary.pages == 3 and summary.rows_read == 7
    assert recorder.applied == [f"pat-{n}" for n in range(7)]
    assert all("_count=3" in url and "_sort=_lastUpdated" in url for url in server.requests)
    assert cursor_of(source) == {"last_updated": stamp(6), "ids": ["pat-6"]}
    again = run(source, recorder)      # nothing changed since
    assert again.rows_read == 0 and len(recorder.applied) == 7
    assert "_lastUpdated=ge" in server.requests[-1]


def test_a_change_after_the_sync_is_pulled_next_time(server, source):
    seven(server)
    recorder = Recorder()
    run(source, recorder)
    server.add(patient("pat-2", "Ndiaye", "Awa Deux", stamp(30), phone="+221771234502"))
    summary = run(source, recorder)
    assert summary.rows_read == 1 and recorder.applied[-1] == "pat-2"


def test_patients_changed_at_one_instant_across_pages_are_neither_skipped_nor_repeated(server, source):
    seven(server, same_instant=True)
    recorder = Recorder()
    # stop after the first page (its last patients share an instant with the next page's)
    server.faults = [None, ("500",), ("500",), ("500",), ("500",)]
    first = run(source, recorder)
    assert first.error == "server_error" and recorder.applied == ["pat-0", "pat-1", "pat-2"]
    assert cursor_of(source) == {"last_updated": stamp(3), "ids": ["pat-1", "pat-2"]}
    second = run(source, recorder)
    assert second.error is None
    assert sorted(recorder.applied) == [f"pat-{n}" for n in range(7)]
    assert len(recorder.applied) == 7


def test_a_500_is_retried_and_the_run_goes_on(server, source, waits):
    seven(server)
    recorder = Recorder()
    server.faults = [None, ("500",)]
    summary = run(source, recorder, waits)
    assert summary.error is None and len(recorder.applied) == 7 and waits == [1]


def test_a_429_waits_its_retry_after(server, source, waits):
    seven(server)
    recorder = Recorder()
    server.faults = [("429", 7)]
    summary = run(source, recorder, waits)
    assert summary.error is None and waits == [7.0] and len(recorder.applied) == 7


def test_a_429_asking_too_long_stops_the_run_and_keeps_the_cursor(server, source, waits):
    seven(server)
    recorder = Recorder()
    server.faults = [None, ("429", 3600)]
    summary = run(source, recorder, waits)
    assert summary.error == "rate_limited" and waits == [] and recorder.applied == ["pat-0", "pat-1", "pat-2"]
    assert cursor_of(source)["last_updated"] == stamp(2)


def test_a_truncated_page_is_a_failure_not_a_skip(server, source):
    seven(server)
    recorder = Recorder()
    server.faults = [None] + [("truncated",)] * fhir.ATTEMPTS
    summary = run(source, recorder)
    assert summary.error == "bad_page" and recorder.applied == ["pat-0", "pat-1", "pat-2"]
    assert cursor_of(source)["last_updated"] == stamp(2)
    resumed = run(source, recorder)
    assert resumed.error is None and recorder.applied == [f"pat-{n}" for n in range(7)]


def test_a_truncated_page_once_is_retried(server, source):
    seven(server)
    recorder = Recorder()
    server.faults = [("truncated",)]
    assert run(source, recorder).error is None and len(recorder.applied) == 7


def test_a_page_served_twice_applies_nothing_twice(server, source):
    seven(server)
    recorder = Recorder()
    server.faults = [None, ("twice",)]
    summary = run(source, recorder)
    assert summary.error is None and summary.pages == 4
    assert recorder.applied == [f"pat-{n}" for n in range(7)]


def test_an_interrupted_sync_resumes_with_nothing_skipped_or_applied_twice(server, source):
    for n in range(20):
        server.add(patient(f"p{n:02d}", "Sarr", "Binta", stamp(n // 2), phone=f"+2217712345{n:02d}"))
    recorder = Recorder()
    recorder.fail_after = 9           # the process dies while applying the fourth page
    with pytest.raises(RuntimeError):
        run(source, recorder)
    assert recorder.applied == [f"p{n:02d}" for n in range(9)]
    assert cursor_of(source) == {"last_updated": stamp(4), "ids": ["p08"]}
    recorder.fail_after = None
    run(source, recorder)
    assert recorder.applied == [f"p{n:02d}" for n in range(20)]


def test_the_bearer_token_is_sent(server, source):
    seven(server)
    server.token = "s3cret"
    recorder = Recorder()
    assert run(source, recorder).error == "refused" and recorder.applied == []
    source.secret = "s3cret"
    source.save()
    assert run(source, recorder).error is None and len(recorder.applied) == 7


def test_a_fhir_patient_maps_to_a_record():
    resource = patient("abc", "N'Diaye", "Ndèye Coumba", "2026-11-02T10:00:00Z", phone="77 123 45 67",
                       email="ndeye@example.sn", birth="1991-05-06", mrn="D-77")
    record = fhir.patient_record(resource)
    assert (record.external_id, record.first_name, record.last_name) == ("abc", "Ndèye Coumba", "N'Diaye")
    assert record.phones == ("77 123 45 67",) and record.email == "ndeye@example.sn"
    assert str(record.birth_date) == "1991-05-06"
    assert fhir.patient_record(resource, "urn:clinic:mrn").external_id == "D-77"
    assert fhir.patient_record({**resource, "birthDate": "1991"}).birth_date is None


def test_the_command_pulls_a_fhir_source_once_and_converts_through_reconciliation(server, app, monkeypatch):
    from datetime import datetime

    from webapp.models import Patient, Prospect, Stage
    from webapp.services.sources import create_source

    with app.app_context(), database.connection_context():
        create_source("his", "fhir", "HIS", config={"base_url": server.base_url, "page_size": 2})
        stage = Stage.select().where(Stage.kind == "open").order_by(Stage.position).first()
        Prospect.create(first_name="Awa 1", last_name="Ndiaye", phone="+221771234501", phone_raw="771234501",
                        stage=stage, outcome="open", created_at=datetime(2026, 10, 1))
    seven(server)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sync-patients", "--source", "his", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["rows_read"], summary["patients_created"], summary["converted"], summary["pages"]) == (7, 7, 1, 4)
    again = json.loads(runner.invoke(args=["sync-patients", "--json"]).output)   # every pull source
    assert again["rows_read"] == 0
    with app.app_context(), database.connection_context():
        assert Patient.select().where(Patient.source == "his").count() == 7
        assert Patient.select().where(Patient.seen_at.is_null()).count() == 0
    server.faults = [("500",)] * fhir.ATTEMPTS
    failed = runner.invoke(args=["sync-patients", "--source", "his", "--json"])
    assert failed.exit_code == 1 and json.loads(failed.output)["error"] == "server_error"


def test_the_periodic_task_pulls_every_fhir_source(server, app, monkeypatch):
    import tasks.patients
    from webapp import queue
    from webapp.services.sources import create_source

    with app.app_context(), database.connection_context():
        create_source("his", "fhir", "HIS", config={"base_url": server.base_url, "page_size": 5})
    seven(server)
    monkeypatch.setattr(queue, "_app", app)
    summaries = tasks.patients.pull_patient_sources.call_local()
    assert [(s["source"], s["rows_read"]) for s in summaries] == [("his", 7)]
