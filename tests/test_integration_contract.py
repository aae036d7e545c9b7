"""The plugin contract: the core speaks to plugins through `integrations.contract`, `.plugins` and
`.hookspecs` only, and every source type brings its own settings."""
import ast
from pathlib import Path

import pytest

from integrations import plugins
from integrations.contract import MODE_SETTING, OWNER_SETTING, Inbound, PluginError, SourceType
from webapp.models import InboundRequest, Source
from webapp.services import intake
from webapp.services.users import create_user
from webapp.services.sources import SourceError, clean_config, create_source

ROOT = Path(__file__).resolve().parent.parent
SEAM = {"integrations.contract", "integrations.plugins", "integrations.hookspecs"}


def _imported_modules(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "integrations":
            yield from (f"integrations.{alias.name}" for alias in node.names)   # `from integrations import x`
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_nothing_under_webapp_imports_a_plugins_own_module():
    offenders = []
    for path in sorted((ROOT / "webapp").rglob("*.py")):
        for module in _imported_modules(ast.parse(path.read_text(), str(path))):
            if module.startswith("integrations.") and module not in SEAM:
                offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


def test_the_web_form_is_a_source_type_that_describes_its_own_settings():
    webform = plugins.source_type("webform")

    assert isinstance(webform, SourceType) and webform.channel == "webform"
    assert {s.name for s in webform.settings} == {"preset", "fields", "thank_you_url", "allowed_origins", "mode",
                                                   "owner", "honeypot", "rate_limit"}
    assert plugins.source_type("fax") is None


def test_the_public_plugin_error_is_the_contracts_and_the_old_name_still_works():
    from integrations.webform import IntakeError

    assert IntakeError is PluginError


class Pager(SourceType):
    name = "pager"
    label = "Pager"
    channel = "sms"


class PagerPlugin:
    """A source type with no settings at all, whose messages come by SMS."""
    from integrations.hookspecs import hookimpl

    @hookimpl
    def source_types(self):
        return [Pager()]

    @hookimpl
    def parse_request(self, source, content_type, headers, body):
        if source.type != "pager":
            return None
        return Inbound(channel="sms", last_name="Sarr", phone=body.decode())


@pytest.fixture
def pager():
    plugin = PagerPlugin()
    plugins.plugin_manager().register(plugin)
    yield
    plugins.plugin_manager().unregister(plugin)


def test_a_source_type_gets_its_own_settings_not_a_web_forms(pager, ctx):
    source = create_source("bip", "pager", config={"preset": "cf7", "honeypot": "website", "mode": "auto"})

    assert source.config == {}
    assert intake.config_of(source) == {}
    assert clean_config({}, "webform")["honeypot"] == "website"
    with pytest.raises(SourceError, match="unknown_type"):
        clean_config({}, "fax")


def test_a_request_is_recorded_on_the_channel_its_plugin_says(pager, ctx):
    source = create_source("bip", "pager")
    received = intake.accept(source, content_type="text/plain", headers={}, body=b"77 123 45 67",
                             remote_addr="127.0.0.1")

    assert intake.process(received.id) == "processed"
    outcome = intake.create_from(received.id, create_user("lead@clinic.test", "Lead", "lead", "correct-horse-42"))

    assert outcome.prospect.channel == "sms" and outcome.interaction.channel == "sms"
    assert InboundRequest.get_by_id(received.id).parsed["channel"] == "sms"
    assert Source.get_by_id(source.id).type == "pager"


def test_a_post_to_a_source_whose_type_takes_no_posts_is_refused_unread(pager, app, db):
    db(lambda: create_source("bip", "pager"))

    answer = app.test_client().post("/intake/bip", data=b"77 123 45 67", content_type="text/plain")

    assert answer.status_code == 404 and answer.json["error"]["code"] == "unknown_source"
    assert db(lambda: InboundRequest.select().count()) == 0


class Kiosk(SourceType):
    """A registration kiosk at an event: posts, triage or automatic, on the event channel."""
    name = "kiosk"
    channel = "event"
    receives_posts = True
    settings = (MODE_SETTING, OWNER_SETTING)


class KioskPlugin:
    from integrations.hookspecs import hookimpl

    @hookimpl
    def source_types(self):
        return [Kiosk()]

    @hookimpl
    def parse_request(self, source, content_type, headers, body):
        if source.type != "kiosk":
            return None
        return Inbound(channel="event", last_name="Faye", phone=body.decode())


@pytest.fixture
def kiosk():
    plugin = KioskPlugin()
    plugins.plugin_manager().register(plugin)
    yield
    plugins.plugin_manager().unregister(plugin)


def test_a_plugin_types_own_settings_are_checked_and_used(kiosk, app, db):
    with pytest.raises(SourceError, match="setting_not_a_choice"):
        db(lambda: create_source("accueil", "kiosk", config={"mode": "yolo"}))
    source = db(lambda: create_source("accueil", "kiosk", config={"mode": "auto", "preset": "cf7"}))
    assert source.config == {"mode": "auto", "owner": "round_robin"}

    answer = app.test_client().post("/intake/accueil", data=b"77 123 45 67", content_type="text/plain")

    assert answer.status_code == 202
    assert db(lambda: intake.process(answer.json["id"])) == "processed"
    prospect = db(lambda: InboundRequest.get_by_id(answer.json["id"]).prospect)
    assert (prospect.last_name, prospect.channel) == ("Faye", "event")


def test_a_plugin_that_takes_a_freed_plugins_id_is_still_found(monkeypatch):
    """The source types are cached per set of registered plugins. A plugin unregistered and freed may leave
    its memory, so its id(), to the next one (a flaky "unknown_type" in the tests): every object's id made
    the same here, as the allocator may make two, the new plugin's type is still found."""
    from integrations.hookspecs import hookimpl

    def plugin_of(name):
        kind = type(f"{name}_type", (SourceType,), {"name": name})

        class Plugin:
            @hookimpl
            def source_types(self):
                return [kind()]
        return Plugin()

    monkeypatch.setattr(plugins, "id", lambda obj: 42, raising=False)   # shadows the builtin in the module
    for name in ("first", "second"):
        plugin = plugin_of(name)
        plugins.plugin_manager().register(plugin)
        try:
            assert plugins.source_type(name) is not None, name
        finally:
            plugins.plugin_manager().unregister(plugin)
