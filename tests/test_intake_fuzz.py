"""Property test of `POST /intake/<slug>` through Flask's test client: whatever arrives (bodies, content
types, charsets, boundaries, headers), the answer is never a 5xx, and what is answered as stored is
stored, byte for byte."""
import io
import json
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_app
from webapp.models import InboundRequest, Source, database
from webapp.rules.signatures import sign
from webapp.services import intake as service
from webapp.services.sources import create_source

MAX_BYTES = 8192
SECRET = "fuzz-secret"

texts = st.text(max_size=40)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                           max_leaves=12)
form_fields = st.dictionaries(st.sampled_from(["name", "nom", "phone", "telephone", "email", "message",
                                               "request", "website", "x"]) | texts,
                              st.sampled_from(["77 123 45 67", "+221771234567", "a@b.sn", ""]) | texts,
                              max_size=8)


def _multipart(fields: dict, boundary: str) -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode("utf-8", "surrogatepass")


bodies = st.one_of(
    st.binary(max_size=600),
    texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    form_fields.map(lambda f: json.dumps(f).encode()),
    form_fields.map(lambda f: urlencode(f).encode("utf-8", "surrogatepass")),
    st.tuples(form_fields, st.sampled_from(["b0undary", "----x", "é"])).map(lambda a: _multipart(*a)),
    st.integers(MAX_BYTES - 3, MAX_BYTES + 3).map(lambda n: b"phone=771234567&m=" + b"x" * (n - 18)),
)
content_types = st.one_of(
    st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data; boundary=b0undary",
                     "multipart/form-data; boundary=----x", "multipart/form-data", "application/json",
                     "application/json; charset=utf-8", "application/json; charset=latin-1",
                     "application/x-www-form-urlencoded; charset=iso-8859-1", "application/json; charset=nope",
                     "application/vnd.api+json", "text/plain", "application/octet-stream", ""]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)
accepts = st.sampled_from([None, "application/json", "text/html", "*/*",
                           "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "application/json;q=0.1, text/*"])
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'relance.db'}", INTAKE_MAX_BYTES=MAX_BYTES)
    with app.app_context(), database.connection_context():
        create_source("fuzz", "webform", "Fuzz", {"mode": "triage", "rate_limit": ""})
        create_source("signed", "webform", "Signed", {"mode": "triage", "rate_limit": "",
                                                      "allowed_origins": ["https://clinique.sn"]}, SECRET)
    return app


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(slug=st.sampled_from(["fuzz", "fuzz", "signed", "inconnu"]), body=bodies, content_type=content_types,
       accept=accepts, key=st.none() | st.sampled_from(["k1", "k2", " ", "x" * 300]) | header_text,
       origin=st.none() | st.sampled_from(["https://clinique.sn", "https://evil.example", "null"]),
       signature=st.sampled_from([None, "valid", "garbage", "t=1,v1=00"]))
def test_never_a_5xx_and_what_is_answered_stored_is_stored(fuzz_app, slug, body, content_type, accept, key,
                                                          origin, signature):
    headers = {}
    if accept is not None:
        headers["Accept"] = accept
    if key is not None:
        headers["Idempotency-Key"] = key
    if origin is not None:
        headers["Origin"] = origin
    if signature == "valid":
        headers["X-Relance-Signature"] = sign(SECRET, body, int(time.time()))
    elif signature:
        headers["X-Relance-Signature"] = signature
    with fuzz_app.app_context(), database.connection_context():
        before = InboundRequest.select().count()

    # The raw bytes as the stream (`data=b""` would make the test client build a form body of its own).
    response = fuzz_app.test_client().post(f"/intake/{slug}", input_stream=io.BytesIO(body),
                                           content_length=len(body), content_type=content_type, headers=headers)

    assert response.status_code < 500, response.data[:300]
    answer = response.get_json(silent=True) or {}
    with fuzz_app.app_context(), database.connection_context():
        after = InboundRequest.select().count()
        assert after - before in (0, 1)
        if after - before == 1:                              # a new request: the bytes as sent
            newest = InboundRequest.select().order_by(InboundRequest.id.desc()).first()
            assert bytes(newest.body) == body
            assert newest.content_type == content_type[:200]
            if "id" in answer:
                assert answer["id"] == newest.id
        elif "id" in answer:                                 # named but not new: the request stored earlier
            assert InboundRequest.get_or_none(id=answer["id"]) is not None
            if response.status_code < 300:
                assert answer["duplicate"] is True
        if 200 <= response.status_code < 400:               # accepted (202, or 303 for a browser)
            assert slug != "inconnu"
            if after == before:                              # only a repeated key is answered without a new row
                source = Source.get(Source.slug == slug)
                assert (key or "").strip() and InboundRequest.select().where(
                    (InboundRequest.source == source)
                    & (InboundRequest.idempotency_key == service._key(key))).exists()
        if response.status_code in (404, 413, 429):          # refused before reading: nothing stored
            assert after == before
