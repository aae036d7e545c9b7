"""Spreadsheet bytes to rows of text: CSV in the encodings and separators exports really use, and XLSX.

French Excel writes CSV in Windows-1252 with `;` and CRLF; others write UTF-8 (with or without a BOM),
ISO-8859-1 or UTF-16 ("texte Unicode", tab-separated). XLSX is read with python-calamine after its
sizes are checked: neither calamine nor openpyxl guards against a zip bomb (NOTES.md).

Pure: bytes in, `Sheet` out; what cannot be read is a `Problem` with its line number, never an
exception past this module.
"""
import codecs
import csv
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

MAX_FILE_BYTES = 10 * 1024 * 1024          # what a clinic's export weighs, many times over
MAX_UNCOMPRESSED_BYTES = 80 * 1024 * 1024   # an XLSX's parts once inflated
MAX_ZIP_ENTRIES = 2000
MAX_RATIO = 200                              # inflated / compressed, per part (real sheets: 5 to 30)
MAX_ROWS = 100_000
MAX_COLUMNS = 200
MAX_CELL = 2000
SEPARATORS = (";", ",", "\t")
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Problem:
    """What is wrong at a line of the file (1 is the header line; 0 the file as a whole).

    `code` is stable (the core words it in French); `value` is the text as found, `column` its header."""
    line: int
    code: str
    value: str = ""
    column: str = ""


@dataclass
class Sheet:
    """The header and the data rows, each with its line number in the file as a spreadsheet shows it."""
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, list]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    encoding: str = ""
    separator: str = ""


def is_xlsx(data: bytes) -> bool:
    return data.startswith(XLSX_MAGIC)


def read_sheet(data: bytes, filename: str = "") -> Sheet:
    """The rows of a CSV, XLSX or XLS file; a file too big, a zip bomb or an unreadable file is a
    `Problem` at line 0 and no rows."""
    if len(data) > MAX_FILE_BYTES:
        return Sheet(problems=[Problem(0, "file_too_large", str(MAX_FILE_BYTES // (1024 * 1024)))])
    if not data.strip():
        return Sheet(problems=[Problem(0, "file_empty")])
    if data.startswith(XLSX_MAGIC):
        refusal = zip_refusal(data)
        if refusal:
            return Sheet(problems=[Problem(0, refusal)])
        return _workbook(data)
    if data.startswith(XLS_MAGIC):
        return _workbook(data)
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        return Sheet(problems=[Problem(0, "not_a_spreadsheet")])
    return read_csv(data)


def zip_refusal(data: bytes) -> str | None:
    """Why an XLSX must not be opened (its declared sizes, checked before anything is inflated), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "not_a_spreadsheet"
    if len(entries) > MAX_ZIP_ENTRIES:
        return "file_too_large"
    total = 0
    for entry in entries:
        total += entry.file_size
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            return "file_too_large"
    if total > MAX_UNCOMPRESSED_BYTES:
        return "file_too_large"
    return _inflated_refusal(data)


def _inflated_refusal(data: bytes) -> str | None:
    """The declared sizes can lie: inflate every part once, in chunks, counting what comes out (and
    checking each part's CRC) before a reader that would trust them opens the file."""
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for entry in archive.infolist():
                with archive.open(entry) as part:
                    while chunk := part.read(1024 * 1024):
                        total += len(chunk)
                        if total > MAX_UNCOMPRESSED_BYTES:
                            return "file_too_large"
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, NotImplementedError, EOFError):
        return "not_a_spreadsheet"
    return None


def _workbook(data: bytes) -> Sheet:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not workbook.sheet_names:
            return Sheet(problems=[Problem(0, "file_empty")])
        values = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception:  # calamine raises its own errors, and others on a crafted file: all mean unreadable
        return Sheet(problems=[Problem(0, "not_a_spreadsheet")])
    numbered = [(number, list(row)) for number, row in enumerate(values, start=1)]
    return _split(numbered, Sheet(encoding="xlsx"))


def read_csv(data: bytes) -> Sheet:
    """A CSV in UTF-8 (BOM or not), UTF-16 (BOM), Windows-1252 or ISO-8859-1, separated by `;`, `,` or tab."""
    text, encoding, bad_lines = decode(data)
    sheet = Sheet(encoding=encoding)
    first_line = text.split("\n", 1)[0]
    sheet.separator = sniff_separator(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sheet.separator)
    numbered = []
    start = 1
    try:
        for row in reader:
            numbered.append((start, row))
            start = reader.line_num + 1
            if len(numbered) > MAX_ROWS + 1:
                return Sheet(problems=[Problem(0, "too_many_rows", str(MAX_ROWS))])
    except csv.Error:
        sheet.problems.append(Problem(start, "unreadable_line"))
    sheet.problems.extend(Problem(line, "bad_encoding") for line in bad_lines)
    return _split(numbered, sheet)


def decode(data: bytes) -> tuple[str, str, list[int]]:
    """The text, the encoding it was read in, and the lines whose bytes do not belong to it.

    A file that is UTF-8 throughout is UTF-8; one with some UTF-8 accents and some lines that are not
    UTF-8 was assembled from two exports: those lines are bad. Anything else is Windows-1252 (a
    superset of ISO-8859-1's letters); bytes it leaves undefined mark their lines as bad.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return _lines_text(data.decode(name)), name, []
            except UnicodeDecodeError:
                if name != "utf-8-sig":
                    return "", name, [0]
                text, bad = _per_line(data[len(bom):], "utf-8")
                return text, name, bad
    try:
        return _lines_text(data.decode("utf-8")), "utf-8", []
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    utf8_accents = any(_is_utf8(line) and not line.isascii() for line in lines)
    if utf8_accents:
        text, bad = _per_line(data, "utf-8")
        return text, "utf-8", bad
    text, bad = _per_line(data, "cp1252")
    return text, "cp1252", bad


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _per_line(data: bytes, encoding: str) -> tuple[str, list[int]]:
    out, bad = [], []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            out.append(line.decode(encoding))
        except UnicodeDecodeError:
            bad.append(number)
            out.append(line.decode(encoding, errors="replace"))
    return _lines_text("\n".join(out)), bad


def _lines_text(text: str) -> str:
    return text.replace("\x00", "")


def sniff_separator(header_line: str) -> str:
    """The separator among `;`, `,` and tab that the header line uses most (outside quotes); `;` on a tie
    or none (French Excel's)."""
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ";"


def _split(numbered: list[tuple[int, list]], sheet: Sheet) -> Sheet:
    """Header first (the first line with a value); blank lines dropped; cells bounded."""
    rows = [(number, [_cell(value) for value in row[:MAX_COLUMNS + 1]]) for number, row in numbered]
    rows = [(number, row) for number, row in rows if any(v not in ("", None) for v in row)]
    if not rows:
        sheet.problems.append(Problem(0, "file_empty"))
        return sheet
    if len(rows) > MAX_ROWS + 1:
        return Sheet(problems=[Problem(0, "too_many_rows", str(MAX_ROWS))])
    _, header = rows[0]
    sheet.header = [str(value if value is not None else "").strip() for value in header]
    sheet.rows = rows[1:]
    return sheet


def _cell(value):
    """Text trimmed and bounded; numbers, dates and times as calamine gives them."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\x00", "").strip()[:MAX_CELL]
    if isinstance(value, (bool, int, float, date, datetime, time, timedelta)):
        return value
    return str(value)[:MAX_CELL]
