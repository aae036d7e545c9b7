"""What an integration plugin can do: the single place that says it (STYLE: Datasette's hookspecs).

Plugins implement these with `@hookimpl` and are found through the `relance.integrations` entry
point group. The built-in web-form, mailbox and patient plugins will use exactly these hooks.
"""
import pluggy

hookspec = pluggy.HookspecMarker("relance")
hookimpl = pluggy.HookimplMarker("relance")


@hookspec
def source_types():
    """Return a list of source type names this plugin handles (e.g. ["webform"])."""


@hookspec(firstresult=True)
def parse_request(source, content_type, headers, body):
    """Turn a stored raw inbound request of a source this plugin handles into contact fields, or None."""


@hookspec(firstresult=True)
def fetch_patients(source, since):
    """Yield patient records (external_id, names, phone, email, birth date) changed since a time."""
