"""The mailbox (issue 16, §2): an IMAP folder polled into the store-first table, each mail once.

A real IMAP server (dovecot, tests/servers.py) on loopback, one mailbox user per test; mails written for
these tests, in French, as a clinic receives them, delivered with IMAP APPEND. The assertions are on
what is stored (requests, cursors, Message-IDs, counts), not on how the mail reader reads a mail.
"""
import itertools
import logging
import threading
import zlib

import pytest

from integrations.contract import PluginError
from integrations.imap import IMAP
from webapp.rules.web import is_loopback
from webapp.models import InboundRequest, Interaction, Prospect, Source, SourceCursor, database
from webapp.secrets import PREFIX, SecretsUnavailable, seal, unseal
from webapp.services import intake, mailbox
from webapp.services.sources import SourceError, create_source, update_source

_users = itertools.count(1)
PASSWORD = "Mot2passe-Accueil!"


def french_mail(n: int, *, sender="Awa Ndiaye <awa.ndiaye@example.sn>", subject=None, body=None,
                message_id=None, extra_headers="") -> bytes:
    subject = subject or f"Demande de rendez-vous n°{n}"
    body = body or (f"Bonjour,\n\nJe souhaiterais prendre rendez-vous pour un suivi de grossesse.\n"
                    f"Vous pouvez me joindre au 77 123 45 {n % 100:02d}.\n\nMerci d'avance,\nAwa")
    message_id = message_id or f"<demande-{n}.{zlib.crc32((sender + subject + body).encode())}@mail.example.sn>"
    return (f"From: {sender}\n"
            f"To: Clinique NEST <contact@nest.example.sn>\n"
            f"Subject: {subject}\n"
            f"Date: Fri, 04 Dec 2026 10:{n % 60:02d}:00 +0000\n"
            f"Message-ID: {message_id}\n"
            f"{extra_headers}"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n"
            f"\n{body}\n").encode()


def crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.fixture
def mailbox_user(dovecot):
    name = f"accueil{next(_users)}"
    dovecot.add_user(name, PASSWORD)
    return name


def imap_config(dovecot, user, folder="INBOX", **extra):
    return {"host": "127.0.0.1", "port": dovecot.port, "security": "plain", "user": user,
            "password": PASSWORD, "folder": folder, **extra}


@pytest.fixture
def source(ctx, dovecot, mailbox_user):
    return create_source("boite-accueil", "imap", "Boîte de l'accueil", imap_config(dovecot, mailbox_user))


def poll(source):
    return mailbox.poll_source(Source.get_by_id(source.id), dispatch=None)


def stored():
    return list(InboundRequest.select().order_by(InboundRequest.id))


# --- settings and secrets --------------------------------------------------------------------------

def test_the_password_is_sealed_in_the_write_only_column_never_in_the_config(source):
    row = Source.get_by_id(source.id)
    assert row.secret.startswith(PREFIX) and PASSWORD not in row.secret
    assert "password" not in row.config and PASSWORD not in str(row.config)
    assert unseal(row.secret) == PASSWORD
    assert row.config["folder"] == "INBOX" and row.config["interval_minutes"] == 5
    assert row.config["mode"] == "triage"


def test_the_defaults_are_tls_on_993():
    cleaned = IMAP.validate({"host": "imap.example.sn", "user": "contact@nest.sn", "password": "x"})
    assert (cleaned["security"], cleaned["port"], cleaned["folder"]) == ("tls", 993, "INBOX")


@pytest.mark.parametrize("host", ["mail.example.sn", "192.168.1.10", "10.0.0.1", "127.0.0.1.nip.io"])
def test_plain_is_refused_to_any_host_but_this_machine(ctx, host):
    with pytest.raises(PluginError) as refusal:
        IMAP.validate({"host": host, "user": "u", "password": "p", "security": "plain", "port": 143})
    assert (refusal.value.code, refusal.value.field) == ("plain_needs_loopback", "security")
    with pytest.raises(SourceError) as refused:
        create_source("boite", "imap", config={"host": host, "user": "u", "password": "p", "security": "plain"})
    assert refused.value.code == "plain_needs_loopback"
    assert not Source.select().exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_plain_is_allowed_on_loopback(host):
    assert is_loopback(host)
    assert IMAP.validate({"host": host, "user": "u", "password": "p", "security": "plain",
                          "port": 143})["security"] == "plain"


def test_a_control_character_in_a_setting_is_refused(ctx):
    with pytest.raises(SourceError) as refused:
        create_source("boite", "imap", config={"host": "imap.example.sn", "user": "u\r\nA1 LOGOUT",
                                                "password": "p"})
    assert (refused.value.code, refused.value.field) == ("setting_invalid", "user")


def test_no_key_no_password_stored_with_a_clear_error(ctx):
    ctx.config.update(TESTING=False, SECRETS_KEY="")
    try:
        with pytest.raises(SecretsUnavailable):
            seal("x")
        with pytest.raises(SourceError) as refused:
            create_source("boite", "imap", config={"host": "imap.example.sn", "user": "u", "password": "p"})
        assert refused.value.code == "no_secrets_key"
        assert not Source.select().exists()
    finally:
        ctx.config["TESTING"] = True


def test_keys_rotate_the_first_encrypts_every_one_decrypts(ctx):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ctx.config["SECRETS_KEY"] = old
    sealed = seal("ancien")
    ctx.config["SECRETS_KEY"] = f"{new},{old}"
    assert unseal(sealed) == "ancien"
    ctx.config["SECRETS_KEY"] = new
    with pytest.raises(SecretsUnavailable) as unreadable:
        unseal(sealed)
    assert unreadable.value.code == "secret_unreadable"
    ctx.config["SECRETS_KEY"] = "a passphrase of thirty-two characters or more"
    assert unseal(seal("phrase")) == "phrase"
    ctx.config["SECRETS_KEY"] = "too short"
    with pytest.raises(SecretsUnavailable):
        seal("x")


def test_an_empty_password_on_update_keeps_the_stored_one(source, dovecot, mailbox_user):
    before = Source.get_by_id(source.id).secret
    update_source(Source.get_by_id(source.id), config=imap_config(dovecot, mailbox_user, password=""))
    assert Source.get_by_id(source.id).secret == before
    update_source(Source.get_by_id(source.id), config=imap_config(dovecot, mailbox_user, password="nouveau"))
    assert unseal(Source.get_by_id(source.id).secret) == "nouveau"


# --- polling ---------------------------------------------------------------------------------------

def test_french_mails_appended_to_the_mailbox_become_stored_requests(source, dovecot, mailbox_user):
    mails = [french_mail(n) for n in range(3)]
    mails.append(french_mail(3, sender="=?utf-8?q?Fatou_Diagne_S=C3=A8ne?= <fatou@example.sn>",
                             subject="=?utf-8?q?Tarifs_de_l=27accouchement?=",
                             body="Bonjour, quels sont vos tarifs pour un accouchement ? Fatou Sène"))
    for raw in mails:
        dovecot.append(mailbox_user, raw)

    result = poll(source)

    assert result.error is None and result.fetched == 4 and len(result.stored) == 4
    rows = stored()
    assert [bytes(r.body) for r in rows] == [crlf(m) for m in mails]      # the exact bytes, as delivered
    assert {r.content_type for r in rows} == {"message/rfc822"} and {r.state for r in rows} == {"received"}
    assert all(r.message_id.startswith(f"<demande-{n}.") for n, r in enumerate(rows))
    assert all(len(r.fingerprint) == 64 for r in rows)
    cursor = SourceCursor.get((SourceCursor.source == source.id) & (SourceCursor.key == f"INBOX:{result.uidvalidity}"))
    assert cursor.value == "4"
    # processed as any request: into the lead's triage, read as mail
    assert [intake.process(r.id) for r in rows] == ["processed"] * 4
    first = InboundRequest.get_by_id(rows[0].id)
    assert first.triage and first.parsed["channel"] == "email"
    assert first.parsed["email"] == "awa.ndiaye@example.sn"
    assert mailbox.status_of(source)["error"] is None


def test_polling_twice_stores_nothing_twice(source, dovecot, mailbox_user):
    dovecot.append(mailbox_user, french_mail(1))
    assert len(poll(source).stored) == 1
    again = poll(source)
    assert again.error is None and again.stored == [] and again.fetched == 0
    dovecot.append(mailbox_user, french_mail(2))
    third = poll(source)
    assert len(third.stored) == 1 and third.fetched == 1
    assert len(stored()) == 2


def test_the_same_mail_appended_twice_gives_one_request(source, dovecot, mailbox_user):
    raw = french_mail(7)
    dovecot.append(mailbox_user, raw)
    dovecot.append(mailbox_user, raw)                      # moved out and back: a new UID, same bytes
    # the same Message-ID with other bytes (another route added a header)
    dovecot.append(mailbox_user, b"Received: from relais.example.sn\n" + raw)
    result = poll(source)
    assert result.fetched == 3 and len(result.stored) == 1 and result.duplicates == 2
    assert len(stored()) == 1


def test_a_mail_without_message_id_is_recognised_by_its_bytes(source, dovecot, mailbox_user):
    raw = b"From: awa@example.sn\nSubject: Bonjour\n\nUn RDV svp\n"
    dovecot.append(mailbox_user, raw)
    dovecot.append(mailbox_user, raw)
    dovecot.append(mailbox_user, raw.replace(b"Un RDV", b"Deux RDV"))
    result = poll(source)
    assert (result.fetched, len(result.stored)) == (3, 2)
    assert {r.message_id for r in stored()} == {None}


def test_a_new_uidvalidity_reads_again_without_duplicates_or_gaps(ctx, dovecot, mailbox_user):
    folder = "Demandes reçues"
    source = create_source("demandes", "imap", config=imap_config(dovecot, mailbox_user, folder=folder))
    first = [french_mail(n) for n in (1, 2)]
    for raw in first:
        dovecot.append(mailbox_user, raw, folder=folder)
    before = poll(source)
    assert len(before.stored) == 2

    client = dovecot.client(mailbox_user)
    encoded = '"Demandes re&AOc-ues"'
    assert client.delete(encoded)[0] == "OK" and client.create(encoded)[0] == "OK"
    client.logout()
    for raw in [*first, french_mail(3), french_mail(4)]:       # UIDs restart at 1 in the new folder
        dovecot.append(mailbox_user, raw, folder=folder)

    after = poll(source)
    assert after.error is None and after.uidvalidity != before.uidvalidity
    assert after.fetched == 4 and len(after.stored) == 2 and after.duplicates == 2
    assert len(stored()) == 4
    keys = {c.key: c.value for c in SourceCursor.select().where(SourceCursor.source == source.id)
            if not c.key.startswith("@")}
    assert keys == {f"{folder}:{before.uidvalidity}": "2", f"{folder}:{after.uidvalidity}": "4"}


def test_polling_never_changes_a_flag_and_never_deletes(source, dovecot, mailbox_user):
    dovecot.append(mailbox_user, french_mail(1), flags="(\\Seen)")
    dovecot.append(mailbox_user, french_mail(2))
    dovecot.append(mailbox_user, french_mail(3), flags="(\\Flagged)")

    def flags():
        client = dovecot.client(mailbox_user)
        client.select('"INBOX"', readonly=True)
        _, data = client.uid("FETCH", "1:*", "(UID FLAGS)")
        client.logout()
        return [line.decode() for line in data]

    before = flags()
    assert len(poll(source).stored) == 3
    assert flags() == before
    assert "\\Seen" not in before[1]


def test_two_pollers_at_once_store_each_mail_once(app, dovecot, mailbox_user):
    with app.app_context(), database.connection_context():
        source = create_source("boite", "imap", config=imap_config(dovecot, mailbox_user))
    dovecot.append_many(mailbox_user, [french_mail(n) for n in range(40)])
    results, errors = [], []

    def run():
        try:
            with app.app_context(), database.connection_context():
                results.append(mailbox.poll_source(Source.get_by_id(source.id), dispatch=None))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and all(r.error is None for r in results)
    assert sum(len(r.stored) for r in results) == 40
    with app.app_context(), database.connection_context():
        assert InboundRequest.select().count() == 40


def test_requests_of_a_mailbox_in_auto_mode_become_prospects_with_an_email_interaction(ctx, dovecot, mailbox_user, make_user):
    make_user("secretary")
    source = create_source("auto", "imap", config=imap_config(dovecot, mailbox_user, mode="auto"))
    dovecot.append(mailbox_user, french_mail(5))
    [request_id] = poll(source).stored
    assert intake.process(request_id) == "processed"
    prospect = Prospect.get_by_id(InboundRequest.get_by_id(request_id).prospect_id)
    assert prospect.channel == "email" and prospect.email == "awa.ndiaye@example.sn"
    assert [i.channel for i in Interaction.select().where(Interaction.prospect == prospect)] == ["email"]


# --- failures --------------------------------------------------------------------------------------

def test_a_wrong_password_is_reported_and_never_logged(ctx, dovecot, mailbox_user, caplog):
    secret = "Mauvais-Secret-123"
    source = create_source("boite", "imap", config=imap_config(dovecot, mailbox_user, password=secret))
    with caplog.at_level(logging.DEBUG):
        result = poll(source)
    assert result.error == "auth_failed"
    assert mailbox.status_of(source)["error"] == "auth_failed"
    assert secret not in caplog.text and secret not in result.detail
    assert "boite" in caplog.text


@pytest.mark.slow
def test_an_unreachable_server_and_a_tls_mismatch_are_reported(ctx, dovecot, mailbox_user):
    from tests.servers import free_port

    closed = create_source("fermee", "imap", config=imap_config(dovecot, mailbox_user, port=free_port()))
    assert poll(closed).error == "unreachable"
    tls = create_source("tls", "imap", config=imap_config(dovecot, mailbox_user, security="tls"))
    assert poll(tls).error == "tls_error"         # TLS spoken to a server that answers in clear
    missing = create_source("dossier", "imap", config=imap_config(dovecot, mailbox_user, folder="Inexistant"))
    assert poll(missing).error == "folder_missing"
    assert not InboundRequest.select().exists()


def test_the_periodic_poll_waits_for_each_sources_interval(ctx, dovecot, mailbox_user):
    from datetime import timedelta

    from webapp.timeutil import utcnow

    source = create_source("boite", "imap", config=imap_config(dovecot, mailbox_user, interval_minutes=10))
    dovecot.append(mailbox_user, french_mail(1))
    now = utcnow()
    assert [len(r.stored) for r in mailbox.poll_due(now, dispatch=None)] == [1]
    dovecot.append(mailbox_user, french_mail(2))
    assert mailbox.poll_due(now + timedelta(minutes=9), dispatch=None) == []
    assert [len(r.stored) for r in mailbox.poll_due(now + timedelta(minutes=10), dispatch=None)] == [1]
    update_source(Source.get_by_id(source.id), active=False)
    assert mailbox.poll_due(now + timedelta(minutes=30), dispatch=None) == []


# --- the settings page and the command line --------------------------------------------------------

@pytest.fixture
def admin(as_role):
    client = as_role("admin")
    client.post("/language", data={"locale": "en"})
    return client


def test_the_settings_page_edits_a_mailbox_and_never_shows_its_password(app, admin, db, dovecot, mailbox_user):
    answer = admin.post("/admin/sources", data={
        "slug": "boite", "type": "imap", "name": "Boîte de l'accueil", "imap__host": "127.0.0.1",
        "imap__port": str(dovecot.port), "imap__security": "plain", "imap__user": mailbox_user,
        "imap__password": PASSWORD, "imap__folder": "INBOX", "imap__interval_minutes": "5", "mode": "triage",
        "owner": "none"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    source = db(lambda: Source.get(Source.slug == "boite"))
    assert source.config["user"] == mailbox_user and source.secret.startswith(PREFIX)
    page = admin.get(f"/admin/sources/{source.id}").get_data(as_text=True)
    assert "Password saved — leave empty to keep it." in page and "Not checked yet." in page
    assert PASSWORD not in page and source.secret not in page and "fernet:" not in page
    assert mailbox_user in page and "Signing secret" not in page

    form = {"name": "Accueil", "setting_host": "127.0.0.1", "setting_port": str(dovecot.port),
            "setting_security": "plain", "setting_user": mailbox_user, "setting_password": "",
            "setting_folder": "INBOX", "setting_interval_minutes": "10", "mode": "triage", "owner": "none"}
    assert admin.post(f"/admin/sources/{source.id}", data=form).status_code == 302
    after = db(lambda: Source.get_by_id(source.id))
    assert after.secret == source.secret and after.config["interval_minutes"] == 10

    refused = admin.post(f"/admin/sources/{source.id}", data={**form, "setting_host": "mail.example.sn"})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Without encryption, the password would cross the network in clear" in text
    assert db(lambda: Source.get_by_id(source.id)).config["host"] == "127.0.0.1"

    db(lambda: mailbox.poll_source(Source.get_by_id(source.id), dispatch=None))
    assert "Last check:" in admin.get(f"/admin/sources/{source.id}").get_data(as_text=True)
    wrong = {**form, "setting_password": "Faux-Mot-De-Passe-9"}
    assert admin.post(f"/admin/sources/{source.id}", data=wrong).status_code == 302
    db(lambda: mailbox.poll_source(Source.get_by_id(source.id), dispatch=None))
    page = admin.get(f"/admin/sources/{source.id}").get_data(as_text=True)
    assert "error: the server refused the user name or the password" in page
    assert "Faux-Mot-De-Passe-9" not in page


def test_the_settings_page_refuses_a_password_without_an_encryption_key(app, admin, db):
    app.config.update(TESTING=False, SECRETS_KEY="")
    try:
        answer = admin.post("/admin/sources", data={
            "slug": "boite", "type": "imap", "imap__host": "imap.example.sn", "imap__user": "contact@nest.sn",
            "imap__password": "secret", "mode": "triage", "owner": "none"})
    finally:
        app.config["TESTING"] = True
    assert answer.status_code == 400
    assert "no encryption key is configured" in answer.get_data(as_text=True)
    assert "secret" not in answer.get_data(as_text=True).split("imap__password")[1][:120]
    assert db(lambda: Source.select().count()) == 0


@pytest.mark.slow
def test_the_command_line_adds_a_mailbox_and_polls_it(app, runner, db, dovecot, mailbox_user, caplog):
    added = runner.invoke(args=["add-source", "boite", "--type", "imap", "--host", "127.0.0.1",
                                "--port", str(dovecot.port), "--security", "plain", "--user", mailbox_user,
                                "--folder", "INBOX", "--password-stdin"], input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "added imap source boite" in added.output and PASSWORD not in added.output
    assert unseal_in(app, db(lambda: Source.get(Source.slug == "boite")).secret) == PASSWORD

    refused = runner.invoke(args=["add-source", "autre", "--type", "imap", "--host", "127.0.0.1",
                                  "--user", "u", "--password", PASSWORD])
    assert refused.exit_code != 0 and "--password-stdin" in refused.output

    dovecot.append(mailbox_user, french_mail(1))
    dovecot.append(mailbox_user, french_mail(2))
    with caplog.at_level(logging.DEBUG):
        polled = runner.invoke(args=["poll-inbox", "--source", "boite", "--process"])
    assert polled.exit_code == 0, polled.output
    assert "boite: 2 mail(s) read, 2 new request(s)" in polled.output and "processed: 2" in polled.output
    again = runner.invoke(args=["poll-inbox"])
    assert "boite: 0 mail(s) read, 0 new request(s)" in again.output
    assert PASSWORD not in caplog.text
    assert db(lambda: InboundRequest.select().where(InboundRequest.state == "processed").count()) == 2


def unseal_in(app, sealed):
    with app.app_context():
        return unseal(sealed)


@pytest.mark.postgres
def test_polling_on_each_database_stores_each_mail_once(any_ctx, dovecot, mailbox_user):
    source = create_source("boite", "imap", config=imap_config(dovecot, mailbox_user))
    raw = french_mail(1)
    dovecot.append(mailbox_user, raw)
    dovecot.append(mailbox_user, raw)
    dovecot.append(mailbox_user, french_mail(2))
    first = poll(source)
    assert (first.error, first.fetched, len(first.stored), first.duplicates) == (None, 3, 2, 1)
    assert poll(source).fetched == 0
    mailbox.advance(source, f"INBOX:{first.uidvalidity}", 1, first_seen := SourceCursor.get(
        SourceCursor.key == f"INBOX:{first.uidvalidity}").updated_at)
    assert mailbox.last_uid(source, f"INBOX:{first.uidvalidity}") == 3     # never moves back
    assert first_seen is not None
    assert [bytes(r.body) for r in stored()] == [crlf(raw), crlf(french_mail(2))]


def test_a_password_with_accents_logs_in(ctx, mailbox_user):
    from tests.servers import DovecotServer

    with DovecotServer(password="Sénégal-Dakar-2026") as accented:
        accented.add_user("accueil")
        accented.append("accueil", french_mail(1))
        source = create_source("accents", "imap", config={
            "host": "127.0.0.1", "port": accented.port, "security": "plain", "user": "accueil",
            "password": "Sénégal-Dakar-2026"})
        result = poll(source)
    assert (result.error, len(result.stored)) == (None, 1)


def test_the_command_line_refuses_a_password_without_an_encryption_key(app, runner, db):
    app.config.update(TESTING=False, SECRETS_KEY="")
    try:
        refused = runner.invoke(args=["add-source", "boite", "--type", "imap", "--host", "imap.example.sn",
                                      "--user", "contact@nest.sn", "--password-stdin"], input="secret\n")
    finally:
        app.config["TESTING"] = True
    assert refused.exit_code != 0
    assert "RELANCE_SECRETS_KEY" in refused.output and "no_secrets_key" in refused.output
    assert "secret\n" not in refused.output.replace("no_secrets_key", "")
    assert db(lambda: Source.select().count()) == 0


def test_check_now_hands_the_poll_to_the_worker(admin, db, dovecot, mailbox_user):
    from webapp.queue import huey

    source = db(lambda: create_source("boite", "imap", config=imap_config(dovecot, mailbox_user)))
    before = huey.pending_count()
    answer = admin.post(f"/admin/sources/{source.id}/poll")
    assert answer.status_code == 302
    assert huey.pending_count() == before + 1
    assert [task.name for task in huey.pending()][-1].endswith("poll_mailbox")
    huey.flush()
    webform = db(lambda: create_source("site", "webform"))
    assert admin.post(f"/admin/sources/{webform.id}/poll").status_code == 404
