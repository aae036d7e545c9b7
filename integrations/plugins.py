"""The plugin manager: built-in plugins plus those installed under the `relance.integrations` entry point.

The core reaches plugins only through this module, `hookspecs` and `contract`: it asks for a source
type by name (`source_type`) and calls the hooks; it never imports a plugin's own module.
"""
import pluggy

from . import fhir, hookspecs, imap, patient_file, patient_push, webform
from .contract import SourceType

ENTRY_POINT_GROUP = "relance.integrations"
BUILT_IN = (webform, imap, patient_file, patient_push, fhir)

_manager: pluggy.PluginManager | None = None
# The source types, read once per manager and set of registered plugins (acceptance asks per post).
_types: tuple[object, frozenset, dict[str, SourceType]] | None = None


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


def _by_name() -> dict[str, SourceType]:
    global _types
    manager = plugin_manager()
    # The plugins themselves, not their id(): a plugin unregistered and freed may leave its id to a new one,
    # which would then be taken for it (a test's plugin "unknown" at random). The cache keeps them alive.
    registered = frozenset(manager.get_plugins())
    if _types is not None and _types[0] is manager and _types[1] == registered:
        return _types[2]
    found: dict[str, SourceType] = {}
    # pluggy calls the last registered first: reversed, the built-in ones come first and win a name.
    for provided in reversed(manager.hook.source_types()):
        for kind in provided or ():
            if isinstance(kind, str):  # a plugin written before SourceType: a bare type of that name
                kind = type(f"{kind}_source", (SourceType,), {"name": kind, "receives_posts": True})()
            found.setdefault(kind.name, kind)
    _types = (manager, registered, found)
    return found


def source_types() -> list[str]:
    """The name of every source type some plugin provides, built-in ones first."""
    return list(_by_name())


def source_type(name: str) -> SourceType | None:
    """The source type of this name, or None when no installed plugin provides it (any more)."""
    return _by_name().get(name)
