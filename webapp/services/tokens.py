"""API tokens for machines: shown once, stored only as a SHA-256 hash (looked up by that hash)."""
import hashlib
import secrets
from datetime import timedelta

from ..models import ApiToken
from ..timeutil import utcnow

PREFIX = "rl_"
LAST_USED_PRECISION = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str, created_by=None) -> tuple[ApiToken, str]:
    """Store a new token; return its row and its plain text, which is never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.create(name=name[:100], prefix=token[:10], token_hash=_digest(token), created_by=created_by)
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
