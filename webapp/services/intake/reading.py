"""What a source is set to and what its plugin reads in a stored request: the part of the pipeline
acceptance and processing share. The core asks the plugins through the hooks only."""
import json

from integrations.contract import MAIL_CONTENT_TYPE, Inbound, PluginError
from integrations.plugins import plugin_manager, source_type

from ...models import Source


def config_of(source: Source) -> dict:
    """The source's settings over its own type's defaults (a mailbox has no web-form settings)."""
    kind = source_type(source.type)
    return {**(kind.defaults() if kind is not None else {}), **(source.config or {})}


def is_mail(content_type: str) -> bool:
    return (content_type or "").partition(";")[0].strip().lower() == MAIL_CONTENT_TYPE


def read_inbound(source: Source, content_type: str, headers: dict, body: bytes) -> Inbound:
    """The request as its source's plugin reads it: `parse_message` for a stored mail, `parse_request`
    for anything else. PluginError when no plugin reads it (or the plugin refuses it)."""
    hook = plugin_manager().hook
    if is_mail(content_type):
        inbound = hook.parse_message(source=source, raw=body)
    else:
        inbound = hook.parse_request(source=source, content_type=content_type, headers=headers, body=body)
    if inbound is None:
        raise PluginError("no_plugin_for_source_type", 422)
    if isinstance(inbound, dict):  # a plugin written before `Inbound`: its fields, on its type's channel
        kind = source_type(source.type)
        inbound = Inbound.from_dict({"channel": kind.channel if kind is not None else "other", **inbound})
    return inbound


def content_of(inbound: Inbound) -> bytes:
    """What makes two readings "the same content": every field the plugin read, in a stable order."""
    return b":" + json.dumps(inbound.as_dict(), sort_keys=True).encode()
