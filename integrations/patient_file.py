"""The built-in patient-file source: a clinic's patient export (CSV or XLSX) to `PatientRecord`s.

Private clinics in Senegal mostly run local software whose one reliable way out is a spreadsheet, so
this is the first patient source. Each source saves which column holds what (French headers by
default); a file with any faulty line is refused whole, with the list of its faults line by line, so
that nothing is half-imported. Pure: bytes in, `(records, problems)` out.
"""
import re
from datetime import date, datetime, timedelta

from webapp.rules.contact import is_email, normalise_email
from webapp.rules.phones import repair_phone
from webapp.rules.text import fold

from .contract import N_, PatientRecord, Setting, SourceType
from .hookspecs import hookimpl
from .spreadsheet import Problem, read_sheet

SOURCE_TYPE = "patient_file"
FIELDS = ("external_id", "last_name", "first_name", "phones", "email", "birth_date", "provenance",
          "admission_date")
# The headers a French export uses, most likely first; a source's own choice goes in front.
DEFAULT_COLUMNS = {
    "external_id": ["N° dossier", "Numéro de dossier", "N° de dossier", "Dossier", "N° patient", "IPP",
                    "Identifiant", "external_id", "ID"],
    "last_name": ["Nom", "Nom de famille", "last_name"],
    "first_name": ["Prénom", "Prénoms", "first_name"],
    "phones": ["Téléphone", "Tél. 2", "Tél", "Téléphone 2", "Portable", "Mobile", "phone", "phones"],
    "email": ["Email", "E-mail", "Courriel", "Adresse e-mail", "email"],
    "birth_date": ["Date de naissance", "Né(e) le", "birth_date"],
    "provenance": ["Provenance", "Comment nous avez-vous connu ?", "Origine", "provenance"],
    "admission_date": ["Date d'admission", "Date d'entrée", "Admission", "admission_date"],
}
REQUIRED = ("external_id", "last_name")
LIMITS = {"external_id": 64, "last_name": 100, "first_name": 100, "email": 200, "provenance": 200}
PHONE_SPLIT = re.compile(r"\s*[/;,|]\s*|\s{3,}")
EXCEL_EPOCH = date(1899, 12, 30)   # Excel's day 0 (its 1900 leap-year bug included)
DATE_PATTERNS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%Y %H:%M",
                 "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


class PatientFileType(SourceType):
    name = SOURCE_TYPE
    label = N_("Patient file (CSV or Excel export)")
    channel = "other"
    settings = (
        Setting("col_external_id", N_("Column: file number"), default="N° dossier",
                help=N_("The patient system's id, unique per patient.")),
        Setting("col_last_name", N_("Column: last name"), default="Nom"),
        Setting("col_first_name", N_("Column: first name"), default="Prénom"),
        Setting("col_phones", N_("Columns: phones"), kind="list", default=["Téléphone", "Tél. 2"],
                help=N_("Several columns allowed, separated by commas.")),
        Setting("col_email", N_("Column: email"), default="Email"),
        Setting("col_birth_date", N_("Column: birth date"), default="Date de naissance"),
        Setting("col_provenance", N_("Column: provenance"), default="Provenance"),
        Setting("col_admission_date", N_("Column: admission date"), default="Date d'admission"),
        Setting("phone_regions", N_("Other countries for numbers"), kind="list", default=["FR"],
                help=N_("Where the diaspora's numbers come from, tried after the clinic's own country.")),
    )


PATIENT_FILE = PatientFileType()


def header_key(text) -> str:
    """A header as compared: folded, punctuation as spaces ("N° dossier" and "n dossier" are one)."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(str(text or ""))).split())


def columns_of(config: dict | None) -> dict[str, list[str]]:
    """Each field's candidate headers: the source's saved choice first, then the French defaults
    (phones: the saved columns only, when some are saved: they are all read, not the first found)."""
    config = config or {}
    columns = {}
    for name in FIELDS:
        own = config.get(f"col_{name}") or []
        own = [own] if isinstance(own, str) else list(own)
        own = [str(item).strip() for item in own if str(item).strip()]
        if name == "phones" and own:
            columns[name] = own
        else:
            columns[name] = own + [h for h in DEFAULT_COLUMNS[name] if header_key(h) not in map(header_key, own)]
    return columns


def locate(header: list[str], columns: dict[str, list[str]]) -> tuple[dict[str, list[int]], list[Problem]]:
    """Which cell positions hold each field; a required field without a column is a problem at line 1."""
    keys = [header_key(h) for h in header]
    found: dict[str, list[int]] = {}
    for name, candidates in columns.items():
        positions = []
        for candidate in candidates:
            key = header_key(candidate)
            if key in keys:
                position = keys.index(key)
                if position not in positions:
                    positions.append(position)
                if name != "phones":
                    break
        found[name] = positions
    problems = [Problem(1, "missing_column", columns[name][0]) for name in REQUIRED if not found[name]]
    if not found["phones"] and not found["email"]:
        problems.append(Problem(1, "missing_column", columns["phones"][0]))
    return found, problems


def read_patient_file_bytes(data: bytes, filename: str, config: dict | None, region: str,
                      today: date) -> tuple[list[tuple[int, PatientRecord]], list[Problem]]:
    """Every patient of the file with its line number, and every fault; the caller applies nothing when
    there is any fault (the whole file is refused)."""
    sheet = read_sheet(data, filename)
    if sheet.problems and not sheet.rows and not sheet.header:
        return [], sheet.problems
    positions, problems = locate(sheet.header, columns_of(config))
    problems = sheet.problems + problems
    if any(p.line == 1 for p in problems):
        return [], sorted(problems, key=lambda p: p.line)
    regions = [r.upper() for r in (config or {}).get("phone_regions", ["FR"]) if isinstance(r, str)]
    records, seen = [], {}
    bad_lines = {p.line for p in problems}
    for line, row in sheet.rows:
        if line in bad_lines:
            continue
        record, row_problems = read_row(line, row, sheet.header, positions, region, regions, today)
        if record is not None and not row_problems:
            if record.external_id in seen:
                row_problems.append(Problem(line, "duplicate_id", record.external_id, str(seen[record.external_id])))
            else:
                seen[record.external_id] = line
                records.append((line, record))
        problems.extend(row_problems)
    return records, sorted(problems, key=lambda p: p.line)


def read_row(line: int, row: list, header: list[str], positions: dict[str, list[int]], region: str,
             regions: list[str], today: date) -> tuple[PatientRecord | None, list[Problem]]:
    """One data line to a record, or its problems."""
    width = max((p for ps in positions.values() for p in ps), default=0) + 1
    if len(row) < width and len(row) < len(header):
        return None, [Problem(line, "missing_cells", str(len(row)), str(len(header)))]
    problems: list[Problem] = []

    def cell(name):
        return [row[p] if p < len(row) else "" for p in positions[name]]

    def text(name):
        values = cell(name)
        value = _text(values[0]) if values else ""
        if len(value) > LIMITS[name]:
            problems.append(Problem(line, "too_long", value[:40] + "…", name))
            return ""
        return value

    external_id, last_name = text("external_id"), text("last_name")
    if not external_id:
        problems.append(Problem(line, "missing_value", "", "external_id"))
    if not last_name and not text("first_name"):
        problems.append(Problem(line, "missing_value", "", "last_name"))
    phones = []
    for value in cell("phones"):
        for part in split_phones(value):
            e164 = repair_phone(part, region, regions)
            if e164 is None:
                problems.append(Problem(line, "bad_phone", part))
            elif e164 not in phones:
                phones.append(e164)
    email = text("email")
    if email and not is_email(email):
        problems.append(Problem(line, "bad_email", email))
    dates = {}
    for name in ("birth_date", "admission_date"):
        values = cell(name)
        raw = values[0] if values else ""
        parsed = read_date(raw, today)
        if raw not in ("", None) and parsed is None:
            problems.append(Problem(line, f"bad_{name}", _text(raw)))
        dates[name] = parsed
    if problems:
        return None, problems
    return PatientRecord(external_id=external_id, first_name=text("first_name"), last_name=last_name,
                         phones=tuple(phones), email=normalise_email(email), birth_date=dates["birth_date"],
                         provenance=text("provenance"), admission_date=dates["admission_date"]), []


def _text(value) -> str:
    """A cell as text; a whole number Excel stored as a float (12.0) without its ".0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value if value is not None else "").strip()


def split_phones(value) -> list[str]:
    """"77 123 45 67 / 76 987 65 43" is two numbers; a cell as Excel stored it (a float) is one."""
    text = _text(value)
    return [part for part in PHONE_SPLIT.split(text) if part.strip()] if text else []


def read_date(value, today: date) -> date | None:
    """dd/mm/yyyy, yyyy-mm-dd and their kin, a date cell, or an Excel serial number; None when
    unreadable, impossible (31/02) or outside 1900 to today."""
    if value in ("", None):
        return None
    parsed = None
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = _serial(value)
    else:
        text = str(value).strip()
        if re.fullmatch(r"\d{4,5}(\.0+)?", text):
            parsed = _serial(float(text))
        for pattern in DATE_PATTERNS if parsed is None else ():
            try:
                parsed = datetime.strptime(text, pattern).date()
                break
            except ValueError:
                continue
    if parsed is None or not (date(1900, 1, 1) <= parsed <= today):
        return None
    return parsed


def _serial(number: float) -> date | None:
    if not 1 <= number < 2958466:
        return None
    return EXCEL_EPOCH + timedelta(days=int(number))


@hookimpl
def source_types():
    return [PATIENT_FILE]


@hookimpl
def read_patient_file(source, filename, data, region, today):
    if source.type != SOURCE_TYPE:
        return None
    return read_patient_file_bytes(data, filename, source.config or {}, region, today)
