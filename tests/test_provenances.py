"""The provenance list (issue 17 §3): the manager keeps it on a settings page; a conversion records the
provenance the patient stated in the list's spelling."""
from datetime import datetime

from integrations.contract import PatientRecord
from tests import factories as make
from webapp.models import AuditEvent, Prospect
from webapp.services import provenances, reconcile

NOW = datetime(2026, 12, 1, 10, 0)
XSS = "<script>alert(1)</script>"


def page(client):
    response = client.get("/settings/provenances")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_manager_sees_the_list_one_entry_a_line_in_french(as_role):
    manager = as_role("manager")
    html = page(manager)
    assert "<h1>Provenances</h1>" in html
    listed = "Site web\nFacebook\nBouche-à-oreille\nÉvénement\nOffre gratuite\nAppel sortant\nAutre"
    assert f">{listed}</textarea>" in html
    assert "Aucun prospect n'a encore été converti." in html
    assert 'aria-current="page">Provenances</a>' in html        # the settings tabs mark the page


def test_a_saved_list_is_what_the_next_conversion_records(as_role, db):
    manager = as_role("manager")
    response = manager.post("/settings/provenances",
                            data={"entries": "  Page Facebook de la clinique \n\nRadio Sud FM\nSite web\n"})
    assert response.status_code == 302
    follow = manager.get(response.headers["Location"])
    assert "3 provenances enregistrées." in follow.get_data(as_text=True)
    assert db(provenances.choices) == ["Page Facebook de la clinique", "Radio Sud FM", "Site web"]
    assert db(lambda: AuditEvent.select().where(AuditEvent.action == "settings.provenances").count()) == 1

    prospect = db(lambda: make.prospect(first_name="Awa", last_name="Diop", phone_number="77 123 45 67"))
    db(lambda: reconcile.apply("dossiers", [PatientRecord("P-1", "Awa", "Diop", ("771234567",),
                                                          provenance="radio sud fm")], now=NOW))
    assert db(lambda: Prospect.get_by_id(prospect.id).provenance) == "Radio Sud FM"
    html = page(manager)
    assert "<td>Radio Sud FM</td><td class=\"num\">1</td>" in html


def test_a_provenance_stated_outside_the_list_is_kept_as_stated_and_shown_as_such(as_role, db):
    manager = as_role("manager")
    prospect = db(lambda: make.prospect(first_name="Awa", last_name="Diop", phone_number="77 123 45 67"))
    db(lambda: reconcile.apply("dossiers", [PatientRecord("P-1", "Awa", "Diop", ("771234567",),
                                                          provenance="Affiche à la pharmacie")], now=NOW))
    assert db(lambda: Prospect.get_by_id(prospect.id).provenance) == "Affiche à la pharmacie"
    html = page(manager)
    assert "<td>Affiche à la pharmacie</td>" in html and "Absente de la liste" in html


def test_a_faulty_list_is_refused_in_french_and_the_list_is_unchanged(as_role, db):
    manager = as_role("manager")
    before = db(provenances.choices)
    cases = {
        "Facebook\nSite web\nfacebook": "« facebook » et « Facebook » sont la même provenance : gardez-en une.",
        "\n  \n": "Donnez au moins une provenance, une par ligne.",
        "Site web\n" + "x" * 61: "est trop longue : 60 caractères au plus.",
        "\n".join(f"Provenance {n}" for n in range(31)): "La liste compte au plus 30 provenances.",
        "Site web\n---": "« --- » ne contient ni lettre ni chiffre.",
    }
    for typed, message in cases.items():
        response = manager.post("/settings/provenances", data={"entries": typed})
        html = response.get_data(as_text=True)
        assert response.status_code == 400, typed
        assert message in html, (typed, html[:3000])
        assert 'aria-invalid="true"' in html
    assert db(provenances.choices) == before


def test_the_typed_text_is_escaped_when_the_page_comes_back(as_role):
    manager = as_role("manager")
    response = manager.post("/settings/provenances", data={"entries": f"{XSS}\nfacebook\nFacebook"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert XSS not in html and "&lt;script&gt;" in html


def test_only_a_manager_changes_the_list(as_role, db):
    for role in ("secretary", "lead", "admin"):
        client = as_role(role)
        assert client.get("/settings/provenances").status_code == 403, role
        assert client.post("/settings/provenances", data={"entries": "Radio"}).status_code == 403, role
    assert "Radio" not in db(provenances.choices)


def test_an_accented_entry_is_kept_as_typed_and_found_however_it_is_stated(as_role, db):
    manager = as_role("manager")
    response = manager.post("/settings/provenances",
                            data={"entries": "Événement à Thiès\nBouche-à-oreille\nPage Facebook"})
    assert response.status_code == 302
    assert db(provenances.choices) == ["Événement à Thiès", "Bouche-à-oreille", "Page Facebook"]
    prospect = db(lambda: make.prospect(first_name="Ndèye", last_name="N'Diaye", phone_number="+221 77 123 45 67"))
    db(lambda: reconcile.apply("dossiers", [PatientRecord("P-1", "NDEYE", "NDIAYE", ("00221771234567",),
                                                          provenance="EVENEMENT A THIES")], now=NOW))
    assert db(lambda: Prospect.get_by_id(prospect.id).provenance) == "Événement à Thiès"
    assert "<td>Événement à Thiès</td>" in page(manager)
