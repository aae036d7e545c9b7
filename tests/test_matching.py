"""Matching a new patient to the prospect it was (issue 17, §2): certain, uncertain or none, with names as they
are written in Senegal and numbers as people write them. A false automatic conversion is the one
unacceptable error: every "uncertain" and "none" case below must never convert."""
from datetime import date, datetime

import phonenumbers
import pytest

from integrations.contract import PatientRecord
from webapp.models import PatientMatch, Prospect, Stage
from webapp.rules import matching
from webapp.rules.matching import CERTAIN, NONE, UNCERTAIN, Person, Verdict, judge, settle
from webapp.rules.phones import normalise_phone
from webapp.services import reconcile

NOW = datetime(2026, 12, 1, 10, 0)
MOTHER = "+221771234567"
D = date

# (case, patient record as the patient system writes it, prospect as the CRM stored it, verdict)
# Patient: (first, last, phones as written, email, birth date); prospect: (first, last, E.164, email, birth).
CASES = [
    # --- certain: a contact in common and names that agree, or name + birth date and nothing against it
    ("phone with spaces, accents and apostrophe", ("Ndèye", "N'Diaye", ["77 123 45 67"], None, None),
     ("Ndeye", "Ndiaye", MOTHER, None, None), CERTAIN),
    ("phone as nine digits", ("Ndeye", "NDIAYE", ["771234567"], None, None),
     ("Ndèye", "N'Diaye", MOTHER, None, None), CERTAIN),
    ("phone with +221 and spaces", ("Mame Diarra", "Sow", ["+221 77 123 45 67"], None, None),
     ("Mame-Diarra", "Sow", MOTHER, None, D(1992, 4, 1)), CERTAIN),
    ("phone with 00221", ("Coumba", "Ndour", ["00221771234567"], None, D(1988, 1, 9)),
     ("Coumba", "Ndour", MOTHER, None, D(1988, 1, 9)), CERTAIN),
    ("phone as Excel writes it, 00 dropped", ("Ngor", "Faye", ["221771234567"], None, None),
     ("Ngor", "Faye", MOTHER, None, None), CERTAIN),
    ("a Dakar landline 33 8xx xx xx", ("Bakary", "Diatta", ["33 821 45 67"], None, None),
     ("Bakary", "Diatta", "+221338214567", None, None), CERTAIN),
    ("a French number of the diaspora", ("Marie-Claire", "Mendy", ["+33 6 12 34 56 78"], None, None),
     ("Marie Claire", "Mendy", "+33612345678", None, None), CERTAIN),
    ("the second of the patient's numbers", ("Khady", "Sarr", ["78 000 00 01", "0033612345678"], None, None),
     ("Khady", "Sarr", "+33612345678", None, None), CERTAIN),
    ("first and last names swapped, same phone", ("Ndiaye", "Ndèye", ["77 123 45 67"], None, None),
     ("Ndeye", "Ndiaye", MOTHER, None, None), CERTAIN),
    ("same email in other case, no phone", ("Awa", "Diop", [], "Awa.Diop@Gmail.com", None),
     ("Awa", "Diop", None, "awa.diop@gmail.com", None), CERTAIN),
    ("name and birth date, prospect without contact", ("Mamadou", "Diallo", ["76 555 44 33"], None, D(1985, 6, 15)),
     ("Mamadou", "Diallo", None, None, D(1985, 6, 15)), CERTAIN),
    ("Pulaar name with diaeresis and circumflex", ("Aïssatou", "Bâ", [], None, D(1979, 2, 3)),
     ("Aissatou", "Ba", None, None, D(1979, 2, 3)), CERTAIN),
    ("name and birth date, the patient without contact", ("Ousmane", "Sarr", [], None, D(1966, 4, 4)),
     ("Ousmane", "Sarr", "+221765554433", "o.sarr@example.sn", D(1966, 4, 4)), CERTAIN),
    ("phone in common, prospect's birth date unknown", ("Fatou", "Gueye", ["77 123 45 67"], None, D(1995, 5, 5)),
     ("Fatou", "Gueye", MOTHER, None, None), CERTAIN),

    # --- uncertain: a person decides
    ("Ndiaye / Njaay, same birth date", ("Ndèye", "Njaay", ["78 111 11 11"], None, D(1990, 3, 2)),
     ("Ndeye", "Ndiaye", None, None, D(1990, 3, 2)), UNCERTAIN),
    ("Diop / Jóob, same birth date", ("Moussa", "Jóob", [], None, D(1983, 7, 7)),
     ("Moussa", "Diop", None, None, D(1983, 7, 7)), UNCERTAIN),
    ("a typo in a long surname", ("Seynabou", "Mbingue", [], None, D(1991, 9, 9)),
     ("Seynabou", "Mbengue", None, None, D(1991, 9, 9)), UNCERTAIN),
    ("Mamadou / Mamadu, same surname and birth date", ("Mamadu", "Ba", [], None, D(1970, 1, 1)),
     ("Mamadou", "Ba", None, None, D(1970, 1, 1)), UNCERTAIN),
    ("swapped names without a phone match", ("Sène", "Ousmane", [], None, D(1980, 8, 8)),
     ("Ousmane", "Sène", None, None, D(1980, 8, 8)), UNCERTAIN),
    ("the mother's number given for her child", ("Fatou", "Diallo", ["77 123 45 67"], None, D(2024, 5, 1)),
     ("Awa", "Diallo", MOTHER, None, D(1990, 3, 2)), UNCERTAIN),
    ("the mother's number, her birth date unknown", ("Fatou", "Diallo", ["771234567"], None, D(2024, 5, 1)),
     ("Awa", "Diallo", MOTHER, None, None), UNCERTAIN),
    ("a daughter named after her mother, same phone", ("Awa", "Diallo", ["77 123 45 67"], None, D(2001, 1, 1)),
     ("Awa", "Diallo", MOTHER, None, D(1970, 1, 1)), UNCERTAIN),
    ("same phone, prospect known by surname only", ("Fatou", "Diallo", ["77 123 45 67"], None, None),
     ("", "Diallo", MOTHER, None, None), UNCERTAIN),
    ("a family email, other names", ("Ibrahima", "Faye", [], "famille.faye@orange.sn", None),
     ("Astou", "Faye", None, "famille.faye@orange.sn", None), UNCERTAIN),
    ("same name and birth date, different phones", ("Fatou", "Diop", ["77 999 88 77"], None, D(1990, 1, 1)),
     ("Fatou", "Diop", "+221765554433", None, D(1990, 1, 1)), UNCERTAIN),
    ("same name and birth date, a phone on one side and an email on the other",
     ("Penda", "Thiam", ["+221 70 857 91 39"], None, D(1978, 9, 28)),
     ("Penda", "Thiam", None, "penda.thiam@gmail.com", D(1978, 9, 28)), UNCERTAIN),

    # --- none: homonyms, near-homonyms, strangers; never a name alone
    ("homonyms with different birth dates", ("Fatou", "Diop", ["77 999 88 77"], None, D(1990, 1, 1)),
     ("Fatou", "Diop", None, None, D(1995, 1, 1)), NONE),
    ("Ba / Ka", ("Oumar", "Ka", [], None, D(1975, 5, 5)),
     ("Oumar", "Ba", None, None, D(1975, 5, 5)), NONE),
    ("Sène / Sané", ("Awa", "Sané", [], None, D(1986, 6, 6)),
     ("Awa", "Sène", None, None, D(1986, 6, 6)), NONE),
    ("Gueye / Gaye", ("Modou", "Gaye", [], None, D(1982, 2, 2)),
     ("Modou", "Gueye", None, None, D(1982, 2, 2)), NONE),
    ("Faye / Fall", ("Aminata", "Fall", [], None, D(1993, 3, 3)),
     ("Aminata", "Faye", None, None, D(1993, 3, 3)), NONE),
    ("the same name, no birth date: never a name alone", ("Fatou", "Diop", ["77 999 88 77"], None, None),
     ("Fatou", "Diop", None, None, None), NONE),
    ("the same name, one birth date unknown", ("Fatou", "Diop", [], None, D(1990, 1, 1)),
     ("Fatou", "Diop", None, None, None), NONE),
    ("a new patient", ("Yacine", "Thiam", ["70 123 45 67"], "yacine@example.sn", D(2000, 1, 1)),
     ("Ndèye", "Ndiaye", MOTHER, "ndeye@example.sn", D(1990, 3, 2)), NONE),
]


def as_person(first, last, phones, email, birth, *, written=True):
    if written:
        e164 = frozenset(filter(None, (matching.phone_e164(p, "SN") for p in phones)))
    else:
        e164 = frozenset([phones]) if phones else frozenset()
    return Person(first, last, birth, e164, matching.normalise_email(email))


@pytest.mark.parametrize("case, patient, prospect, expected", CASES, ids=[c[0] for c in CASES])
def test_the_rules_verdict(case, patient, prospect, expected):
    verdict = judge(as_person(*patient), as_person(*prospect, written=False))
    assert verdict.verdict == expected, verdict.reasons


def make_prospect(first, last, phone, email, birth):
    stage = Stage.select().where(Stage.kind == "open").order_by(Stage.position).first()
    return Prospect.create(first_name=first, last_name=last, phone=phone, phone_raw=phone or "", email=email,
                           birth_date=birth, stage=stage)


@pytest.mark.parametrize("blocking", ["joins", "scan"])
@pytest.mark.parametrize("case, patient, prospect, expected", CASES, ids=[c[0] for c in CASES])
def test_end_to_end_through_blocking(ctx, monkeypatch, case, patient, prospect, expected, blocking):
    """The same cases through reconcile.apply: blocking finds every pair the rules would convert or send to
    review, and only a certain one converts; by indexed joins (a push, a small file) as by the one scan of
    the prospects a whole export takes."""
    if blocking == "scan":
        monkeypatch.setattr(reconcile, "SCAN_ABOVE", 0)
    p = make_prospect(*prospect)
    first, last, phones, email, birth = patient
    result = reconcile.apply("dossiers", [PatientRecord("X1", first, last, tuple(phones), email, birth)], now=NOW)
    row = result.rows[0]
    after = Prospect.get_by_id(p.id)
    if expected == CERTAIN:
        assert row.converted == [p.id] and after.outcome == "won" and after.patient_id is not None
    elif expected == UNCERTAIN:
        assert row.review == [p.id] and row.converted == []
        assert after.outcome == "open" and after.patient_id is None
        assert PatientMatch.get().state == "open"
    else:
        assert row.outcome == "unmatched" and after.outcome == "open"
        assert not PatientMatch.select().exists()


def test_one_patient_matching_two_prospects_goes_to_review(ctx):
    """The same person entered twice as a prospect: neither is converted by itself."""
    a = make_prospect("Ndèye", "Ndiaye", MOTHER, None, None)
    b = make_prospect("Ndeye", "N'Diaye", None, None, D(1990, 3, 2))
    result = reconcile.apply("dossiers", [PatientRecord("X1", "Ndeye", "Ndiaye", ("77 123 45 67",),
                                                        None, D(1990, 3, 2))], now=NOW)
    assert result.converted == 0 and sorted(result.rows[0].review) == sorted([a.id, b.id])
    assert all("several_prospects" in m.reasons for m in PatientMatch.select())
    assert Prospect.select().where(Prospect.outcome == "won").count() == 0


def test_two_patients_certain_for_one_prospect_go_to_review(ctx):
    """Two records of the patient system for one person (or a homonym sharing the phone): review."""
    p = make_prospect("Awa", "Sow", MOTHER, None, None)
    result = reconcile.apply("dossiers", [PatientRecord("X1", "Awa", "Sow", ("771234567",)),
                                          PatientRecord("X2", "Awa", "Sow", ("+221771234567",))], now=NOW)
    assert result.converted == 0 and result.to_review == 2
    assert Prospect.get_by_id(p.id).outcome == "open"


def test_a_patient_already_converted_does_not_convert_a_second_prospect_by_itself(ctx):
    make_prospect("Awa", "Sow", MOTHER, None, None)
    reconcile.apply("dossiers", [PatientRecord("X1", "Awa", "Sow", ("771234567",))], now=NOW)
    second = make_prospect("Awa", "Sow", None, "awa.sow@example.sn", None)
    result = reconcile.apply("dossiers", [PatientRecord("X1", "Awa", "Sow", ("771234567",),
                                                        "awa.sow@example.sn")], now=NOW)
    assert result.rows[0].review == [second.id] and result.converted == 0


def test_a_prospect_waiting_in_review_is_not_converted_by_another_patient(ctx):
    p = make_prospect("Awa", "Diallo", MOTHER, None, None)
    reconcile.apply("dossiers", [PatientRecord("C1", "Fatou", "Diallo", ("771234567",))], now=NOW)
    result = reconcile.apply("dossiers", [PatientRecord("C2", "Awa", "Diallo", ("771234567",))], now=NOW)
    assert result.converted == 0 and result.rows[0].review == [p.id]


def test_settle_downgrades_several_certain_matches():
    certain = Verdict(CERTAIN, ("phone", "name"))
    settled = settle({(1, 10): certain, (1, 11): certain, (2, 12): certain, (3, 12): Verdict(NONE),
                      (4, 13): Verdict(UNCERTAIN, ("name_variant",))})
    assert settled[(1, 10)].verdict == settled[(1, 11)].verdict == UNCERTAIN
    assert "several_prospects" in settled[(1, 10)].reasons
    assert settled[(2, 12)].verdict == CERTAIN
    assert (3, 12) not in settled and settled[(4, 13)].verdict == UNCERTAIN


@pytest.mark.parametrize("a, b, same", [
    ("Ndiaye", "Njaay", True), ("N'Diaye", "Njaay", True), ("Diop", "Jóob", True), ("Diallo", "Jallo", True),
    ("Mbaye", "Mbay", True), ("Seck", "Sek", True), ("Thiam", "Tiam", True), ("Mamadou", "Mamadu", True),
    ("Sène", "Sané", False), ("Gueye", "Gaye", False), ("Ba", "Ka", False), ("Fall", "Faye", False),
    ("Thiam", "Thiaw", False), ("Ndour", "Ndiaye", False), ("Sow", "Sy", False),
])
def test_spelling_variants_are_one_form_and_families_stay_apart(a, b, same):
    assert (matching.variant_key(a) == matching.variant_key(b)) is same


@pytest.mark.parametrize("first, last, key", [
    ("Ndèye", "N'Diaye", "ndeye ndiaye"), ("N'DIAYE", "ndeye", "ndeye ndiaye"),
    ("Mame-Diarra", "Sow", "mamediarra sow"), ("", "Faye", "faye"),
])
def test_the_name_block_key_is_folded_and_order_free(first, last, key):
    assert matching.name_block_key(first, last) == key


@pytest.mark.parametrize("raw", [
    "77 123 45 67", "771234567", "+221 77 123 45 67", "00221771234567", "221771234567", "+221-77-123-45-67",
    "(+221) 77.123.45.67", "78 000 00 01", "76 555 44 33", "70 123 45 67", "75 012 34 56", "33 821 45 67",
    "+33 6 12 34 56 78", "0033612345678", "06 12 34 56 78", "12345", "", "77 123 45", "not a phone",
    "77\u00a0123\u00a045\u00a067", "77/123/45/67", "77 \u0661\u0662\u0663 45 67", "+221 77 \u0661\u0662\u0663 45 67",
])
def test_the_fast_path_gives_what_phonenumbers_gives(raw):
    expected = normalise_phone(raw, "SN").e164
    if expected is None and raw.replace(" ", "").isdigit() and raw.startswith("221"):
        expected = "+" + raw   # Excel's 00-less international form
    assert matching.phone_e164(raw, "SN") == expected


def test_the_fast_path_agrees_with_phonenumbers_on_every_mobile_prefix():
    for prefix in range(700, 800):
        number = f"{prefix}{1234567 % 10 ** 6:06d}"
        parsed = phonenumbers.parse(number, "SN")
        expected = (phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                    if phonenumbers.is_valid_number(parsed) else None)
        assert matching.phone_e164(number, "SN") == expected, number
