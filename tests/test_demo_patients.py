"""The demo clinic's patient export (issue 17, "done when"): importing it converts the matching demo
prospects, sends the uncertain ones to review and leaves the new patients unmatched."""
import json

from webapp.models import Prospect, database


def test_importing_the_demo_export_converts_reviews_and_adds_new_patients(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    path = tmp_path / "patients.csv"
    made = runner.invoke(args=["demo-patient-export", str(path)])
    assert made.exit_code == 0, made.output
    data = path.read_bytes()
    assert data.startswith("N° dossier;Nom;Prénom".encode("cp1252")) and b"\r\n" in data
    with app.app_context(), database.connection_context():
        won_before = Prospect.select().where(Prospect.outcome == "won").count()
    result = runner.invoke(args=["sync-patients", "--source", "dossiers", "--file", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows_read"] == 14 and summary["patients_created"] == 14
    assert summary["converted"] == 6 and summary["to_review"] == 2 and summary["unmatched"] == 6
    with app.app_context(), database.connection_context():
        assert Prospect.select().where(Prospect.outcome == "won").count() == won_before + 6
