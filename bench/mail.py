"""mail: the mailbox's costs (issue 16 §6). `scripts/bench mail` runs each measure of MEASURES in turn.

parse throughput: `webapp.mailreader.read_mail` against the plain limit measured in the same process over
the same messages, a bare `email.message_from_bytes(raw, policy=default)` plus `get_body()`'s text. The
messages are generated French mail of the kinds a clinic in Dakar receives (Gmail, Outlook in
Windows-1252, iPhone, Yahoo, HTML only in base64, ISO-8859-1 requests, out-of-office replies, bounces,
delivery reports, newsletters, a PDF attached). Both readers take every message once per round, in
alternating order; the figures are the median round with the spread of the rounds. Limit: read_mail
within 3x the bare parse, in this process's CPU time (parsing is CPU work in one thread: wall time adds
whatever else the machine runs, and the rounds' wall ratios spread widely on a busy machine).

A measure is a function `measure(report, args)` adding its facts, rows and verdicts to the report; the
poll-to-triage measure (1,000 messages in a mailbox) belongs in MEASURES beside parse_throughput.
"""
from __future__ import annotations

import email
import random
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from statistics import median

from . import register
from .common import Report, progress

RATIO_LIMIT = 3.0
DEFAULT_SIZE = 400
ROUNDS, QUICK_ROUNDS = 7, 3
CLINIC = ("Clinique Nest Dakar", "accueil@clinique-nest.sn")
FIRST_NAMES = ("Awa", "Moussa", "Fatou", "Ibrahima", "Mame Diarra", "Ousmane", "Ndèye", "Cheikh", "Khady",
               "Mariama")
LAST_NAMES = ("Diop", "Ndiaye", "Fall", "Sène", "Sow", "Ba", "Faye", "Diallo", "Gueye", "Mbaye")
ASKS = ("Je souhaiterais prendre rendez-vous pour une consultation la semaine prochaine.",
        "Quel est le tarif d’une échographie de contrôle ?",
        "Pouvez-vous m'envoyer la brochure du programme de suivi de grossesse ?",
        "Je confirme ma présence pour mardi à 10h.",
        "Merci pour votre réponse, je vous rappelle demain.")


# ---- the messages ------------------------------------------------------------------------------------

def _person(rng: random.Random) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    local = f"{first}.{last}".lower().replace(" ", "").replace("è", "e").replace("é", "e")
    domain = rng.choice(("gmail.com", "yahoo.fr", "orange.sn", "outlook.fr", "icloud.com"))
    phone = f"7{rng.choice('05678')} {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return f"{first} {last}", f"{local}@{domain}", phone


def _envelope(rng, sender: tuple[str, str], subject: str, *, reply: bool = True) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{sender[0]} <{sender[1]}>"
    msg["To"] = f"{CLINIC[0]} <{CLINIC[1]}>"
    msg["Subject"] = ("Re: " if reply else "") + subject
    msg["Date"] = f"Mon, {rng.randint(1, 28)} Nov 2025 {rng.randint(8, 19):02d}:{rng.randint(0, 59):02d}:00 +0000"
    msg["Message-ID"] = f"<bench.{rng.getrandbits(64):x}@{sender[1].split('@')[1]}>"
    if reply:
        ours = f"<relance.{rng.getrandbits(48):x}@clinique-nest.sn>"
        msg["In-Reply-To"], msg["References"] = ours, ours
    return msg


def _history(rng) -> str:
    return (f"Bonjour,\nMerci pour votre message. Pour toute question, appelez le 33 820 12 12 et demandez Codou.\n"
            f"Cordialement,\nL'accueil de la {CLINIC[0]}\n")


def _gmail(rng):
    name, address, phone = _person(rng)
    msg = _envelope(rng, (name, address), "Votre demande")
    quoted = "".join(f"> {line}\n" for line in _history(rng).splitlines())
    body = (f"Bonjour,\n\n{rng.choice(ASKS)}\n\nMerci d'avance,\n\n-- \n{name}\nTél : {phone}\n\n"
            f"Le lun. 3 nov. 2025 à 10:12, {CLINIC[0]} <{CLINIC[1]}> a\nécrit :\n\n{quoted}")
    msg.set_content(body, cte="quoted-printable")
    html = body.replace("\n", "<br>\n")
    msg.add_alternative(f'<div dir="ltr">{html}</div>', subtype="html", cte="quoted-printable")
    return msg


def _outlook(rng):
    name, address, phone = _person(rng)
    msg = _envelope(rng, (name, address), "Votre demande")
    body = (f"Bonjour,\n\n{rng.choice(ASKS)} Vous pouvez me joindre au +221 {phone}.\n\nBien à vous,\n{name}\n\n"
            f"________________________________\nDe\u00a0: {CLINIC[0]} <{CLINIC[1]}>\n"
            f"Envoyé\u00a0: lundi 3 novembre 2025 10:12\nÀ\u00a0: {name}\nObjet\u00a0: Votre demande\n\n"
            + _history(rng))
    msg.set_content(body, charset="windows-1252", cte="quoted-printable")
    return msg


def _iphone(rng):
    name, address, _ = _person(rng)
    msg = _envelope(rng, (name, address), "Confirmation de votre rendez-vous")
    quoted = "".join(f"> {line}\n" for line in _history(rng).splitlines())
    msg.set_content(f"Oui je confirme pour mardi à 10h.\n\nEnvoyé de mon iPhone\n\n> Le 3 nov. 2025 à 17:00, "
                    f"{CLINIC[0]} <{CLINIC[1]}> a écrit :\n>\n{quoted}", cte="8bit")
    return msg


def _yahoo(rng):
    name, address, _ = _person(rng)
    msg = _envelope(rng, (name, address), "Documentation")
    msg.set_content(f"{rng.choice(ASKS)}\n\nEnvoyé depuis Yahoo Mail pour Android\n\n  Le mar., nov. 4, 2025 à 9:00, "
                    f"{CLINIC[0]}<{CLINIC[1]}> a écrit :   {_history(rng)}", cte="8bit")
    return msg


def _html_only(rng):
    name, address, phone = _person(rng)
    msg = _envelope(rng, (name, address), "Votre demande d'information")
    msg.set_content(f'<html><head><style>p{{margin:0}}</style></head><body><div dir="ltr"><p>Bonjour,</p>'
                    f"<p>{rng.choice(ASKS)}</p><p>{name}<br>{phone}</p></div><div class=\"gmail_quote\">"
                    f"<div class=\"gmail_attr\">Le mer. 5 nov. 2025 à 09:00, {CLINIC[0]} &lt;{CLINIC[1]}&gt; "
                    f"a écrit&nbsp;:</div><blockquote class=\"gmail_quote\">{_history(rng)}</blockquote></div>"
                    "</body></html>", subtype="html", cte="base64")
    return msg


def _latin1_request(rng):
    name, address, phone = _person(rng)
    msg = _envelope(rng, (name, address), "Demande de devis pour une échographie", reply=False)
    msg.set_content(f"Bonjour,\n\nJe souhaite connaître le prix d'une échographie pelvienne.\n"
                    f"Mon numéro : 00221 {phone}\n\nCordialement,\n{name}\n", charset="iso-8859-1",
                    cte="quoted-printable")
    return msg


def _out_of_office(rng):
    name, address, phone = _person(rng)
    msg = _envelope(rng, (name, address), "Votre demande de rendez-vous")
    msg.replace_header("Subject", "Réponse automatique\u00a0: Votre demande de rendez-vous")
    msg.set_content(f"Bonjour,\n\nJe suis absente du bureau jusqu'au 17 novembre. Pour toute urgence, appelez le "
                    f"{phone}.\n\n{name}\n")
    return msg


def _report(rng, action: str, status: str, subject: str) -> bytes:
    """A delivery-status report as an MTA writes it (the email package cannot build one)."""
    _, address, _ = _person(rng)
    boundary = f"dsn-{rng.getrandbits(32):x}"
    return (f"Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mail.clinique-nest.sn>\n"
            f"To: {CLINIC[1]}\nSubject: {subject}\nAuto-Submitted: auto-replied\n"
            f"Message-ID: <dsn.{rng.getrandbits(64):x}@mail.clinique-nest.sn>\nMIME-Version: 1.0\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"{boundary}\"\n\n"
            f"--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            f"Votre message n'a pas pu être remis.\n\n<{address}>: {status} {action}\n\n"
            f"--{boundary}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.clinique-nest.sn\n\n"
            f"Final-Recipient: rfc822; {address}\nAction: {action}\nStatus: {status}\n\n"
            f"--{boundary}\nContent-Type: text/rfc822-headers\n\nFrom: {CLINIC[0]} <{CLINIC[1]}>\nTo: {address}\n"
            f"Subject: Votre demande\n\n--{boundary}--\n").encode("utf-8")


def _bounce(rng):
    return _report(rng, "failed", "5.1.1", "Undelivered Mail Returned to Sender")


def _delivered(rng):
    return _report(rng, "delivered", "2.0.0", "Successful Mail Delivery Report")


def _newsletter(rng):
    msg = _envelope(rng, ("Orange Sénégal", "infos@news.orange.sn"), "Vos offres de novembre", reply=False)
    msg["List-Unsubscribe"] = "<https://news.orange.sn/desinscription?u=42>"
    msg["Precedence"] = "bulk"
    items = "".join(f"<tr><td><h2>Offre {n}</h2><p>Profitez de la fibre à prix réduit.</p></td></tr>"
                    for n in range(20))
    msg.set_content(f"<html><body><table>{items}</table></body></html>", subtype="html")
    return msg


def _pdf(rng):
    name, address, _ = _person(rng)
    msg = _envelope(rng, (name, address), "Ordonnance", reply=False)
    msg.set_content(f"Bonjour,\n\nVoici mon ordonnance en pièce jointe, pour le rendez-vous de jeudi.\n\n{name}\n")
    pdf = b"%PDF-1.4\n" + bytes(rng.getrandbits(8) for _ in range(30_000)) + b"\n%%EOF\n"
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="ordonnance.pdf")
    return msg


# (kind, what read_mail classifies it as, generator, weight)
KINDS = (
    ("gmail reply", None, _gmail, 20), ("outlook reply (1252)", None, _outlook, 12),
    ("iphone reply", None, _iphone, 10), ("yahoo reply", None, _yahoo, 6), ("html only (base64)", None, _html_only, 10),
    ("new request (latin-1)", None, _latin1_request, 10), ("out of office", "auto_reply", _out_of_office, 8),
    ("bounce", "bounce", _bounce, 6), ("delivery report", "delivery_report", _delivered, 3),
    ("newsletter", "newsletter", _newsletter, 8), ("pdf attached", None, _pdf, 7),
)


def generate_messages(count: int, seed: int) -> list[tuple[str, bytes]]:
    """`count` raw messages (kind, bytes) in the proportions of KINDS, shuffled."""
    rng = random.Random(seed)
    kinds = rng.choices(KINDS, weights=[k[3] for k in KINDS], k=count)
    kinds[:len(KINDS)] = KINDS                  # every kind at least once
    rng.shuffle(kinds)
    messages = []
    for kind, _, make, _ in kinds:
        made = make(rng)
        messages.append((kind, made if isinstance(made, bytes) else bytes(made)))
    return messages


# ---- the measures ---------------------------------------------------------------------------------------

def bare_parse(raw: bytes) -> str:
    """The plain limit: the standard library's parse and its idea of the body's text."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    body = msg.get_body(preferencelist=("plain", "html"))
    return body.get_content() if body is not None else ""


@dataclass
class Rounds:
    """Per-round totals in seconds (wall and CPU), and per kind."""
    wall: list[float]
    cpu: list[float]
    by_kind: dict[str, list[float]]


def _one_round(call, messages, rounds: Rounds) -> None:
    per_kind: dict[str, float] = {}
    clock, cpu_clock = time.perf_counter, time.process_time
    started, cpu_started = clock(), cpu_clock()
    for kind, raw in messages:
        t0 = clock()
        call(raw)
        per_kind[kind] = per_kind.get(kind, 0.0) + clock() - t0
    rounds.cpu.append(cpu_clock() - cpu_started)
    rounds.wall.append(clock() - started)
    for kind, seconds in per_kind.items():
        rounds.by_kind.setdefault(kind, []).append(seconds)


def _spread(values: list[float], scale: float) -> str:
    return f"{min(values) * scale:,.0f}-{max(values) * scale:,.0f}"


def parse_throughput(report: Report, args) -> None:
    """read_mail against the bare standard-library parse over the same generated messages."""
    from webapp.mailreader import read_mail

    size = args.size or (100 if args.quick else DEFAULT_SIZE)
    rounds_n = QUICK_ROUNDS if args.quick else ROUNDS
    progress(f"mail: generating {size:,} messages…")
    messages = generate_messages(size, args.seed)
    total_bytes = sum(len(raw) for _, raw in messages)
    bare, ours = Rounds([], [], {}), Rounds([], [], {})
    for _, raw in messages[:50]:                  # warm-up: imports, regex compilation, caches
        bare_parse(raw)
        read_mail(raw)
    for number in range(rounds_n):
        progress(f"mail: parse round {number + 1} of {rounds_n}…")
        pair = [(bare_parse, bare), (read_mail, ours)]
        for call, rounds in (pair if number % 2 == 0 else pair[::-1]):
            _one_round(call, messages, rounds)
    counts: dict[str, int] = {}
    for kind, _ in messages:
        counts[kind] = counts.get(kind, 0) + 1

    report.fact("messages", f"{size:,} generated French mails ({total_bytes / size / 1024:.1f} KiB on average), "
                            f"{len(KINDS)} kinds; {rounds_n} rounds, both readers each round, alternating order")
    report.fact("bare", "email.message_from_bytes(raw, policy=default) + get_body(('plain', 'html')).get_content()")
    report.fact("read_mail", "webapp.mailreader.read_mail: headers, parts, charsets, HTML to text, automated, "
                             "quotes, phones, qualification")
    report.table.append(["reader", "msgs/s (median)", "spread msgs/s", "per msg (median)", "cpu per msg"])
    for label, rounds in (("bare email parse", bare), ("read_mail", ours)):
        wall, cpu = median(rounds.wall), median(rounds.cpu)
        report.table.append([label, f"{size / wall:,.0f}", _spread([size / w for w in sorted(rounds.wall)], 1),
                             f"{wall / size * 1e6:,.0f} µs", f"{cpu / size * 1e6:,.0f} µs"])
    wall_ratios = [o / b for o, b in zip(ours.wall, bare.wall)]
    cpu_ratios = [o / b for o, b in zip(ours.cpu, bare.cpu)]
    wall_ratio, cpu_ratio = median(ours.wall) / median(bare.wall), median(ours.cpu) / median(bare.cpu)
    report.table.append(["ratio read_mail / bare", f"{wall_ratio:.2f}x",
                         f"{min(wall_ratios):.2f}-{max(wall_ratios):.2f}x", "", f"{cpu_ratio:.2f}x"])
    report.notes.append("per kind (median µs per message, bare -> read_mail, ratio):")
    for kind, *_ in KINDS:
        b = median(bare.by_kind[kind]) / counts[kind] * 1e6
        o = median(ours.by_kind[kind]) / counts[kind] * 1e6
        report.notes.append(f"  {kind:<24} {counts[kind]:>4} msgs  {b:8,.0f} -> {o:8,.0f} µs  {o / b:5.2f}x")
    report.verdict(f"mail parse ratio read_mail / bare <= {RATIO_LIMIT:.0f}", cpu_ratio <= RATIO_LIMIT,
                   f"{cpu_ratio:.2f}x in CPU time (rounds {min(cpu_ratios):.2f}-{max(cpu_ratios):.2f}x), "
                   f"{wall_ratio:.2f}x in wall time (rounds {min(wall_ratios):.2f}-{max(wall_ratios):.2f}x); "
                   f"read_mail {size / median(ours.wall):,.0f} msgs/s")


def poll_to_triage(report: Report, args) -> None:
    """Poll-to-triage time of 1,000 mails in a real mailbox (bench/mail_poll.py)."""
    from .mail_poll import measure

    measure(report, args)


# Each measure adds to the one report.
MEASURES = [parse_throughput, poll_to_triage]


@register("mail", "mail parse throughput: read_mail vs a bare email parse (ratio <= 3)")
def run(args) -> Report:
    report = Report("mail: the mailbox's costs")
    for measure in MEASURES:
        measure(report, args)
    return report
