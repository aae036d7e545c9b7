"""The audit log (SECURITY.md): logins, refusals, record views, exports, erasures. No health values."""
from flask import g, has_request_context
from flask_login import current_user

from ..models import AuditEvent


def record(action: str, record_type: str = "", record_id: int | None = None, detail: str = "",
           actor=None) -> AuditEvent:
    """Append one event; the actor and address come from the request when there is one: a signed-in
    person, or the API token a machine acted with."""
    token = None
    if actor is None and has_request_context():
        if current_user.is_authenticated:
            actor = current_user._get_current_object()
        else:
            token = g.get("api_token")
    address = g.get("address", "") if has_request_context() else ""
    if actor is not None:
        label = actor.email
    elif token is not None:
        label = f"token {token.prefix}… {token.name}"[:250]
    else:
        label = "cli" if not has_request_context() else ""
    return AuditEvent.create(action=action, record_type=record_type, record_id=record_id,
                             detail=detail[:250], actor=actor, actor_label=label, token=token, address=address)
