"""The benchmark-driven fast paths keep in step with what they copy (issue 15): the intake's hand-written
INSERT with the model, the board card's badges with the macros every other page uses."""
import re

import pytest

from webapp.models import InboundRequest, Prospect, database
from webapp.services.intake_store import _COLUMNS, Pending, store
from webapp.services.prospects import ContactInput, record_contact
from webapp.timeutil import utcnow


def test_the_intake_insert_names_every_column_a_request_needs(app):
    written = {name.strip() for name in _COLUMNS.split(",")}
    columns = {field.column_name: field for field in InboundRequest._meta.sorted_fields}
    assert written <= set(columns), written - set(columns)
    required = {name for name, field in columns.items()
                if not field.null and field.default is None and not field.primary_key}
    assert required <= written, f"the model requires {required - written}: add them to intake_store._COLUMNS"


def test_a_request_stored_by_the_fast_path_reads_back_as_the_model_wrote_it(ctx):
    from webapp.services.sources import create_source
    source = create_source("site", "webform", "Site")
    now = utcnow().replace(microsecond=0)
    item = store(Pending(source_id=source.id, received_at=now, remote_addr="127.0.0.1",
                         headers={"User-Agent": "Firefox"}, content_type="application/json",
                         body=b'{"tel": "77"}', idempotency_key="k-1", fingerprint="f" * 64, state="received",
                         error=None), None)
    request = InboundRequest.get_by_id(item.stored_id)
    assert (request.source_id, request.received_at, request.headers, bytes(request.body), request.state,
            request.triage, request.attempts, request.idempotency_key) == \
        (source.id, now, {"User-Agent": "Firefox"}, b'{"tel": "77"}', "received", False, 0, "k-1")


def _squash(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


@pytest.mark.parametrize("temperature, activity", [("hot", "normal"), ("warm", "dormant"), ("cold", "lost")])
def test_the_board_card_badges_are_the_macros_badges(app, as_role, temperature, activity):
    client = as_role("lead")
    with app.test_request_context(), database.connection_context():
        prospect = record_contact(ContactInput(last_name="Sow", phone="77 123 45 67", temperature=temperature),
                                  None).prospect
        Prospect.update(activity_status=activity).where(Prospect.id == prospect.id).execute()
        macros = app.jinja_env.get_template("macros.html").make_module({"labels": app.jinja_env.globals["labels"]})
        expected = [_squash(str(macros.temperature(temperature)))]
        if activity != "normal":
            expected.append(_squash(str(macros.activity(activity))))
    board = _squash(client.get("/board").get_data(as_text=True))
    for badge in expected:
        assert badge in board, f"the board card's copy of the badge differs from macros.html: {badge}"
