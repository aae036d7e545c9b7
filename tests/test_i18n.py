"""Translations: every UI string has its French, the catalogues match the source, French is the default."""
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
POT = TRANSLATIONS / "messages.pot"
FRENCH = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
ENGLISH = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
FIX = "run scripts/i18n, translate the new msgids in webapp/translations/fr/LC_MESSAGES/messages.po, run it again"

# The same extraction as scripts/i18n (keep the two in step).
EXTRACT = ["extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "ngettext:1,2",
           "--no-location", "--sort-output", "--project", "Relance"]

# Python %-placeholders: %(name)s, %(n)d, %(num)d... and a literal %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")

# The clinic's words, one French term for each English one, everywhere in the interface.
GLOSSARY = {
    "Email": "E-mail", "Password": "Mot de passe", "Sign in": "Se connecter", "Sign out": "Se déconnecter",
    "New contact": "Nouveau contact", "Last name": "Nom", "First name": "Prénom", "Phone": "Téléphone",
    "Request": "Demande", "Lost reason": "Motif de perte", "No news": "Sans nouvelles",
    "Hot": "Chaud", "Warm": "Tiède", "Cold": "Froid", "Dormant": "En veille",
    "Lost": "Perdu", "Converted": "Converti", "Normal": "Normal", "Note": "Note", "Record": "Enregistrer",
    "Save": "Enregistrer", "Search": "Rechercher", "Prospects": "Prospects",
    "Add to timeline": "Ajouter à l'historique", "Timeline": "Historique", "Open %(name)s": "Ouvrir %(name)s",
    "New prospect created": "Nouveau prospect créé", "Secretary": "Secrétaire",
    "Follow-up lead": "Responsable du suivi", "Manager": "Manager", "Administrator": "Administrateur",
    "To do": "À faire", "Owner": "Responsable", "Unassigned": "Non attribué", "Mine": "Les miens",
    "Appointment": "RDV", "Quote / prices": "Devis / tarifs", "Programme information": "Informations programme",
    "Do not contact": "Ne plus contacter", "Temperature": "Température", "Activity": "Activité",
    "Outcome": "Issue", "Incoming": "Entrant", "Outgoing": "Sortant", "Website form": "Formulaire du site",
    "Event": "Événement", "Visit": "Visite", "Other": "Autre", "Stage": "Étape",
    "Next action": "Prochaine action", "Last contact": "Dernier contact", "to check": "à vérifier",
    "Edit": "Modifier", "Cancel": "Annuler", "Change password": "Changer le mot de passe",
    "Birth date": "Date de naissance", "Channel": "Canal",
}


def _read(path: Path):
    with open(path, "rb") as f:
        return read_po(f)


def _entries(catalog):
    """The real messages of a catalogue (not its header), keyed by msgid (a tuple for plurals)."""
    return {m.id: m for m in catalog if m.id}


def _forms(message) -> tuple:
    return tuple(message.string) if message.pluralizable else (message.string,)


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _compiled(po: Path) -> bytes:
    buffer = BytesIO()
    write_mo(buffer, _read(po), use_fuzzy=False)  # as `pybabel compile`: fuzzy entries left out
    return buffer.getvalue()


@pytest.mark.parametrize("po", sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")), ids=lambda p: p.parts[-3])
def test_the_shipped_compiled_catalogues_match_their_po_files(po):
    """The .mo files are committed, so an install that never runs scripts/bootstrap (a container's
    `uv sync` or `pip install -e .`, then the Procfile) serves French; a .po edited without
    recompiling fails here."""
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: {FIX}"
    assert mo.read_bytes() == _compiled(po), f"{mo} is stale: {FIX}"


def test_the_compiled_catalogues_are_tracked_by_git():
    tracked = subprocess.run(["git", "ls-files", "webapp/translations"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    assert {"webapp/translations/fr/LC_MESSAGES/messages.mo",
            "webapp/translations/en/LC_MESSAGES/messages.mo"} <= set(tracked)


@pytest.mark.slow
def test_a_fresh_install_without_bootstrap_serves_french(tmp_path):
    """The files a clone holds, installed as a container would (a new virtual environment and
    `pip install -e .`, no scripts/bootstrap), serve the login page in French."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.split("\0")
    source = tmp_path / "clone"
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    venv = tmp_path / "venv"
    uv = shutil.which("uv")
    assert uv, "uv is on PATH under scripts/test (scripts/bootstrap puts it there)"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": str(venv)}
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    env.pop("UV_PYTHON", None)     # scripts/bootstrap's choice of interpreter: here the venv's own, as pip's
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env, timeout=120)
    # The wheels come from uv's cache, filled by this run's locked install; the index from PyPI.
    subprocess.run([uv, "pip", "install", "-q", "-e", str(source)], cwd=source, check=True,
                   env=env, capture_output=True, timeout=300)
    script = (
        "from webapp import create_app\n"
        "from webapp.db import migrate\n"
        "from webapp.models import database\n"
        f"app = create_app({{'SECRET_KEY': 'x', 'DATABASE_URL': 'sqlite:///{tmp_path}/r.db'}})\n"
        "with app.app_context(), database.connection_context():\n"
        "    migrate()\n"
        "print(app.test_client().get('/login').get_data(as_text=True))\n")
    page = subprocess.run([str(venv / "bin" / "python"), "-c", script], cwd=tmp_path, check=True,
                          capture_output=True, text=True, timeout=120,
                          env={**env, "RELANCE_HUEY_URL": f"sqlite:///{tmp_path}/q.db"}).stdout
    assert 'lang="fr"' in page
    assert "Se connecter" in page and "Mot de passe" in page


@pytest.fixture(scope="module")
def source_pot(tmp_path_factory):
    """A fresh extraction of the source's msgids, as scripts/i18n does it."""
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", *EXTRACT, "-o", str(out), "."],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    return _read(out)


def test_the_pot_file_lists_exactly_the_msgids_of_the_source(source_pot):
    in_source, in_pot = set(_entries(source_pot)), set(_entries(_read(POT)))
    assert not in_source - in_pot, f"msgids missing from messages.pot ({FIX}): {sorted(map(str, in_source - in_pot))}"
    assert not in_pot - in_source, f"messages.pot has msgids gone from the source (run scripts/i18n): " \
                                   f"{sorted(map(str, in_pot - in_source))}"


@pytest.mark.parametrize("path", [FRENCH, ENGLISH], ids=["fr", "en"])
def test_each_catalogue_has_exactly_the_msgids_of_the_pot_file(path):
    in_pot, in_po = set(_entries(_read(POT))), set(_entries(_read(path)))
    assert in_po == in_pot, f"{path.relative_to(ROOT)} does not match messages.pot: run scripts/i18n"


def test_the_french_catalogue_translates_every_msgid_of_the_pot_file():
    french = _entries(_read(FRENCH))
    untranslated = [str(msgid) for msgid in _entries(_read(POT))
                    if msgid not in french or not all(_forms(french[msgid]))]
    assert not untranslated, f"untranslated in French ({FIX}): {untranslated}"


def test_no_french_translation_is_fuzzy():
    fuzzy = [str(m.id) for m in _entries(_read(FRENCH)).values() if m.fuzzy]
    assert not fuzzy, f"fuzzy French entries are not compiled; check and unflag them: {fuzzy}"


def test_plural_french_entries_have_both_forms():
    for message in _entries(_read(FRENCH)).values():
        if message.pluralizable:
            assert len(message.string) == 2 and all(message.string), message.id


def test_french_translations_keep_every_placeholder():
    for message in _entries(_read(FRENCH)).values():
        ids = message.id if message.pluralizable else (message.id,)
        expected = _placeholders(ids[-1])  # the plural msgid: French uses the count in both forms
        for form in _forms(message):
            if form:
                assert _placeholders(form) == expected, f"{message.id!r} -> {form!r}"


@pytest.mark.parametrize("path", [FRENCH, ENGLISH], ids=["fr", "en"])
def test_the_catalogues_pass_babels_checks(path):
    errors = [(message.id, [str(e) for e in errs]) for message, errs in _read(path).check()]
    assert not errors


def test_the_french_catalogue_follows_the_glossary():
    french = _entries(_read(FRENCH))
    wrong = {msgid: french[msgid].string for msgid, term in GLOSSARY.items()
             if msgid in french and french[msgid].string != term}
    assert not wrong


def test_the_english_catalogue_reads_the_msgids_but_gives_plurals_their_english_forms():
    for message in _entries(_read(ENGLISH)).values():
        if message.pluralizable:
            assert tuple(message.string) == tuple(message.id[:2]), message.id
        else:
            assert message.string == "", f"{message.id!r}: English falls back to the msgid itself"


def test_the_login_page_is_in_french_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="fr"' in page
    assert "Se connecter" in page and "Mot de passe" in page
    assert "Sign in" not in page


def test_choosing_english_turns_the_pages_into_english(client):
    response = client.post("/language", data={"locale": "en"})
    assert response.status_code == 302
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Sign in" in page and "Password" in page
    assert "Se connecter" not in page


def test_choosing_french_again_turns_the_pages_back_into_french(client):
    client.post("/language", data={"locale": "en"})
    client.post("/language", data={"locale": "fr"})
    assert "Se connecter" in client.get("/login").get_data(as_text=True)


def test_an_unknown_language_is_refused(client):
    assert client.post("/language", data={"locale": "de"}).status_code == 400


def test_dates_are_written_day_first_in_french(app):
    moment = datetime(2026, 3, 5, 14, 30)  # naive UTC, as stored; Dakar is UTC+0 all year
    with app.test_request_context():
        shown = app.jinja_env.from_string("{{ value | datetime }}").render(value=moment)
        day = app.jinja_env.from_string("{{ value | date }}").render(value=moment.date())
    assert shown == "05/03/2026 14:30"
    assert day == "05/03/2026"


def test_the_prospect_count_agrees_in_french(app):
    template = app.jinja_env.from_string('{{ ngettext("%(num)d prospect", "%(num)d prospects", n) }}')
    with app.test_request_context():
        assert [template.render(n=n) for n in (0, 1, 2)] == ["0 prospect", "1 prospect", "2 prospects"]


def test_a_french_label_comes_from_the_catalogue(app):
    """A string whose French differs from its English: proves the compiled catalogue is loaded."""
    with app.test_request_context():
        rendered = app.jinja_env.from_string('{{ _("Unassigned") }} · {{ labels.temperature.warm }}').render()
    assert rendered == "Non attribué · Tiède"
