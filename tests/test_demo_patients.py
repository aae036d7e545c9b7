"""The demo clinic's patient export (issue 17, "done when"): importing it converts the matching demo
prospects, sends the uncertain ones to review and leaves the new patients unmatched."""
import json

import pytest

from webapp.models import Prospect, database

pytestmark = pytest.mark.slow   # each loads the whole demo, then imports its export


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


def test_after_the_demo_import_the_figures_count_the_conversions_at_30_days(app, tmp_path):
    """The cohort view (seed 001) counts the prospects the import converted in their month of entry."""
    from datetime import timedelta

    from tests.conftest import login
    from webapp.services.cohort import month_report
    from webapp.services.users import create_user
    from webapp.timeutil import utcnow

    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    path = tmp_path / "patients.csv"
    assert runner.invoke(args=["demo-patient-export", str(path)]).exit_code == 0
    with app.test_request_context(), database.connection_context():
        before = {p.id for p in Prospect.select().where(Prospect.outcome == "won")}
        figures_before = {m: month_report(m, utcnow() + timedelta(days=1)).total.converted
                          for m in {p.created_at.date().replace(day=1) for p in Prospect.select()}}
    assert runner.invoke(args=["sync-patients", "--source", "dossiers", "--file", str(path)]).exit_code == 0
    with app.test_request_context(), database.connection_context():
        converted = [p for p in Prospect.select().where(Prospect.outcome == "won") if p.id not in before]
        within = [p for p in converted if p.converted_at - p.created_at <= timedelta(days=30)]
        assert within, "the demo export converts some prospects within their 30 days"
        month = within[0].created_at.date().replace(day=1)
        report = month_report(month, utcnow() + timedelta(days=1))
        ids = {p.id for p in within if p.created_at.date().replace(day=1) == month}
        assert report.total.converted == figures_before[month] + len(ids)
        manager = create_user("moussa.figures@nest.demo", "Moussa Figures", "manager", "Mot2passe-Moussa!")
    client = app.test_client()
    login(client, manager, password="Mot2passe-Moussa!")
    page = client.get(f"/figures/conversion?month={month:%Y-%m}").get_data(as_text=True)
    assert f"{report.total.converted} / {report.total.entered}" in page
