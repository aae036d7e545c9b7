"""The built-in FHIR R4 patient source: `Patient` resources changed since the last sync, page by page.

`Patient?_lastUpdated=ge<cursor>&_count=N&_sort=_lastUpdated`, then the Bundle's `next` links. The
cursor is the last `meta.lastUpdated` applied plus the ids applied at that very instant: the search
asks `ge` (a page may end in the middle of one instant) and drops what the cursor already holds, so
a resumed sync skips nothing and applies nothing twice, and a page served twice brings nothing new.

A page is yielded with the cursor after it; the core applies it and saves that cursor in one
transaction. A 429 waits its Retry-After (bounded), a 5xx or an unreadable page (a truncated body) is
retried a few times, then the run stops with `FhirError`: the cursor stays where the last applied
page left it, and the next run starts there.
"""
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from urllib.parse import urlencode, urljoin, urlparse

from .contract import N_, PatientRecord, PluginError, Setting, SourceType
from .hookspecs import hookimpl

SOURCE_TYPE = "fhir"
CURSOR_KEY = "patient_last_updated"
ATTEMPTS = 4
MAX_RETRY_AFTER = 120        # seconds: a server asking longer is tried again at the next run
BACKOFF = (1, 4, 15)
MAX_PAGES = 1000             # per run: the next run goes on from the cursor
MAX_BODY = 20 * 1024 * 1024
TIMEOUT = 30
FHIR_JSON = "application/fhir+json"
# How the client waits and opens URLs (tests replace them: no real waiting).
SLEEP = time.sleep
OPENER = urllib.request.urlopen


class FhirType(SourceType):
    name = SOURCE_TYPE
    label = N_("FHIR R4 server (pull)")
    channel = "other"
    settings = (
        Setting("base_url", N_("Server address"), required=True,
                help=N_("The FHIR base, such as https://fhir.clinic.sn/R4")),
        Setting("page_size", N_("Patients per page"), kind="int", default=100),
        Setting("identifier_system", N_("Identifier system of the file number"),
                help=N_("Empty: the resource id is the patient's id.")),
        Setting("token", N_("Bearer token"), kind="secret", help=N_("Empty when the server asks for none.")),
    )

    def validate(self, values: dict) -> dict:
        cleaned = super().validate(values)
        parsed = urlparse(cleaned.get("base_url", ""))
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise PluginError("invalid_base_url", 422, field="base_url")
        if not 1 <= int(cleaned.get("page_size") or 0) <= 1000:
            raise PluginError("setting_not_a_number", 422, field="page_size")
        return cleaned


FHIR = FhirType()


class FhirError(PluginError):
    """The run stopped: `code` says why (server_error, rate_limited, bad_page, unreachable, refused)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code, 502)
        self.detail = detail

    def __str__(self):
        return f"{self.code}: {self.detail}" if self.detail else self.code


@dataclass
class Cursor:
    """The last `meta.lastUpdated` applied (as the server wrote it) and the ids applied at that instant."""
    last_updated: str = ""
    ids: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, text: str | None) -> "Cursor":
        try:
            data = json.loads(text or "{}")
            return cls(str(data.get("last_updated") or ""), [str(i) for i in data.get("ids") or []])
        except (ValueError, AttributeError):
            return cls()

    def dump(self) -> str:
        return json.dumps({"last_updated": self.last_updated, "ids": sorted(self.ids)})

    def holds(self, instant: datetime, ident: str) -> bool:
        """Already applied: before the cursor, or at its instant with this id."""
        if not self.last_updated:
            return False
        mine = instant_of(self.last_updated)
        return instant < mine or (instant == mine and ident in self.ids)

    def advance(self, text: str, ident: str) -> None:
        if not self.last_updated or instant_of(text) > instant_of(self.last_updated):
            self.last_updated, self.ids = text, [ident]
        elif instant_of(text) == instant_of(self.last_updated) and ident not in self.ids:
            self.ids.append(ident)


@dataclass
class Page:
    """The new records of one page, and the cursor once they are applied."""
    records: list[PatientRecord]
    cursor: Cursor
    url: str


def instant_of(text: str) -> datetime:
    """A FHIR instant as an aware datetime in UTC (a date-only value is midnight UTC)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def first_url(config: dict, cursor: Cursor) -> str:
    params = {"_count": int(config.get("page_size") or 100), "_sort": "_lastUpdated"}
    if cursor.last_updated:
        params["_lastUpdated"] = f"ge{cursor.last_updated}"
    return f"{config['base_url'].rstrip('/')}/Patient?{urlencode(params)}"


def fetch_json(url: str, token: str | None, sleep=None, opener=None) -> dict:
    """GET a FHIR JSON resource, retrying 429 (after its Retry-After), 5xx and unreadable bodies."""
    sleep, opener = sleep or SLEEP, opener or OPENER
    headers = {"Accept": FHIR_JSON}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    last = FhirError("server_error")
    for attempt in range(ATTEMPTS):
        if attempt:
            sleep(last.wait if isinstance(last, _Retry) else BACKOFF[min(attempt - 1, len(BACKOFF) - 1)])
        try:
            with opener(urllib.request.Request(url, headers=headers), timeout=TIMEOUT) as response:
                body = response.read(MAX_BODY + 1)
        except urllib.error.HTTPError as error:
            last = _refusal(error)
            continue
        except (urllib.error.URLError, OSError, ValueError) as error:
            last = FhirError("unreachable", str(getattr(error, "reason", error))[:200])
            continue
        if len(body) > MAX_BODY:
            raise FhirError("bad_page", "page too large")
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            last = FhirError("bad_page", "unreadable JSON")
    raise FhirError(last.code, last.detail)


class _Retry(FhirError):
    def __init__(self, code: str, wait: float, detail: str = ""):
        super().__init__(code, detail)
        self.wait = wait


def _refusal(error: urllib.error.HTTPError) -> FhirError:
    if error.code == 429:
        wait = _retry_after(error.headers.get("Retry-After"))
        if wait > MAX_RETRY_AFTER:
            raise FhirError("rate_limited", f"Retry-After {wait:.0f} s")
        return _Retry("rate_limited", wait)
    if error.code >= 500:
        return FhirError("server_error", f"HTTP {error.code}")
    raise FhirError("refused", f"HTTP {error.code}")


def _retry_after(value: str | None) -> float:
    """Retry-After in seconds (a number, or an HTTP date); 1 when missing or unreadable."""
    if not value:
        return 1.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    return max((moment - datetime.now(timezone.utc)).total_seconds(), 0.0)


def read_bundle(bundle: dict, base_url: str, identifier_system: str = "") -> tuple[list[tuple[str, PatientRecord]], str | None]:
    """The patients of a searchset Bundle (with their lastUpdated) and its `next` link; `bad_page` for
    what is not a Bundle of Patients."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError("bad_page", "not a Bundle")
    items = []
    for entry in bundle.get("entry") or []:
        resource = (entry or {}).get("resource") or {}
        if resource.get("resourceType") != "Patient" or (entry.get("search") or {}).get("mode") == "include":
            continue
        updated = (resource.get("meta") or {}).get("lastUpdated")
        if not resource.get("id") or not updated:
            raise FhirError("bad_page", "a Patient without id or meta.lastUpdated")
        try:
            instant_of(updated)
        except ValueError:
            raise FhirError("bad_page", "unreadable meta.lastUpdated") from None
        items.append((updated, patient_record(resource, identifier_system)))
    next_url = next((link.get("url") for link in bundle.get("link") or []
                     if isinstance(link, dict) and link.get("relation") == "next"), None)
    if next_url:
        next_url = urljoin(base_url.rstrip("/") + "/", next_url)
        if urlparse(next_url).netloc != urlparse(base_url).netloc:
            raise FhirError("bad_page", "a next link to another server")
    return items, next_url


def patient_record(resource: dict, identifier_system: str = "") -> PatientRecord:
    """A FHIR Patient as our record: the official (else the first usual, else the first) name, its
    phones and first email, the birth date when complete; the id, or the identifier of the chosen system."""
    external_id = str(resource["id"])
    if identifier_system:
        for identifier in resource.get("identifier") or []:
            if identifier.get("system") == identifier_system and identifier.get("value"):
                external_id = str(identifier["value"])
                break
    names = resource.get("name") or []
    name = next((n for use in ("official", "usual") for n in names if n.get("use") == use),
                names[0] if names else {})
    telecom = [t for t in resource.get("telecom") or [] if isinstance(t, dict) and t.get("value")]
    phones = tuple(dict.fromkeys(t["value"] for t in telecom if t.get("system") in ("phone", "sms")))
    email = next((t["value"] for t in telecom if t.get("system") == "email"), None)
    birth = resource.get("birthDate") or ""
    try:
        birth_date = date.fromisoformat(birth) if len(birth) == 10 else None
    except ValueError:
        birth_date = None
    return PatientRecord(external_id=external_id[:64], first_name=" ".join(name.get("given") or [])[:100],
                         last_name=str(name.get("family") or "")[:100], phones=phones, email=email,
                         birth_date=birth_date)


def pages(config: dict, token: str | None, cursor: Cursor, sleep=None, opener=None):
    """Yield each page's new records with the cursor after them (see the module's docstring)."""
    start, url, fetched = cursor, first_url(config, cursor), {}
    system = config.get("identifier_system") or ""
    applied: set[tuple[str, datetime]] = set()    # this run's (id, version): a page served twice adds none
    for _ in range(MAX_PAGES):
        fetched[url] = fetched.get(url, 0) + 1
        items, next_url = read_bundle(fetch_json(url, token, sleep, opener), config["base_url"], system)
        records, seen = [], set()
        cursor = Cursor(cursor.last_updated, list(cursor.ids))
        for updated, record in items:
            ident, instant = record.external_id, instant_of(updated)
            if start.holds(instant, ident) or (ident, instant) in applied or ident in seen:
                continue
            seen.add(ident)
            applied.add((ident, instant))
            records.append(record)
            cursor.advance(updated, ident)
        yield Page(records, cursor, url)
        if not next_url or fetched.get(next_url, 0) >= 2:   # a server looping on one page: stop there
            return
        url = next_url


@hookimpl
def source_types():
    return [FHIR]


@hookimpl
def fetch_patients(source, cursor):
    """Pages of (records, cursor after them), read lazily: nothing is fetched until the core asks."""
    if source.type != SOURCE_TYPE:
        return None
    config = FHIR.validate(dict(source.config or {}))
    return ((page.records, page.cursor.dump())
            for page in pages(config, (source.config or {}).get("token") or None, Cursor.load(cursor)))
