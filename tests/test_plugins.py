"""The plugin host: hooks are declared once and plugins registered by a business are called."""
from integrations.hookspecs import hookimpl
from integrations.plugins import plugin_manager


class ClinicFormPlugin:
    @hookimpl
    def source_types(self):
        return ["clinic-form"]

    @hookimpl
    def parse_request(self, source, content_type, headers, body):
        if source != "clinic-form":
            return None
        name, phone = body.decode().split(";")
        return {"last_name": name, "phone": phone}


def test_a_registered_plugin_answers_the_hooks_it_implements():
    manager = plugin_manager()
    plugin = ClinicFormPlugin()
    manager.register(plugin)
    try:
        assert ["clinic-form"] in manager.hook.source_types()
        parsed = manager.hook.parse_request(source="clinic-form", content_type="text/plain", headers={},
                                            body=b"Diop;77 123 45 67")
        assert parsed == {"last_name": "Diop", "phone": "77 123 45 67"}
    finally:
        manager.unregister(plugin)
    assert manager.hook.parse_request(source="clinic-form", content_type="", headers={}, body=b"x") is None
