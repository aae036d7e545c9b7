"""The demo clinic's patient export: a French Excel CSV (Windows-1252, `;`, CRLF) made from the demo
prospects, to import with `relance sync-patients --source dossiers --file …` and watch reconciliation.

Some open demo prospects became patients (written as the clinic's software writes them: surname in
capitals, accents dropped, the `00` of the number lost to Excel): they convert. Some are uncertain and go
to review: a typo in a surname with the same number, and a mother's number given for her little girl
(which must never convert the mother). The others are new patients no prospect matches.
"""
import random
import unicodedata
from datetime import date, datetime, timedelta

from peewee import fn

from .demo_data import LAST_NAMES, WOMEN
from .models import Patient, PatientMatch, Prospect, Source
from .rules.text import fold
from .services.sources import create_source

HEADER = ["N° dossier", "Nom", "Prénom", "Téléphone", "Tél. 2", "Email", "Date de naissance", "Provenance",
          "Date d'admission"]
PROVENANCES = ["Facebook", "Site web", "Bouche-à-oreille", "Événement", "Offre gratuite", "Appel sortant"]
SOURCE_SLUG = "dossiers"
CHILD_NAMES = ["Mame Diarra", "Sokhna Fatou", "Ndèye Awa", "Aminata"]


def _plain(text: str) -> str:
    """The name as software without accents writes it ("Aïssatou" → "Aissatou")."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _excel_phone(e164: str, rng: random.Random) -> str:
    digits = e164.lstrip("+")
    national = digits.removeprefix("221")
    return rng.choice([digits, national, f"{national[:2]} {national[2:5]} {national[5:7]} {national[7:]}"])


def _typo(name: str) -> str:
    """One letter doubled or dropped: "Diallo" → "Dialo", "Faye" → "Fayye"."""
    if len(name) > 4 and any(a == b for a, b in zip(name, name[1:])):
        i = next(i for i, (a, b) in enumerate(zip(name, name[1:])) if a == b)
        return name[:i] + name[i + 1:]
    return name[:-1] + name[-2] + name[-1] if len(name) > 2 else name + name[-1]


def _candidates(now: datetime) -> list[Prospect]:
    """Open prospects with a valid number, entered 35 to 170 days ago, not linked to a patient yet nor
    waiting in the review queue."""
    matched = PatientMatch.select(PatientMatch.id).where(PatientMatch.prospect == Prospect.id)
    return list(Prospect.select().where(
        (Prospect.outcome == "open") & Prospect.phone.is_null(False) & Prospect.patient.is_null()
        & ~fn.EXISTS(matched)
        & Prospect.erased_at.is_null() & (Prospect.created_at < now - timedelta(days=35))
        & (Prospect.created_at > now - timedelta(days=170))).order_by(Prospect.id))


def _admission(prospect: Prospect, now: datetime, rng: random.Random) -> date:
    """Within 30 days of the prospect's entry, so that the cohort counts the conversion."""
    return min((prospect.created_at + timedelta(days=rng.uniform(2, 26))).date(), now.date())


def export_rows(now: datetime, seed: int = 17) -> list[list[str]]:
    """The export's data rows: six conversions, two for review, six new patients."""
    rng = random.Random(seed)
    pool = [p for p in _candidates(now) if p.first_name in WOMEN and p.last_name]
    used_phones = {p.phone for p in Prospect.select(Prospect.phone).where(Prospect.phone.is_null(False))}
    used_phones |= {p.phone for p in Patient.select(Patient.phone).where(Patient.phone.is_null(False))}
    chosen = rng.sample(pool, min(8, len(pool)))
    rows, number = [], 7001

    def row(last, first, phone, birth, admitted, email=""):
        nonlocal number
        number += 1
        rows.append([f"NEST-{number:06d}", last, first, phone, "", email,
                     birth.strftime("%d/%m/%Y") if birth else "", rng.choice(PROVENANCES),
                     admitted.strftime("%d/%m/%Y")])

    for prospect in chosen[:6]:                       # certain: same number, same names as folded
        row(_plain(prospect.last_name).upper(), _plain(prospect.first_name), _excel_phone(prospect.phone, rng),
            prospect.birth_date, _admission(prospect, now, rng), prospect.email or "")
    if len(chosen) > 6:                                # uncertain: a typo in the surname
        prospect = chosen[6]
        row(_typo(prospect.last_name), prospect.first_name, _excel_phone(prospect.phone, rng),
            prospect.birth_date, _admission(prospect, now, rng))
    if len(chosen) > 7:                                # uncertain: the mother's number for her daughter
        mother = chosen[7]
        girl = next(name for name in CHILD_NAMES if fold(name) != fold(mother.first_name))
        row(mother.last_name, girl, _excel_phone(mother.phone, rng), date(now.year - 4, 5, 12),
            _admission(mother, now, rng))
    for _ in range(6):                                 # new patients, matching no prospect
        while True:
            national = "70" + f"{rng.randint(0, 9999999):07d}"
            if f"+221{national}" not in used_phones:
                used_phones.add(f"+221{national}")
                break
        birth = date(now.year - rng.randint(20, 40), rng.randint(1, 12), rng.randint(1, 28))
        row(rng.choice(LAST_NAMES), rng.choice(WOMEN), national, birth,
            (now - timedelta(days=rng.uniform(5, 120))).date())
    return rows


def _cell(value: str) -> str:
    """A cell Excel will not run as a formula (SECURITY.md) and that keeps the file's columns."""
    value = value.replace(";", ",").replace("\r", " ").replace("\n", " ")
    return "'" + value if value.strip()[:1] in ("=", "+", "-", "@") else value


def export_csv(now: datetime, seed: int = 17) -> bytes:
    """The export as French Excel saves it: Windows-1252, `;`, CRLF."""
    lines = [";".join(HEADER)] + [";".join(map(_cell, row)) for row in export_rows(now, seed)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252", errors="replace")


def ensure_source() -> Source:
    """The demo clinic's patient-file source (`dossiers`), created once."""
    return Source.get_or_none(Source.slug == SOURCE_SLUG) or create_source(
        SOURCE_SLUG, "patient_file", "Dossiers patients (export du logiciel de la clinique)")
