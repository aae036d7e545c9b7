"""A resent staff form records once (issue 12): the same key twice applies once, whatever the timing."""
import re
import threading

from webapp.models import Interaction, Prospect, database
from webapp.services.prospects import ContactInput, record_contact
from webapp.services.submissions import run_once

FORM = {"last_name": "Diagne", "first_name": "Awa", "phone": "77 321 54 76", "qualification": "quote",
        "temperature": "warm", "channel": "phone", "note": "Tarifs", "submission": "key-of-this-form-0001"}


def key_in(page: str) -> str:
    return re.search(r'name="submission" type="hidden" value="([^"]+)"', page).group(1)


def test_the_new_contact_form_carries_a_fresh_key_each_time(as_role):
    client = as_role("secretary")
    first = key_in(client.get("/prospects/new").get_data(as_text=True))
    second = key_in(client.get("/prospects/new").get_data(as_text=True))
    assert first != second and len(first) >= 16


def test_the_same_new_contact_form_sent_twice_records_once_and_says_so(as_role, db):
    client = as_role("secretary")
    assert client.post("/prospects/new", data=FORM).status_code == 201
    again = client.post("/prospects/new", data=FORM)
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and "Déjà enregistré" in page and "Ouvrir Awa Diagne" in page
    assert db(lambda: Prospect.select().count()) == 1
    assert db(lambda: Interaction.select().count()) == 1


def test_a_new_form_for_the_same_caller_is_a_new_call(as_role, db):
    client = as_role("secretary")
    client.post("/prospects/new", data=FORM)
    client.post("/prospects/new", data={**FORM, "submission": "key-of-another-form-02"})
    assert db(lambda: Prospect.select().count()) == 1
    assert db(lambda: Interaction.select().count()) == 2  # a second call from a known person


def test_the_same_interaction_sent_twice_is_one_entry(app, as_role, db):
    client = as_role("secretary")
    with app.test_request_context(), database.connection_context():
        prospect = record_contact(ContactInput(last_name="Faye", phone="78 222 33 44"), None).prospect
    form = {"channel": "phone", "direction": "out", "note": "Pas de réponse", "submission": "k" * 22}
    first = client.post(f"/prospects/{prospect.id}/interactions", data=form)
    second = client.post(f"/prospects/{prospect.id}/interactions", data=form)
    assert first.status_code == second.status_code == 200
    assert second.get_data(as_text=True).count("Pas de réponse") == 1
    assert db(lambda: Interaction.select().where(Interaction.note == "Pas de réponse").count()) == 1


def test_an_interaction_with_neither_a_note_nor_an_action_is_refused(app, as_role, db):
    client = as_role("secretary")
    with app.test_request_context(), database.connection_context():
        prospect = record_contact(ContactInput(last_name="Faye", phone="78 222 33 44"), None).prospect
    response = client.post(f"/prospects/{prospect.id}/interactions",
                           data={"channel": "phone", "direction": "out", "note": "  "})
    assert response.status_code == 400
    assert "Écrivez une note ou choisissez l'action." in response.get_data(as_text=True)
    assert db(lambda: Interaction.select().count()) == 1


def test_two_requests_with_one_key_at_the_same_moment_apply_once(any_app):
    """Two threads, two connections: the key's unique index decides, on SQLite and PostgreSQL."""
    applied, results = [], []
    barrier = threading.Barrier(2)

    def submit():
        with any_app.app_context(), database.connection_context():
            barrier.wait()
            results.append(run_once("same-key-for-both-000", None, lambda: applied.append(1) or "done",
                                    lambda value: value))
    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(applied) == 1
    assert sorted(results, key=lambda r: r[0] is None) == [("done", None), (None, "done")]
