"""The plugin manager: built-in plugins plus those installed under the `relance.integrations` entry point."""
import pluggy

from . import fhir, hookspecs, patient_file, patient_push, webform

ENTRY_POINT_GROUP = "relance.integrations"
BUILT_IN = (webform, patient_file, patient_push, fhir)

_manager: pluggy.PluginManager | None = None


def make_manager() -> pluggy.PluginManager:
    """A manager with the hooks, the built-in plugins and every installed entry-point plugin."""
    manager = pluggy.PluginManager("relance")
    manager.add_hookspecs(hookspecs)
    for plugin in BUILT_IN:
        manager.register(plugin)
    manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    return manager


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager; tests that register a plugin must unregister it afterwards."""
    global _manager
    if _manager is None:
        _manager = make_manager()
    return _manager


def source_types() -> list[str]:
    """Every source type some plugin handles, built-in ones first."""
    seen: list[str] = []
    for names in reversed(plugin_manager().hook.source_types()):
        seen.extend(name for name in names if name not in seen)
    return seen
