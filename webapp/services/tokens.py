"""API tokens for machines: shown once, stored only as a SHA-256 hash (looked up by that hash)."""
import hashlib
import secrets
from datetime import timedelta

from ..models import ApiToken
from ..refusals import Refusal
from ..security import TOKEN_SCOPES, grantable_scopes
from ..timeutil import utcnow

PREFIX = "rl_"
LAST_USED_PRECISION = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenError(Refusal):
    """A token that may not be made: `no_scope`, `unknown_scope` or `scope_not_yours`."""
    domain = "token"
    status = 400


def create_token(name: str, created_by=None, scopes=None) -> tuple[ApiToken, str]:
    """Store a new token; return its row and its plain text, which is never stored.

    A person grants only scopes their role holds (least privilege: an administrator's role reads no
    records, so it grants none). Without a person (the `create-token` command, run by whoever runs the
    server) every scope is granted unless `scopes` names fewer."""
    scopes = list(TOKEN_SCOPES) if scopes is None and created_by is None else list(dict.fromkeys(scopes or []))
    if not scopes:
        raise TokenError("no_scope")
    if any(scope not in TOKEN_SCOPES for scope in scopes):
        raise TokenError("unknown_scope")
    if created_by is not None and not set(scopes) <= set(grantable_scopes(created_by)):
        raise TokenError("scope_not_yours")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.create(name=name[:100], prefix=token[:10], token_hash=_digest(token), created_by=created_by,
                          scopes=" ".join(scope for scope in TOKEN_SCOPES if scope in scopes))
    return row, token


def verify(token: str) -> ApiToken | None:
    if not token or not token.startswith(PREFIX):
        return None
    row = ApiToken.get_or_none((ApiToken.token_hash == _digest(token)) & ApiToken.revoked_at.is_null())
    if row is None:
        return None
    now = utcnow()
    # At most one write a minute per token: a busy integration must not queue on SQLite's writer.
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        row.last_used_at = now
        row.save(only=[ApiToken.last_used_at])
    return row


def revoke_token(token_id: int) -> ApiToken | None:
    """Revoke a token by id (kept for the record, never deleted); None when there is no such token."""
    row = ApiToken.get_or_none(ApiToken.id == token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        row.save(only=[ApiToken.revoked_at])
    return row
