"""Webhook signatures (SECURITY.md: HMAC-SHA256 with a timestamp, compared in constant time).

A signed post carries `X-Relance-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
The timestamp bounds replays to `tolerance` seconds either side of now.
"""
import hashlib
import hmac

HEADER = "X-Relance-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value a sender computes; used by tests and by the README's example."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def check(secret: str, header: str | None, body: bytes, now: float,
          tolerance: int = TOLERANCE_SECONDS) -> str | None:
    """None when the signature is good, else why not: `missing`, `malformed`, `expired`, `mismatch`."""
    if not header:
        return "missing"
    parts = dict(part.strip().partition("=")[::2] for part in header.split(","))
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    # ASCII digits only ("²" is a digit to str.isdigit() but not to int()), and a sane length.
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or not given:
        return "malformed"
    if abs(now - int(stamp)) > tolerance:
        return "expired"
    expected = sign(secret, body, int(stamp)).rpartition("v1=")[2]
    return None if hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")) else "mismatch"
