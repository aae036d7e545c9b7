"""Addresses a source's settings name: a page to send visitors to, a website allowed to post, a mail server
(on this machine or not)."""
from urllib.parse import urlparse


def is_web_url(value: str) -> bool:
    """An http(s) address with a host and no whitespace or control characters: safe to put in a
    Location header (CR/LF would split it)."""
    parsed = urlparse(value)
    return (parsed.scheme in ("http", "https") and bool(parsed.netloc)
            and not any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value))


def web_origin(value: str) -> str | None:
    """A website's origin as browsers send it ("https://www.clinique.sn"), or None when `value` is
    not one (no scheme, a path)."""
    parsed = urlparse(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path not in ("", "/"):
        return None
    return f"{parsed.scheme}://{parsed.netloc}".lower()


LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    """This machine, by name or address, without asking any DNS (a name could be made to point anywhere)."""
    import ipaddress

    host = (host or "").strip().strip("[]").lower().rstrip(".")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
