"""mail_poll: poll-to-triage time for 1,000 mails in a real mailbox (issue 16, §6).

A real dovecot on loopback (tests/servers.py) holds `n` French mails (delivered with IMAP APPEND); a
temp SQLite database with the schema and an imap source in triage mode; a real Huey consumer as the
Procfile's worker runs it (2 thread workers). The clock starts, one poll runs (connect, EXAMINE,
`UID FETCH … BODY.PEEK[]` in batches, each batch stored with its cursor in one transaction, then handed
to the worker), and each request's time to triage is its `processed_at` less the poll's start:
p50 and p99 over the `n` requests.

The plain limit, measured in the same run on the same mailbox: a bare imaplib client that logs in,
EXAMINEs and FETCHes the same mails with `BODY.PEEK[]` in the same batches, storing nothing.

`poll_to_triage(n)` returns the figures (bench/mail.py reports them under `scripts/bench mail`);
`python -m bench mail_poll` runs it alone. `MailStack` is also the kill test's
(tests/test_mailbox_kill.py).
"""
from __future__ import annotations

import imaplib
import time
from datetime import datetime

from . import register
from .common import Report, Stats, format_table, ms, progress
from .intake_stack import IntakeStack, wait_for

DEFAULT_SIZE = 1000
PASSWORD = "Mot2passe-Accueil!"

_SENDERS = ("Awa Ndiaye", "Fatou Diagne Sène", "Mariama Bâ", "Aïssatou Diop", "Khady Fall", "Ndèye Sarr",
            "Coumba Gaye", "Yacine Thiam")
_SUBJECTS = ("Demande de rendez-vous", "Tarifs suivi de grossesse", "Informations sur le programme",
             "Question sur l'accouchement", "RDV pédiatre pour mon bébé", "Devis échographie")
_BODIES = (
    "Bonjour,\n\nJe souhaiterais prendre rendez-vous pour un suivi de grossesse (3e mois).\n"
    "Vous pouvez me joindre au {phone}.\n\nMerci d'avance,\n{first}",
    "Bonsoir,\n\nPourriez-vous m'envoyer vos tarifs pour le suivi prénatal et l'accouchement ?\n"
    "Je suis joignable au {phone} après 17 h.\n\nCordialement,\n{name}\n\nEnvoyé de mon iPhone",
    "Bonjour Madame, Monsieur,\n\nJ'aimerais avoir des informations sur votre programme de "
    "fertilité.\nMon numéro : {phone}\n\nBien à vous,\n{name}",
)


def french_mail(n: int, domain: str = "example.sn") -> bytes:
    """Mail n, as a clinic receives it: a distinct sender, a French subject and text, a phone number."""
    name = _SENDERS[n % len(_SENDERS)]
    first = name.split()[0]
    phone = f"77 {n // 10000 % 1000:03d} {n // 100 % 100:02d} {n % 100:02d}"
    body = _BODIES[n % len(_BODIES)].format(phone=phone, first=first, name=name)
    from email.header import Header

    sender = Header(name, "utf-8").encode()
    subject = Header(f"{_SUBJECTS[n % len(_SUBJECTS)]} ({n})", "utf-8").encode()
    return (f"Return-Path: <patiente{n}@{domain}>\n"
            f"From: {sender} <patiente{n}@{domain}>\n"
            f"To: Clinique NEST <contact@nest.example.sn>\n"
            f"Subject: {subject}\n"
            f"Date: Fri, 04 Dec 2026 {8 + n // 3600 % 10:02d}:{n // 60 % 60:02d}:{n % 60:02d} +0000\n"
            f"Message-ID: <{n}.{n * 7919 % 100003}@mail.{domain}>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n"
            f"\n{body}\n").encode()


class MailStack(IntakeStack):
    """An intake stack (database, queue, consumer) with a real IMAP server and the encryption key the
    web and worker processes read."""

    def __init__(self, dovecot=None, **kwargs):
        super().__init__(**kwargs)
        from cryptography.fernet import Fernet

        from tests.servers import DovecotServer

        self.own_dovecot = dovecot is None
        self.dovecot = dovecot or DovecotServer(password=PASSWORD)
        self.env["RELANCE_SECRETS_KEY"] = Fernet.generate_key().decode()

    def prepare(self) -> "MailStack":
        if self.own_dovecot:
            self.dovecot.start()
        super().prepare()
        self.app.config["SECRETS_KEY"] = self.env["RELANCE_SECRETS_KEY"]
        return self

    def add_mailbox(self, slug: str, user: str, mode: str = "triage", folder: str = "INBOX"):
        from webapp.models import database
        from webapp.services.sources import create_source

        self.dovecot.add_user(user)
        with self.app.app_context(), database.connection_context():
            return create_source(slug, "imap", slug.title(), {
                "host": "127.0.0.1", "port": self.dovecot.port, "security": "plain", "user": user,
                "password": self.dovecot.password, "folder": folder, "mode": mode})

    def queue(self):
        """This stack's queue (not the process's default one), knowing the tasks of webapp.queue."""
        import webapp.queue as tasks

        if getattr(self, "_queue", None) is None:
            self._queue = tasks.make_huey(self.huey_url)
            for task in (tasks.process_requests, tasks.poll_mailbox):
                self._queue._registry.register(task.task_class)
        return self._queue

    def enqueue(self, task, *args):
        """Enqueue a task of webapp.queue on this stack's queue, for its consumer."""
        return self.queue().enqueue(task.s(*args))

    def dispatch(self, ids: list[int]) -> None:
        """A poll's hand-over to this stack's worker (as `services.mailbox.dispatch_to_worker`)."""
        from webapp.queue import process_requests

        for start in range(0, len(ids), 50):
            self.enqueue(process_requests, ids[start:start + 50])

    def cleanup(self) -> None:
        if self.own_dovecot:
            self.dovecot.stop()
        super().cleanup()


def bare_fetch(dovecot, user: str, batch: int = 100) -> float:
    """The plain limit: log in, EXAMINE, FETCH every mail's BODY.PEEK[] in batches; seconds taken."""
    started = time.perf_counter()
    client = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=30)
    client.login(user, dovecot.password)
    client.select('"INBOX"', readonly=True)
    _, data = client.uid("FETCH", "1:*", "(UID RFC822.SIZE)")
    uids = [line.split(b"UID ")[1].split()[0].decode() for line in data if line]
    total = 0
    for start in range(0, len(uids), batch):
        _, fetched = client.uid("FETCH", ",".join(uids[start:start + batch]), "(UID BODY.PEEK[])")
        total += sum(len(item[1]) for item in fetched if isinstance(item, tuple))
    client.logout()
    assert total > 0
    return time.perf_counter() - started


def poll_to_triage(n: int = DEFAULT_SIZE, keep: bool = False) -> dict:
    """Append `n` mails, poll once with a real worker processing, and time each request's way to triage.

    Returns {"n", "append_s", "poll_s" (the poll itself: fetch + store), "all_in_triage_s",
    "stats" (Stats of each request's time to triage, ms), "bare_fetch_s", "ratio"
    (poll / bare fetch), "consumer": the worker's command}."""
    stack = MailStack(keep=keep).prepare()
    consumer = None
    try:
        source = stack.add_mailbox("accueil", "accueil")
        progress(f"mail_poll: appending {n} mails to dovecot…")
        started = time.perf_counter()
        stack.dovecot.append_many("accueil", (french_mail(i) for i in range(n)))
        append_s = time.perf_counter() - started
        progress("mail_poll: the plain limit (bare IMAP FETCH of the same mails)…")
        bare = min(bare_fetch(stack.dovecot, "accueil") for _ in range(3))

        consumer = stack.consumer(workers=2, periodic=False).start()
        time.sleep(0.5)   # the consumer's start-up (its re-scan) out of the measure
        from webapp.models import Source, database
        from webapp.services.mailbox import poll_source
        from webapp.timeutil import utcnow

        progress("mail_poll: polling, the worker processing…")
        with stack.app.app_context(), database.connection_context():
            poll_start, clock = utcnow(), time.perf_counter()
            result = poll_source(Source.get_by_id(source.id), dispatch=stack.dispatch)
            poll_s = time.perf_counter() - clock
        assert result.error is None, result
        assert len(result.stored) == n, (len(result.stored), n)
        done = wait_for(lambda: stack.sql("SELECT count(*) FROM inbound_request WHERE state = 'processed' "
                                          "AND triage = 1")[0][0] == n, timeout=300, interval=0.05)
        all_s = time.perf_counter() - clock
        assert done, stack.sql("SELECT state, count(*) FROM inbound_request GROUP BY state")
        times = [(_parse(at) - poll_start).total_seconds()
                 for (at,) in stack.sql("SELECT processed_at FROM inbound_request")]
        return {"n": n, "append_s": append_s, "poll_s": poll_s, "all_in_triage_s": all_s,
                "stats": Stats.of(times), "bare_fetch_s": bare, "ratio": poll_s / bare,
                "consumer": f"huey_consumer tasks.huey --workers {consumer.workers} --worker-type {consumer.kind}"}
    finally:
        if consumer is not None:
            consumer.stop()
        stack.cleanup()


def _parse(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def measure(report: Report, args) -> None:
    """Add the poll-to-triage figures to a report (`scripts/bench mail` and `mail_poll` alone)."""
    from tests.servers import DovecotServer

    if not DovecotServer.available():
        report.notes.append("poll to triage: not measured, dovecot is not installed (scripts/install-system-deps)")
        return
    n = args.size or (200 if args.quick else DEFAULT_SIZE)
    figures = poll_to_triage(n, keep=args.keep)
    stats = figures["stats"]
    report.fact("poll mailbox", f"dovecot on loopback, {n} French mails appended in {figures['append_s']:.1f} s")
    report.fact("poll worker", figures["consumer"])
    report.fact("poll ratio", f"the poll (fetch + store + hand-over) takes {figures['ratio']:.1f}x a bare IMAP fetch")
    rows = [
        ["poll to triage", "time"],
        [f"bare IMAP FETCH BODY.PEEK[] of the {n} mails (plain limit)", f"{figures['bare_fetch_s']:.2f} s"],
        ["the poll: fetch + store with cursor + hand-over", f"{figures['poll_s']:.2f} s"],
        ["poll start to every request in triage", f"{figures['all_in_triage_s']:.2f} s"],
        ["a request's time to triage, p50", ms(stats.p50)],
        ["a request's time to triage, p99", ms(stats.p99)],
    ]
    if report.table:
        report.notes += ["", *format_table(rows)]
    else:
        report.table = rows
    report.notes.append("The poll stores each batch (100 mails) in one transaction with its cursor, then hands it "
                        "to the worker: the first requests reach triage while later batches are still fetched; "
                        "the time to triage is mostly the worker's processing.")


@register("mail_poll", "poll-to-triage time of 1,000 mails in a real IMAP mailbox, against a bare IMAP FETCH")
def run(args) -> Report:
    report = Report("mail_poll: poll to triage")
    measure(report, args)
    return report
