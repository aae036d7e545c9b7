"""What an integration plugin can do: the single place that says it (STYLE: Datasette's hookspecs).

Three kinds of plugin share these hooks: intake sources (a website form, a webhook), mailboxes and
patient sources. Plugins implement them with `@hookimpl` and are found through the
`relance.integrations` entry point group; the built-in web-form plugin (`integrations.webform`) uses
exactly these hooks. Plugins speak the types of `integrations.contract` and nothing else of the core.
`source` is always a `webapp.models.Source` row or a view of it with the same attributes (`source.type`,
`source.config`, `source.slug`): a plugin answers only for the source types it declared and returns None
for the others.
"""
import pluggy

hookspec = pluggy.HookspecMarker("relance")
hookimpl = pluggy.HookimplMarker("relance")


@hookspec
def source_types():
    """Return the `contract.SourceType` instances this plugin provides (their names are unique)."""


@hookspec(firstresult=True)
def parse_request(source, content_type, headers, body):
    """Read a stored post (`body` bytes, its `content_type` and kept `headers`) into a `contract.Inbound`.

    Return None when the source is not this plugin's. Raise `contract.PluginError` for a body that
    cannot be read: the request then waits in the failed queue with that code, and the sender of a
    post gets the error's status.
    """


@hookspec(firstresult=True)
def parse_message(source, raw):
    """Read a mail (`raw`: the RFC 822 bytes as the mailbox gave them) into a `contract.Inbound`, with
    `channel="email"`, `message_id`, `thread`, `automated` and `bounced` set. None if not this plugin's.

    The core calls it for requests stored with the content type `contract.MAIL_CONTENT_TYPE`.
    """


@hookspec(firstresult=True)
def fetch_patients(source, cursor):
    """Return an iterable of the `contract.PatientRecord`s changed since `cursor` (the source's own
    bookmark, a string; "" the first time), or None when the source is not this plugin's. Write it as a
    plain function returning a generator: a generator function could never return None.

    A source read in pages yields each page as a `(records, cursor_after)` pair instead: the core applies
    the page and saves `cursor_after` in one transaction, so a failure keeps the cursor of the last page
    applied. Raise `contract.PluginError` to stop the run (its code is reported; the cursor stays).
    `source.config` carries the type's settings, its secret setting unsealed by the core.
    """


@hookspec(firstresult=True)
def read_patient_file(source, filename, data, region, today):
    """Read a patient export (`data`: the file's bytes) for a file source: return `(records, problems)`,
    `records` a list of `(line, contract.PatientRecord)` and `problems` a list of objects with `line`
    (0: the whole file), `code`, `value` and `column`; None when the source is not this plugin's.

    The core applies nothing when there is any problem (the file is refused whole) and words each
    problem for the staff from its code. `region` is the business's phone region, `today` its date.
    """
