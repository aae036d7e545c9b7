"""An uploaded file kept on the server between its preview and its confirmation.

The file is written to a private instance folder (0700, the file 0600: it holds patients' details)
under a random token; its sidecar records who uploaded it, for which source, and when. Only that
person can take it back, once: it is deleted when taken, and any left over (a preview never
confirmed) is deleted after an hour.
"""
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import current_app

from ..files import PRIVATE_FILE, private_dir
from ..timeutil import utcnow

LIFETIME = timedelta(hours=1)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@dataclass(frozen=True)
class Stashed:
    data: bytes
    filename: str
    source_id: int


def _folder() -> Path:
    folder = current_app.config.get("UPLOAD_STASH_DIR") or Path(current_app.instance_path) / "uploads"
    return private_dir(Path(folder))


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def put(data: bytes, filename: str, source_id: int, user_id: int, now: datetime | None = None) -> str:
    """Keep the file; return the token that gives it back to this person."""
    now = now or utcnow()
    sweep(now)
    token = secrets.token_urlsafe(32)
    folder = _folder()
    _write(folder / f"{token}.bin", data)
    _write(folder / f"{token}.json", json.dumps({
        "user_id": user_id, "source_id": source_id, "filename": filename[:200],
        "created_at": now.isoformat()}).encode())
    return token


def _meta(token: str) -> dict | None:
    if not TOKEN.match(token or ""):
        return None
    try:
        return json.loads((_folder() / f"{token}.json").read_text())
    except (OSError, ValueError):
        return None


def peek(token: str, user_id: int, now: datetime | None = None) -> Stashed | None:
    """The file, if this token is this person's and still fresh; it stays stashed."""
    meta = _meta(token)
    if meta is None or meta.get("user_id") != user_id:
        return None
    if datetime.fromisoformat(meta["created_at"]) + LIFETIME < (now or utcnow()):
        drop(token)
        return None
    try:
        data = (_folder() / f"{token}.bin").read_bytes()
    except OSError:
        return None
    return Stashed(data=data, filename=meta.get("filename", ""), source_id=int(meta.get("source_id") or 0))


def take(token: str, user_id: int, now: datetime | None = None) -> Stashed | None:
    """The file, once: it is deleted as it is given back."""
    found = peek(token, user_id, now)
    if found is not None:
        drop(token)
    return found


def drop(token: str) -> None:
    if not TOKEN.match(token or ""):
        return
    for suffix in (".bin", ".json"):
        try:
            (_folder() / f"{token}{suffix}").unlink()
        except FileNotFoundError:
            pass


def sweep(now: datetime | None = None) -> int:
    """Delete what was stashed over an hour ago; returns how many files."""
    cutoff = ((now or utcnow()) - LIFETIME).replace(tzinfo=timezone.utc).timestamp()
    removed = 0
    for path in _folder().glob("*.*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
