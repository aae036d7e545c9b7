"""An example Relance integration plugin: a call centre posts one semicolon-separated line per caller.

    POST /intake/<slug>   Content-Type: text/plain; charset=utf-8
    Ndiaye;Awa;77 123 45 67;Voudrait un rendez-vous

Relance stores the raw post first, then asks the plugins to read it; this one answers only for
sources of its type, "callcenter". It speaks the contract (`integrations.contract`) and nothing else
of Relance: a source type with its settings, an `Inbound` per call, a `PluginError` for a bad line.
"""
from integrations.contract import MODE_SETTING, OWNER_SETTING, Inbound, PluginError, SourceType
from integrations.hookspecs import hookimpl


class CallCentre(SourceType):
    name = "callcenter"
    label = "Call centre"
    channel = "phone"                    # its callers phoned: their prospects are phone contacts
    receives_posts = True                # at /intake/<slug>
    settings = (MODE_SETTING, OWNER_SETTING)


CALL_CENTRE = CallCentre()


@hookimpl
def source_types():
    return [CALL_CENTRE]


@hookimpl
def parse_request(source, content_type, headers, body):
    if source.type != CALL_CENTRE.name:
        return None                      # not ours: another plugin answers
    if not content_type.startswith("text/plain"):
        raise PluginError("unsupported_content_type", 415)
    try:
        line = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise PluginError("bad_encoding") from None
    parts = [part.strip() for part in line.split(";")]
    if len(parts) != 4 or not parts[2]:
        raise PluginError("missing_contact", 422)
    last_name, first_name, phone, message = parts
    return Inbound(channel=CALL_CENTRE.channel, first_name=first_name, last_name=last_name, phone=phone,
                   message=message, origin="centre d'appels")
