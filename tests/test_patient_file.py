"""Reading a clinic's patient export: the encodings, separators and quirks real exports have, and a
faulty file refused whole with its faults line by line (issue 17 §1)."""
import io
from datetime import date

import pytest

from integrations.patient_file import read_date, read_patient_file_bytes
from webapp.rules.phones import repair_phone
from integrations.spreadsheet import MAX_FILE_BYTES, Problem, decode, read_sheet, sniff_separator

TODAY = date(2026, 12, 5)
HEADER = ["N° dossier", "Nom", "Prénom", "Téléphone", "Tél. 2", "Email", "Date de naissance", "Provenance",
          "Date d'admission"]
ROWS = [
    ["P-001", "Ndiaye", "Ndèye Fatou", "77 123 45 67", "", "fatou@example.sn", "14/03/1992", "Facebook",
     "02/11/2026"],
    ["P-002", "Sène", "Aïssatou", "221761234567", "06 12 34 56 78", "", "1988-07-01", "Bouche à oreille",
     "2026-11-03"],
]


def csv_bytes(rows, sep=";", encoding="cp1252", newline="\r\n", bom=False) -> bytes:
    text = newline.join(sep.join(row) for row in [HEADER, *rows]) + newline
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def read(data: bytes, name="export.csv", config=None):
    return read_patient_file_bytes(data, name, config, "SN", TODAY)


def test_french_excel_csv_in_windows_1252_with_semicolons_and_crlf_is_read():
    records, problems = read(csv_bytes(ROWS))
    assert problems == []
    (line1, fatou), (line2, aissatou) = records
    assert (line1, line2) == (2, 3)
    assert fatou.external_id == "P-001" and fatou.first_name == "Ndèye Fatou" and fatou.last_name == "Ndiaye"
    assert fatou.phones == ("+221771234567",) and fatou.email == "fatou@example.sn"
    assert fatou.birth_date == date(1992, 3, 14) and fatou.admission_date == date(2026, 11, 2)
    assert fatou.provenance == "Facebook"
    assert aissatou.last_name == "Sène" and aissatou.provenance == "Bouche à oreille"


def test_excel_dropped_00_and_french_leading_zero_are_repaired():
    records, problems = read(csv_bytes(ROWS))
    assert problems == []
    assert records[1][1].phones == ("+221761234567", "+33612345678")
    assert repair_phone("221771234567", "SN") == "+221771234567"
    assert repair_phone("612345678", "SN") == "+33612345678"
    assert repair_phone("33 823 45 67", "SN") == "+221338234567"


@pytest.mark.parametrize("encoding,bom", [("utf-8", True), ("utf-8", False), ("latin-1", False),
                                          ("utf-16", False)])
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_any_common_encoding_and_separator_is_read(encoding, bom, sep):
    rows = [[cell.replace(",", " ") for cell in row] for row in ROWS]
    records, problems = read(csv_bytes(rows, sep=sep, encoding=encoding, bom=bom, newline="\n"))
    assert problems == []
    assert [r.last_name for _, r in records] == ["Ndiaye", "Sène"]
    assert records[0][1].first_name == "Ndèye Fatou"


def test_the_separator_is_sniffed_outside_quotes():
    assert sniff_separator('"Nom; complet",Prénom,Téléphone') == ","
    assert sniff_separator("Nom;Prénom,x;Téléphone") == ";"
    assert sniff_separator("Nom") == ";"


def test_a_line_not_in_the_file_s_encoding_is_a_fault():
    good = csv_bytes(ROWS, encoding="utf-8")
    mixed = good + "P-003;Faye;Maïmouna;771234500;;;;;\r\n".encode("cp1252")
    text, encoding, bad = decode(mixed)
    assert encoding == "utf-8" and bad == [4]
    records, problems = read(mixed)
    assert [(p.line, p.code) for p in problems] == [(4, "bad_encoding")]


def test_a_faulty_file_is_refused_with_every_fault_line_by_line():
    rows = ROWS + [
        ["P-003", "Diallo", "Mariama", "77 000", "", "", "31/02/1990", "", ""],
        ["P-004", "Faye", "Coumba", "78 123 45 67", "", "pas-un-mail", "12/12/2000", "", "le 3 mars"],
        ["P-001", "Ndiaye", "Ndèye Fatou", "77 123 45 67", "", "", "", "", ""],
        ["P-005", "Ba"],
        ["", "", "", "76 111 22 33", "", "", "", "", ""],
    ]
    records, problems = read(csv_bytes(rows))
    assert [(p.line, p.code, p.value) for p in problems] == [
        (4, "bad_phone", "77 000"), (4, "bad_birth_date", "31/02/1990"),
        (5, "bad_email", "pas-un-mail"), (5, "bad_admission_date", "le 3 mars"),
        (6, "duplicate_id", "P-001"), (7, "missing_cells", "2"),
        (8, "missing_value", ""), (8, "missing_value", ""),
    ]


def test_a_file_without_the_file_number_column_is_refused_at_its_header():
    data = "Nom;Prénom;Téléphone\r\nNdiaye;Awa;771234567\r\n".encode("cp1252")
    records, problems = read(data)
    assert records == [] and problems == [Problem(1, "missing_column", "N° dossier")]


def test_a_saved_mapping_reads_other_headers_and_several_phone_columns():
    data = ("Matricule,Famille,Prénoms,Portable,Fixe,Né le\n"
            "M9,Gueye,Khady,771112233,33 821 00 00,1995-01-02\n").encode()
    config = {"col_external_id": "Matricule", "col_last_name": "Famille", "col_phones": ["Portable", "Fixe"],
              "col_birth_date": "Né le"}
    records, problems = read(data, config=config)
    assert problems == []
    assert records[0][1].phones == ("+221771112233", "+221338210000")
    assert records[0][1].first_name == "Khady" and records[0][1].birth_date == date(1995, 1, 2)


def test_xlsx_written_by_openpyxl_is_read_with_dates_serials_and_numbers():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["P-010", "Diop", "Awa", 221771234567, None, None, date(1992, 3, 14), "Site web", 46328])
    sheet.append(["P-011", "Sarr", "Binta", "77 765 43 21", None, None, "05/06/1980", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    records, problems = read(buffer.getvalue(), "export.xlsx")
    assert problems == []
    awa = records[0][1]
    assert awa.phones == ("+221771234567",) and awa.birth_date == date(1992, 3, 14)
    assert awa.admission_date == date(2026, 11, 2)     # Excel serial 46328
    assert records[1][1].birth_date == date(1980, 6, 5)


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (100 * 1024 * 1024))
    sheet = read_sheet(buffer.getvalue(), "bomb.xlsx")
    assert sheet.problems == [Problem(0, "file_too_large")] and sheet.rows == []


def test_a_file_over_the_size_limit_or_not_a_spreadsheet_is_refused():
    assert read_sheet(b"x" * (MAX_FILE_BYTES + 1)).problems[0].code == "file_too_large"
    assert read_sheet(b"PK\x03\x04garbage", "a.xlsx").problems[0].code == "not_a_spreadsheet"
    assert read_sheet(b"", "a.csv").problems[0].code == "file_empty"


@pytest.mark.parametrize("value,expected", [
    ("14/03/1992", date(1992, 3, 14)), ("1992-03-14", date(1992, 3, 14)), ("4/3/1992", date(1992, 3, 4)),
    ("14.03.1992", date(1992, 3, 14)), (33677, date(1992, 3, 14)), ("33677", date(1992, 3, 14)),
    ("31/02/1990", None), ("2030-01-01", None), ("1850-01-01", None), ("hier", None),
])
def test_dates_are_read_as_french_exports_write_them(value, expected):
    assert read_date(value, TODAY) == expected


def test_a_zip_whose_declared_sizes_lie_is_refused_before_a_reader_trusts_them():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (90 * 1024 * 1024))
    data = bytearray(buffer.getvalue())
    # declare 1 KB in the central directory (its uncompressed size field is 24 bytes into the entry)
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (1024).to_bytes(4, "little")
    assert read_sheet(bytes(data), "liar.xlsx").problems[0].code in ("file_too_large", "not_a_spreadsheet")
