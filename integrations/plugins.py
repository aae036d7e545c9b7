"""The plugin manager: built-in plugins plus those installed under the `relance.integrations` entry point."""
import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "relance.integrations"

_manager: pluggy.PluginManager | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager; tests that register a plugin must unregister it afterwards."""
    global _manager
    if _manager is None:
        manager = pluggy.PluginManager("relance")
        manager.add_hookspecs(hookspecs)
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        _manager = manager
    return _manager
