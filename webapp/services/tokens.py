"""API tokens for machines: shown once, stored only as a SHA-256 hash (looked up by that hash)."""
import hashlib
import secrets

from ..models import ApiToken
from ..timeutil import utcnow

PREFIX = "rl_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str, created_by=None) -> str:
    """Store a new token and return its plain text, which is never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    ApiToken.create(name=name, prefix=token[:10], token_hash=_digest(token), created_by=created_by)
    return token


def verify(token: str) -> ApiToken | None:
    if not token or not token.startswith(PREFIX):
        return None
    row = ApiToken.get_or_none((ApiToken.token_hash == _digest(token)) & ApiToken.revoked_at.is_null())
    if row is None:
        return None
    row.last_used_at = utcnow()
    row.save(only=[ApiToken.last_used_at])
    return row
