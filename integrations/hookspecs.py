"""What an integration plugin can do: the single place that says it (STYLE: Datasette's hookspecs).

Three kinds of plugin share these hooks: intake sources (a website form, a webhook), mailbox parsers and
patient sources. Plugins implement them with `@hookimpl` and are found through the
`relance.integrations` entry point group; the built-in web-form plugin (`integrations.webform`) uses
exactly these hooks. `source` is always a `webapp.models.Source` row: a plugin answers only for the
source types it declared and returns None for the others.
"""
import pluggy

hookspec = pluggy.HookspecMarker("relance")
hookimpl = pluggy.HookimplMarker("relance")


@hookspec
def source_types():
    """Return a list of the source types this plugin handles: names (e.g. ["webform"]) or
    `integrations.contract.SourceType` instances, which also describe and validate their settings."""


@hookspec(firstresult=True)
def parse_request(source, content_type, headers, body):
    """Turn a stored raw inbound request into contact fields.

    Return a dict with `first_name`, `last_name`, `phone`, `email`, `birth_date` (ISO date or None),
    `request` (the form's choice), `message`, `origin` and `extra` (anything else worth showing), or None
    when the source is not this plugin's. Raise `integrations.webform.IntakeError` for a body that
    cannot be read: the request then waits in the failed queue with that code.
    """


@hookspec(firstresult=True)
def parse_message(source, raw):
    """Turn a stored mail from a polled mailbox (its raw RFC 822 bytes) into an
    `integrations.contract.Inbound`, or None when the source is not this plugin's."""


@hookspec(firstresult=True)
def fetch_patients(source, since):
    """Yield patient records (external_id, names, phone, email, birth date) changed since a time."""
