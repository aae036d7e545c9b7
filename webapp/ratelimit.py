"""Rate limits, with the `limits` library: failed logins per address, and intake posts per source and
address (each source sets its own).

Two explicit checks, in the two views that need them. An extension (Flask-Limiter) ran three hooks on
every request for these two limits, a measurable share of an intake post's cost (`scripts/bench intake`;
the figures are in the README's benchmark section).

Counters live in `RATELIMIT_STORAGE_URI` (`RELANCE_RATELIMIT_STORAGE_URL`): by default a SQLite file in
the instance folder (webapp/ratelimit_store.py), shared by every web process of the machine; `redis://…`
counts across machines; `memory://` counts per process (tests). Taking a hit is one atomic step in the
store, so a limit holds whatever the number of processes. `RATELIMIT_ENABLED=False`
turns every limit off. If the store fails, the limit is not applied (logged): a throttle must not lock
staff out or lose a website's request.
"""
import logging
import time
from functools import lru_cache

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from . import ratelimit_store  # noqa: F401 (registers the sqlite:// scheme)

log = logging.getLogger(__name__)
EXTENSION = "relance.ratelimit"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = MovingWindowRateLimiter(
        storage_from_string(app.config.get("RATELIMIT_STORAGE_URI") or "memory://"))


@lru_cache(maxsize=64)
def _item(limit: str) -> RateLimitItem:
    return parse(limit)


def _apply(method: str, limit: str, keys: tuple[str, ...]) -> bool:
    if not limit or not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    try:
        return getattr(current_app.extensions[EXTENSION], method)(_item(limit), *keys)
    except Exception:  # the shared store is down: no limit rather than no service
        log.exception("rate limit %r for %s not applied", limit, keys)
        return True


def allowed(limit: str, *keys: str) -> bool:
    """Whether one more is allowed under `limit` (such as "10 per 5 minutes"), without counting it."""
    return _apply("test", limit, keys)


def hit(limit: str, *keys: str) -> bool:
    """Count one under `limit`; False when it is one too many."""
    return _apply("hit", limit, keys)


def release(limit: str, *keys: str) -> None:
    """Give back the last hit counted under `limit` for `keys`: a login attempt counted before its
    password was checked (so that parallel guesses cannot all pass a check) and that turned out right."""
    if not limit or not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    storage = current_app.extensions[EXTENSION].storage
    key = _item(limit).key_for(*keys)
    try:
        if isinstance(storage, ratelimit_store.SQLiteStorage):
            storage.release_entry(key)
        elif isinstance(storage, RedisStorage):  # the moving window is a list, newest first
            storage.get_connection().lpop(storage.prefixed_key(key))
        elif isinstance(storage, MemoryStorage):
            with storage.locks[key]:
                if storage.events.get(key):
                    storage.events[key].pop(0)
    except Exception:  # noqa: BLE001 (one attempt too many counted is not worth an error page)
        log.exception("rate limit %r for %s not released", limit, keys)


def retry_after(limit: str, *keys: str) -> int:
    """Seconds until `limit` allows one more for `keys` (at least 1)."""
    try:
        stats = current_app.extensions[EXTENSION].get_window_stats(_item(limit), *keys)
    except Exception:  # noqa: BLE001 (only a hint for the client)
        return 60
    return max(1, int(stats.reset_time - time.time()))
