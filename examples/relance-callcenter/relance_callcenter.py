"""An example Relance integration plugin: a call centre posts one semicolon-separated line per caller.

    POST /intake/<slug>   Content-Type: text/plain; charset=utf-8
    Ndiaye;Awa;77 123 45 67;Voudrait un rendez-vous

Relance stores the raw post first, then asks the plugins to read it; this one answers only for
sources of its type, "callcenter".
"""
from integrations.hookspecs import hookimpl
from integrations.webform import IntakeError

SOURCE_TYPE = "callcenter"


@hookimpl
def source_types():
    return [SOURCE_TYPE]


@hookimpl
def parse_request(source, content_type, headers, body):
    if source.type != SOURCE_TYPE:
        return None
    if not content_type.startswith("text/plain"):
        raise IntakeError("unsupported_content_type", 415)
    try:
        line = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise IntakeError("bad_encoding") from None
    parts = [part.strip() for part in line.split(";")]
    if len(parts) != 4 or not parts[2]:
        raise IntakeError("missing_contact", 422)
    last_name, first_name, phone, message = parts
    return {"first_name": first_name, "last_name": last_name, "phone": phone, "email": None,
            "birth_date": None, "request": "", "message": message, "origin": "centre d'appels", "extra": {}}
