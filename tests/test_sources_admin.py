"""Sources settings (issue 7): an administrator creates and edits the sources the website posts to;
the HMAC secret is write-only."""
from html import unescape

import pytest

from webapp.models import Source
from webapp.services.sources import create_source

SECRET = "s3cr3t-never-shown-8f2a"


def form(**values):
    base = {"slug": "site-web", "type": "webform", "name": "Site web", "preset": "html", "mode": "triage",
            "owner": "round_robin", "thank_you_url": "", "allowed_origins": "", "rate_limit": "20 per minute",
            "honeypot": "website", "secret": ""}
    return {**base, **values}


def source_by_slug(db, slug="site-web") -> Source | None:
    return db(lambda: Source.get_or_none(Source.slug == slug))


@pytest.fixture
def admin(as_role):
    return as_role("admin")


def test_the_list_shows_each_source_with_its_mode_and_counts(admin, db):
    db(lambda: create_source("site-web", "webform", "Site web"))

    html = admin.get("/admin/sources").get_data(as_text=True)

    assert "Site web" in html and "site-web" in html and "Tri par le pilote du suivi" in html
    assert "Aucune pour l'instant" in unescape(html)


def test_creating_a_source_keeps_its_settings_and_opens_its_page(admin, db):
    answer = admin.post("/admin/sources", data=form(
        allowed_origins="https://www.nest.sn\nhttps://nest.sn", mode="auto", rate_limit="", secret=SECRET))

    source = source_by_slug(db)
    assert answer.status_code == 302 and answer.location.endswith(f"/admin/sources/{source.id}")
    assert source.config["allowed_origins"] == ["https://nest.sn", "https://www.nest.sn"]
    assert source.config["mode"] == "auto" and source.config["rate_limit"] == ""
    assert source.secret == SECRET


@pytest.mark.parametrize("typed, stored", [
    ("20 par minute", "20 per minute"), ("20/min", "20 per minute"), ("20 per minute", "20 per minute"),
    ("20", "20 per minute"), ("100 par heure", "100 per hour"), ("100/h", "100 per hour"),
    ("30 envois par minute", "30 per minute"), ("500 par jour", "500 per day"), ("5 par 2 heures", "5 per 2 hour"),
])
def test_the_rate_limit_is_typed_in_french_or_as_figures(admin, db, typed, stored):
    answer = admin.post("/admin/sources", data=form(rate_limit=typed))

    assert answer.status_code == 302, unescape(answer.get_data(as_text=True))
    assert source_by_slug(db).config["rate_limit"] == stored


def test_the_rate_limit_is_shown_back_in_the_persons_language(admin, db):
    source = db(lambda: create_source("site-web", "webform", "Site web", {"rate_limit": "20/min"}))

    french = unescape(admin.get(f"/admin/sources/{source.id}").get_data(as_text=True))
    admin.post("/language", data={"locale": "en"})
    english = unescape(admin.get(f"/admin/sources/{source.id}").get_data(as_text=True))

    assert 'name="rate_limit" type="text" maxlength="60" value="20 par minute"' in french
    assert "20 per minute" not in french
    assert 'value="20 per minute"' in english


@pytest.mark.parametrize("values, message", [
    ({"slug": "Site Web!"}, "L'identifiant s'écrit en minuscules"),
    ({"allowed_origins": "nest.sn/contact"}, "Chaque origine autorisée"),
    ({"rate_limit": "beaucoup"}, "« 20 par minute »"),
    ({"thank_you_url": "javascript:alert(1)"}, "La page de remerciement"),
    ({"mode": "drop"}, "Choisissez un mode"),
    ({"owner": "999"}, "Choisissez une règle d'attribution"),
])
def test_a_refused_creation_says_why_in_french_and_keeps_the_values_but_the_secret(admin, db, values, message):
    answer = admin.post("/admin/sources", data=form(name="Formulaire NEST", secret=SECRET, **values))

    html = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400
    assert message in html and 'value="Formulaire NEST"' in html
    assert SECRET not in html
    assert db(lambda: Source.select().count()) == 0


def test_a_taken_slug_is_refused(admin, db):
    db(lambda: create_source("site-web", "webform", "Site web"))

    answer = admin.post("/admin/sources", data=form())

    assert answer.status_code == 400 and "déjà cet identifiant" in answer.get_data(as_text=True)


def test_the_edit_page_shows_the_intake_url_the_snippet_and_the_mapping_placeholders(admin, db):
    source = db(lambda: create_source("site-web", "webform", "Site web", secret=SECRET))

    html = admin.get(f"/admin/sources/{source.id}").get_data(as_text=True)

    assert "http://localhost/intake/site-web" in html
    assert "&lt;form action=&#34;http://localhost/intake/site-web&#34;" in html  # the snippet, escaped
    assert 'placeholder="phone, telephone, tel, mobile"' in html
    assert 'data-preset-cf7="your-phone, your-tel, tel, phone, telephone"' in html
    assert "Un secret est défini" in html and "X-Relance-Signature" in html
    assert SECRET not in html


def test_saving_the_mapping_changes_what_the_source_reads(admin, db):
    source = db(lambda: create_source("site-web", "webform", "Site web"))

    answer = admin.post(f"/admin/sources/{source.id}", data={
        **form(preset="cf7", name="Contact WordPress"), "field_phone": "numero, portable", "field_email": ""})

    assert answer.status_code == 302
    source = source_by_slug(db)
    assert source.name == "Contact WordPress" and source.config["preset"] == "cf7"
    assert source.config["fields"] == {"phone": "numero,portable"}
    assert 'value="numero,portable"' in admin.get(answer.location).get_data(as_text=True)


def test_a_refused_edit_changes_nothing(admin, db):
    source = db(lambda: create_source("site-web", "webform", "Site web"))

    answer = admin.post(f"/admin/sources/{source.id}", data=form(name="Autre nom", honeypot="a b"))

    assert answer.status_code == 400 and "champ piège" in answer.get_data(as_text=True)
    assert 'value="Autre nom"' in answer.get_data(as_text=True)
    assert source_by_slug(db).name == "Site web"


def test_the_secret_is_replaced_and_cleared_and_never_shown(admin, db):
    source = db(lambda: create_source("site-web", "webform", "Site web"))

    assert admin.post(f"/admin/sources/{source.id}/secret", data={"secret": SECRET}).status_code == 302
    assert source_by_slug(db).secret == SECRET
    for url in ("/admin/sources", f"/admin/sources/{source.id}"):
        assert SECRET not in admin.get(url).get_data(as_text=True)

    assert admin.post(f"/admin/sources/{source.id}/secret", data={"secret": ""}).status_code == 400
    assert source_by_slug(db).secret == SECRET
    assert admin.post(f"/admin/sources/{source.id}/secret", data={"clear": "1"}).status_code == 302
    assert source_by_slug(db).secret is None
    assert "Pas de secret" in admin.get(f"/admin/sources/{source.id}").get_data(as_text=True)


def test_a_deactivated_source_refuses_posts(admin, db, app):
    source = db(lambda: create_source("site-web", "webform", "Site web"))

    assert admin.post(f"/admin/sources/{source.id}/active", data={"active": "0"}).status_code == 302
    assert source_by_slug(db).active is False
    assert app.test_client().post("/intake/site-web", data={"tel": "77 123 45 67"}).status_code == 404
    assert admin.post(f"/admin/sources/{source.id}/active", data={"active": "maybe"}).status_code == 400
    assert admin.post(f"/admin/sources/{source.id}/active", data={"active": "1"}).status_code == 302
    assert source_by_slug(db).active is True


def test_an_unknown_source_is_a_404(admin):
    assert admin.get("/admin/sources/999").status_code == 404


@pytest.mark.parametrize("role", ["secretary", "lead", "manager"])
def test_only_administrators_manage_sources_and_refusals_change_nothing(as_role, db, role):
    source = db(lambda: create_source("site-web", "webform", "Site web", secret=SECRET))
    client = as_role(role)

    assert client.get("/admin/sources").status_code == 403
    assert client.get(f"/admin/sources/{source.id}").status_code == 403
    assert client.post("/admin/sources", data=form(slug="autre")).status_code == 403
    assert client.post(f"/admin/sources/{source.id}", data=form(name="Piraté")).status_code == 403
    assert client.post(f"/admin/sources/{source.id}/secret", data={"clear": "1"}).status_code == 403
    assert client.post(f"/admin/sources/{source.id}/active", data={"active": "0"}).status_code == 403
    after = source_by_slug(db)
    assert (after.name, after.secret, after.active) == ("Site web", SECRET, True)
    assert db(lambda: Source.select().count()) == 1
