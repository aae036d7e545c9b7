"""The plugin manager: built-in plugins plus those installed under the `relance.integrations` entry point."""
import pluggy

from . import hookspecs, imap, webform
from .contract import SourceType

ENTRY_POINT_GROUP = "relance.integrations"
BUILT_IN = (webform, imap)

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


def _declared() -> list[str | SourceType]:
    """What the plugins declared, built-in ones first: a name, or a `SourceType` with its settings."""
    return [entry for entries in reversed(plugin_manager().hook.source_types()) for entry in entries]


def source_types() -> list[str]:
    """Every source type some plugin handles, built-in ones first."""
    seen: list[str] = []
    for entry in _declared():
        name = entry.name if isinstance(entry, SourceType) else entry
        if name not in seen:
            seen.append(name)
    return seen


def source_type(name: str) -> SourceType | None:
    """The declared `SourceType` of this name (its settings, its validation), or None for a type
    declared by name alone (such as the web form, whose settings the core knows)."""
    return next((entry for entry in _declared() if isinstance(entry, SourceType) and entry.name == name), None)
