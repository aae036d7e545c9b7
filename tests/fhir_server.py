"""A small FHIR R4 server on loopback for the patient-pull tests (no real one installs here: NOTES.md).

`/metadata` (CapabilityStatement) and `/Patient` search with `_lastUpdated` (gt, ge, lt, le), `_count`,
`_sort=_lastUpdated` and paging by `next` links (`_offset`). Every resource it serves is validated with
`fhir.resources.R4B` first, so the client is tested against conformant JSON. Faults are queued and
served one per `/Patient` request: a 500, a 429 with Retry-After, a truncated page, a page served
twice (its `next` link points back at itself once).
"""
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.patient import Patient

FHIR_JSON = "application/fhir+json"


def patient(ident: str, family: str, given: str, updated: str, phone: str | None = None,
            email: str | None = None, birth: str | None = None, mrn: str | None = None) -> dict:
    """A Patient resource as a clinic's server holds it."""
    resource = {"resourceType": "Patient", "id": ident, "meta": {"lastUpdated": updated},
                "name": [{"use": "official", "family": family, "given": given.split()}]}
    telecom = []
    if phone:
        telecom.append({"system": "phone", "value": phone, "use": "mobile"})
    if email:
        telecom.append({"system": "email", "value": email})
    if telecom:
        resource["telecom"] = telecom
    if birth:
        resource["birthDate"] = birth
    if mrn:
        resource["identifier"] = [{"system": "urn:clinic:mrn", "value": mrn}]
    return resource


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class FhirServer:
    """Start with `FhirServer().start()`; `patients` is the list it searches; `faults` the queue."""

    def __init__(self):
        self.patients: list[dict] = []
        self.faults: list[tuple] = []      # ("500",), ("429", seconds), ("truncated",), ("twice",)
        self.requests: list[str] = []
        self.token: str | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/fhir"

    def start(self) -> "FhirServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, *resources: dict) -> None:
        for resource in resources:
            Patient.model_validate(resource)
            self.patients = [p for p in self.patients if p["id"] != resource["id"]] + [resource]

    # -- the search ---------------------------------------------------------------------------------

    def search(self, query: dict) -> list[dict]:
        found = list(self.patients)
        for value in query.get("_lastUpdated", []):
            prefix, moment = (value[:2], value[2:]) if value[:2] in ("gt", "ge", "lt", "le", "eq") else ("eq", value)
            limit = _instant(moment)
            test = {"gt": lambda t: t > limit, "ge": lambda t: t >= limit, "lt": lambda t: t < limit,
                    "le": lambda t: t <= limit, "eq": lambda t: t == limit}[prefix]
            found = [p for p in found if test(_instant(p["meta"]["lastUpdated"]))]
        if query.get("_sort", [""])[0] in ("_lastUpdated", "-_lastUpdated"):
            found.sort(key=lambda p: (_instant(p["meta"]["lastUpdated"]), p["id"]),
                       reverse=query["_sort"][0].startswith("-"))
        return found

    def bundle(self, query: dict, fault: tuple | None) -> dict:
        count = int(query.get("_count", ["10"])[0])
        offset = int(query.get("_offset", ["0"])[0])
        found = self.search(query)
        page = found[offset:offset + count]
        base = {k: v[0] for k, v in query.items() if k != "_offset"}
        links = [{"relation": "self", "url": f"{self.base_url}/Patient?{urlencode({**base, '_offset': offset})}"}]
        if offset + count < len(found) or (fault and fault[0] == "twice"):
            following = offset if fault and fault[0] == "twice" else offset + count
            links.append({"relation": "next",
                          "url": f"{self.base_url}/Patient?{urlencode({**base, '_offset': following})}"})
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(found), "link": links,
                  "entry": [{"fullUrl": f"{self.base_url}/Patient/{p['id']}", "resource": p,
                             "search": {"mode": "match"}} for p in page]}
        Bundle.model_validate(bundle)
        return bundle

    def capability(self) -> dict:
        statement = {
            "resourceType": "CapabilityStatement", "status": "active", "date": "2026-12-01",
            "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"],
            "rest": [{"mode": "server", "resource": [{
                "type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": [{"name": "_lastUpdated", "type": "date"}]}]}],
        }
        CapabilityStatement.model_validate(statement)
        return statement

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", FHIR_JSON)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urlparse(self.path)
                server.requests.append(self.path)
                if server.token and self.headers.get("Authorization") != f"Bearer {server.token}":
                    return self._send(401, b'{"resourceType": "OperationOutcome"}')
                if url.path == "/fhir/metadata":
                    return self._send(200, json.dumps(server.capability()).encode())
                if url.path != "/fhir/Patient":
                    return self._send(404, b'{"resourceType": "OperationOutcome"}')
                fault = server.faults.pop(0) if server.faults else None
                if fault and fault[0] == "500":
                    return self._send(500, b'{"resourceType": "OperationOutcome"}')
                if fault and fault[0] == "429":
                    return self._send(429, b"{}", {"Retry-After": str(fault[1])})
                body = json.dumps(server.bundle(parse_qs(url.query), fault)).encode()
                if fault and fault[0] == "truncated":
                    body = body[: len(body) // 2]
                return self._send(200, body)

        return Handler
