"""Importing the patient export end to end: `relance sync-patients --file` and the upload page with its
preview (which writes nothing) and its confirmation (issue 17 §1)."""
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from webapp.models import AuditEvent, Patient, Prospect, Source, Stage, database
from webapp.services import upload_stash

HEADER = "N° dossier;Nom;Prénom;Téléphone;Tél. 2;Email;Date de naissance;Provenance;Date d'admission"
GOOD = [
    "D-001;Ndiaye;Ndèye Fatou;221771234567;;;14/03/1992;Facebook;02/11/2026",   # Excel dropped the 00
    "D-002;Faye;Maïmouna;78 555 44 33;;;01/02/1985;Site web;03/11/2026",
]
BAD = GOOD + ["D-003;Sarr;Binta;77 12;;;31/02/1990;;"]


def export(lines) -> bytes:
    """As French Excel saves "CSV (séparateur : point-virgule)": Windows-1252, CRLF."""
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode("cp1252")


@pytest.fixture(autouse=True)
def stash_dir(app, tmp_path):
    app.config["UPLOAD_STASH_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.fixture
def setup(app, db):
    def make():
        source = Source.create(slug="dossiers", type="patient_file", name="Dossiers patients", config={})
        stage = Stage.select().where(Stage.kind == "open").order_by(Stage.position).first()
        fatou = Prospect.create(first_name="Ndeye Fatou", last_name="N'Diaye", phone="+221771234567",
                                phone_raw="77 123 45 67", stage=stage, outcome="open",
                                created_at=datetime(2026, 10, 20))
        return source.id, fatou.id
    return db(make)


def counts(db):
    return db(lambda: (Patient.select().count(), Prospect.select().where(Prospect.outcome == "won").count()))


def test_the_command_imports_a_french_excel_export_and_prints_its_summary(app, setup, db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(export(GOOD))
    result = app.test_cli_runner().invoke(args=["sync-patients", "--source", "dossiers", "--file", str(path),
                                                "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert {k: summary[k] for k in ("rows_read", "patients_created", "patients_updated", "converted",
                                    "to_review", "unmatched", "refused_lines")} == {
        "rows_read": 2, "patients_created": 2, "patients_updated": 0, "converted": 1, "to_review": 0,
        "unmatched": 1, "refused_lines": []}
    assert counts(db) == (2, 1)
    again = app.test_cli_runner().invoke(args=["sync-patients", "--source", "dossiers", "--file", str(path),
                                               "--json"])
    assert json.loads(again.output)["patients_created"] == 0 and counts(db) == (2, 1)


def test_the_command_refuses_a_faulty_file_whole_and_lists_its_lines(app, setup, db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(export(BAD))
    result = app.test_cli_runner().invoke(args=["sync-patients", "--source", "dossiers", "--file", str(path),
                                                "--json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.output)
    assert summary["rows_read"] == 0 and summary["error"] == "file_refused"
    assert [(p["line"], p["code"]) for p in summary["refused_lines"]] == [(4, "bad_phone"), (4, "bad_birth_date")]
    assert "31/02/1990" in summary["refused_lines"][1]["message"]
    assert counts(db) == (0, 0)


def test_the_command_s_dry_run_writes_nothing(app, setup, db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(export(GOOD))
    result = app.test_cli_runner().invoke(args=["sync-patients", "--source", "dossiers", "--file", str(path),
                                                "--dry-run", "--json"])
    assert json.loads(result.output)["converted"] == 1 and counts(db) == (0, 0)


def test_an_unknown_source_is_a_clear_error(app, setup, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(export(GOOD))
    result = app.test_cli_runner().invoke(args=["sync-patients", "--source", "nope", "--file", str(path)])
    assert result.exit_code == 1 and "unknown source" in result.output


def upload(client, source_id, data, name="export.csv"):
    from io import BytesIO
    return client.post("/patients/import", data={"source": str(source_id), "file": (BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_preview_shows_each_row_and_writes_nothing(as_role, setup, db, app):
    client = as_role("lead")
    source_id, fatou_id = setup
    response = upload(client, source_id, export(GOOD))
    assert response.status_code == 200
    page = response.data.decode()
    assert "D-001" in page and "D-002" in page and f"#{fatou_id}" in page
    assert counts(db) == (0, 0)
    assert db(lambda: AuditEvent.select().where(AuditEvent.action.startswith("patients.")).count()) == 0
    stash = Path(app.config["UPLOAD_STASH_DIR"])
    assert len(list(stash.glob("*.bin"))) == 1
    assert oct(next(stash.glob("*.bin")).stat().st_mode & 0o777) == "0o600"


def test_confirming_applies_the_file_once_and_deletes_it(as_role, setup, db, app):
    client = as_role("lead")
    source_id, fatou_id = setup
    page = upload(client, source_id, export(GOOD)).data.decode()
    token = page.split('name="token" value="')[1].split('"')[0]
    response = client.post("/patients/import/confirm", data={"token": token})
    assert response.status_code == 302
    assert counts(db) == (2, 1)
    assert db(lambda: Prospect.get_by_id(fatou_id).outcome) == "won"
    assert list(Path(app.config["UPLOAD_STASH_DIR"]).glob(f"{token}*")) == []
    assert client.post("/patients/import/confirm", data={"token": token}).status_code == 409
    assert counts(db) == (2, 1)


def test_another_person_cannot_confirm_someone_s_preview(as_role, setup, db, app, make_user):
    client = as_role("lead")
    source_id, _ = setup
    page = upload(client, source_id, export(GOOD)).data.decode()
    token = page.split('name="token" value="')[1].split('"')[0]
    other = app.test_client()
    from tests.conftest import login
    login(other, make_user("manager"))
    assert other.post("/patients/import/confirm", data={"token": token}).status_code == 409
    assert counts(db) == (0, 0)


def test_a_faulty_file_is_refused_on_the_page_with_its_lines(as_role, setup, db, app):
    client = as_role("lead")
    client.post("/language", data={"locale": "en"})
    source_id, _ = setup
    response = upload(client, source_id, export(BAD))
    assert response.status_code == 422
    page = response.data.decode()
    assert "line 4: unreadable birth date" in page and "31/02/1990" in page and 'name="token"' not in page
    assert counts(db) == (0, 0)
    assert not list(Path(app.config["UPLOAD_STASH_DIR"]).glob("*.bin"))


@pytest.mark.parametrize("role", ["secretary", "admin"])
def test_only_the_lead_and_the_manager_import(as_role, setup, db, role):
    client = as_role(role)
    source_id, _ = setup
    assert client.get("/patients/import").status_code == 403
    assert upload(client, source_id, export(GOOD)).status_code == 403
    assert counts(db) == (0, 0)


def test_a_stash_left_over_expires(ctx):
    token = upload_stash.put(b"data", "a.csv", 1, 7)
    assert upload_stash.peek(token, 8) is None
    assert upload_stash.peek(token, 7).data == b"data"
    later = datetime.utcnow() + upload_stash.LIFETIME + timedelta(minutes=1)
    assert upload_stash.peek(token, 7, now=later) is None
    assert upload_stash.take(token, 7) is None


@pytest.mark.slow
def test_an_export_larger_than_other_forms_may_be_uploaded(as_role, setup, db, app):
    client = as_role("lead")
    source_id, _ = setup
    rows = [f"D-{n:05d};Faye;Awa;70{n:07d};;awa.faye.{n}@example.sn;01/02/1985;;" for n in range(40000)]
    data = export(rows + ["D-99999;Faye;Awa;1;;;;;"])     # read to its end, then refused for its last line
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, source_id, data)
    assert response.status_code == 422 and "40002" in response.data.decode()
    assert counts(db) == (0, 0)
