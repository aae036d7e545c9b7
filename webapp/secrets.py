"""Integration secrets at rest (a mailbox's password): encrypted with a key from the environment.

`RELANCE_SECRETS_KEY` holds a Fernet key (`python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"`), or any passphrase of 32 characters or more (a key is derived
from it with SHA-256). Several keys separated by commas rotate: the first encrypts, every one decrypts,
so an old key stays readable until the secrets are saved again.

A sealed secret is stored in the write-only `Source.secret` column as `fernet:<token>`: never rendered,
serialised or logged (SECURITY.md). Without a key nothing is stored: `SecretsUnavailable`, which the
settings page and the CLI show as a clear error. Only a test app (`TESTING`) with no key derives one
from its SECRET_KEY, so that the tests need no set-up; a real deployment never does.
"""
import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

PREFIX = "fernet:"
MIN_PASSPHRASE = 32


class SecretsUnavailable(Exception):
    """No key is configured (code `no_secrets_key`), or a stored secret cannot be read with the keys
    configured (code `secret_unreadable`: the key changed)."""

    def __init__(self, code: str = "no_secrets_key"):
        super().__init__(code)
        self.code = code


def _fernet_key(text: str) -> bytes:
    text = text.strip()
    try:
        Fernet(text.encode())
        return text.encode()
    except (ValueError, TypeError):
        pass
    if len(text) < MIN_PASSPHRASE:
        raise SecretsUnavailable("weak_secrets_key")
    return base64.urlsafe_b64encode(hashlib.sha256(b"relance-secrets:" + text.encode()).digest())


def _keys() -> list[bytes]:
    config = current_app.config
    raw = (config.get("SECRETS_KEY") or "").strip()
    if not raw and config.get("TESTING"):
        # Tests only: a key derived from the test app's own secret key.
        raw = "test-only:" + str(config.get("SECRET_KEY") or "") + ":" + "x" * MIN_PASSPHRASE
    if not raw:
        raise SecretsUnavailable("no_secrets_key")
    return [_fernet_key(part) for part in raw.split(",") if part.strip()]


def _box() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def configured() -> bool:
    """A key is there: secrets can be stored."""
    try:
        _keys()
    except SecretsUnavailable:
        return False
    return True


def seal(plain: str) -> str:
    """The secret encrypted for storage (`fernet:<token>`); SecretsUnavailable without a key."""
    return PREFIX + _box().encrypt(plain.encode()).decode("ascii")


def unseal(stored: str | None) -> str | None:
    """The secret a `seal` stored (None for none); SecretsUnavailable if no key configured reads it."""
    if not stored:
        return None
    if not stored.startswith(PREFIX):
        raise SecretsUnavailable("secret_unreadable")
    try:
        return _box().decrypt(stored[len(PREFIX):].encode("ascii")).decode()
    except (InvalidToken, ValueError):
        raise SecretsUnavailable("secret_unreadable") from None


def is_sealed(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(PREFIX)
