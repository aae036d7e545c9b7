"""The plugin host: hooks declared once, the built-in web-form plugin, and a plugin a business installs."""
import shutil
import sys
from pathlib import Path

import pytest

from integrations import plugins
from integrations.hookspecs import hookimpl
from webapp.models import InboundRequest, Prospect
from webapp.services import intake
from webapp.services.sources import create_source

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "relance-callcenter"


@pytest.fixture
def installed_example(tmp_path, monkeypatch):
    """Install the example plugin as pip would lay it out: the module plus a dist-info whose
    entry_points.txt names it in the `relance.integrations` group, in a directory on sys.path."""
    site = tmp_path / "site-packages"
    site.mkdir()
    shutil.copy(EXAMPLE / "relance_callcenter.py", site)
    info = site / "relance_callcenter-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: relance-callcenter\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[relance.integrations]\ncallcenter = relance_callcenter\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(plugins, "_manager", plugins.make_manager())
    yield
    sys.modules.pop("relance_callcenter", None)


def test_the_built_in_web_form_plugin_is_always_there():
    assert "webform" in plugins.source_types()


def test_an_installed_plugin_is_found_by_its_entry_point(installed_example):
    built_in = len(plugins.BUILT_IN)
    assert plugins.source_types()[:2] == ["webform", "imap"] and plugins.source_types()[built_in] == "callcenter"


def test_an_installed_plugin_reads_its_sources_requests_end_to_end(installed_example, app, make_user, db):
    lead = make_user("lead")
    source = db(lambda: create_source("centre-appels", "callcenter", "Centre d'appels"))
    client = app.test_client()

    answer = client.post("/intake/centre-appels", data="Ndiaye;Awa;77 123 45 67;Voudrait un rendez-vous".encode(),
                         content_type="text/plain; charset=utf-8")

    assert answer.status_code == 202
    request_id = answer.json["id"]
    assert db(lambda: intake.process(request_id)) == "processed"
    stored = db(lambda: InboundRequest.get_by_id(request_id))
    assert stored.triage and stored.parsed["last_name"] == "Ndiaye"
    assert stored.parsed["qualification"] == "appointment"
    outcome = db(lambda: intake.create_from(request_id, lead))
    prospect = db(lambda: Prospect.get_by_id(outcome.prospect.id))
    # the plugin says how its callers came: by phone, not by the web form
    assert (prospect.first_name, prospect.phone, prospect.channel) == ("Awa", "+221771234567", "phone")
    assert source.type == "callcenter"


def test_a_plugin_that_refuses_a_body_gets_the_sender_a_clear_4xx_and_the_body_kept(installed_example, app, db):
    db(lambda: create_source("centre-appels", "callcenter"))

    answer = app.test_client().post("/intake/centre-appels", data=b"pas de separateur",
                                    content_type="text/plain")

    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "missing_contact"
    stored = db(lambda: InboundRequest.get_by_id(answer.json["id"]))
    assert (stored.state, bytes(stored.body)) == ("failed", b"pas de separateur")


def test_a_source_of_a_type_no_plugin_handles_cannot_be_created(app, db):
    from webapp.services.sources import SourceError
    with pytest.raises(SourceError, match="unknown_type"):
        db(lambda: create_source("x", "callcenter"))



class CrashingPlugin:
    @hookimpl
    def parse_request(self, source, content_type, headers, body):
        raise RuntimeError("a bug in a plugin")


def test_a_plugin_that_crashes_on_a_post_loses_nothing(installed_example, app, db):
    db(lambda: create_source("centre-appels", "callcenter"))
    plugins.plugin_manager().register(CrashingPlugin())   # called first: the last registered

    answer = app.test_client().post("/intake/centre-appels", data=b"Ndiaye;Awa;77 123 45 67;RDV",
                                    content_type="text/plain")

    assert answer.status_code == 202                        # stored as it came, for the worker to retry
    stored = db(lambda: InboundRequest.get_by_id(answer.json["id"]))
    assert (stored.state, bytes(stored.body)) == ("received", b"Ndiaye;Awa;77 123 45 67;RDV")
