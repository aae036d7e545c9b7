"""Configuration from RELANCE_* environment variables (DESIGN: public contract)."""
import os
import secrets
from pathlib import Path

from flask import current_app

from .files import private_dir


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """RELANCE_SECRET_KEY, or a random key kept in the instance folder so first runs need no set-up."""
    key = os.environ.get("RELANCE_SECRET_KEY")
    if key:
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        private_dir(instance_path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def queue_url(instance_path: Path) -> str:
    """RELANCE_HUEY_URL, or a SQLite queue in the instance folder: read here only (app.config["HUEY_URL"]
    and the queue module, which is built before any app, agree)."""
    return os.environ.get("RELANCE_HUEY_URL") or f"sqlite:///{instance_path / 'huey.db'}"


def business_timezone() -> str:
    """The business timezone of the running app (RELANCE_TIMEZONE): for services called without one."""
    return current_app.config["TIMEZONE"]


def from_environment(instance_path: Path) -> dict:
    """The Flask config mapping built from the environment, with embedded defaults."""
    env = os.environ.get
    return {
        "SECRET_KEY": _secret_key(instance_path),
        # Encrypts integration secrets at rest (webapp/secrets.py); none: no mailbox password is stored.
        "SECRETS_KEY": env("RELANCE_SECRETS_KEY", ""),
        "DATABASE_URL": env("RELANCE_DATABASE_URL") or f"sqlite:///{instance_path / 'relance.db'}",
        "HUEY_URL": queue_url(instance_path),
        "TIMEZONE": env("RELANCE_TIMEZONE", "Africa/Dakar"),
        "PHONE_REGION": env("RELANCE_PHONE_REGION", "SN").upper(),
        "SESSION_COOKIE_SECURE": _flag(env("RELANCE_SECURE_COOKIES"), False),
        "RATELIMIT_STORAGE_URI": env("RELANCE_RATELIMIT_STORAGE_URL")
        or f"sqlite:///{instance_path / 'ratelimit.db'}",
        "LOGIN_RATE_LIMIT": env("RELANCE_LOGIN_RATE_LIMIT", "10 per 5 minutes"),
        "API_RATE_LIMIT": env("RELANCE_API_RATE_LIMIT", "600 per minute"),
        "SESSION_IDLE_MINUTES": int(env("RELANCE_SESSION_IDLE_MINUTES", str(8 * 60))),
        "PAGE_SIZE": int(env("RELANCE_PAGE_SIZE", "25")),
        "BOARD_POLL_SECONDS": int(env("RELANCE_BOARD_POLL_SECONDS", "15")),
        "SMTP_URL": env("RELANCE_SMTP_URL", ""),
        "MAIL_FROM": env("RELANCE_MAIL_FROM", ""),
        "BABEL_DEFAULT_LOCALE": env("RELANCE_LOCALE", "fr"),
        "PROXY_COUNT": int(env("RELANCE_PROXY_COUNT", "0")),
        "INTAKE_MAX_BYTES": int(env("RELANCE_INTAKE_MAX_BYTES", str(256 * 1024))),
        "INTAKE_LEASE_SECONDS": int(env("RELANCE_INTAKE_LEASE_SECONDS", "120")),
        "INTAKE_MAX_ATTEMPTS": int(env("RELANCE_INTAKE_MAX_ATTEMPTS", "5")),
    }
