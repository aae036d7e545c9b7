"""Phone numbers in any written form become E.164; what cannot be read is kept and flagged."""
import pytest

from webapp.rules.phones import display_phone, looks_like_phone, normalise_phone

SN_FORMS = ["77 123 45 67", "771234567", "+221 77 123 45 67", "+221 77-123-45-67", "00221771234567",
            "00221 77 123 45 67", "(+221) 77.123.45.67", "+221771234567", " 77 123 45 67 "]


@pytest.mark.parametrize("written", SN_FORMS)
def test_senegalese_mobile_in_any_written_form_becomes_e164(written):
    assert normalise_phone(written, "SN").e164 == "+221771234567"


@pytest.mark.parametrize("written, expected", [
    ("33 821 00 00", "+221338210000"),          # Dakar landline
    ("+33 6 12 34 56 78", "+33612345678"),      # a French mobile written internationally
    ("0033612345678", "+33612345678"),
    ("+1 202 555 0143", "+12025550143"),        # any country, when written with its code
])
def test_other_numbers_parse_in_their_own_country(written, expected):
    assert normalise_phone(written, "SN").e164 == expected


@pytest.mark.parametrize("written", ["77 12", "06 12 34 56 78", "abc", "123456789012345678"])
def test_unreadable_number_is_kept_as_typed_and_flagged(written):
    phone = normalise_phone(written, "SN")
    assert phone.e164 is None and not phone.valid
    assert phone.raw == written


def test_empty_phone_is_neither_valid_nor_flagged_as_typed():
    assert normalise_phone("", "SN").raw == ""


def test_region_is_configuration_not_a_constant():
    assert normalise_phone("06 12 34 56 78", "FR").e164 == "+33612345678"


def test_national_numbers_are_displayed_in_national_format():
    assert display_phone("+221771234567", "SN") == "77 123 45 67"
    assert display_phone("+33612345678", "SN") == "+33 6 12 34 56 78"


@pytest.mark.parametrize("text, expected", [("77 123 45 67", True), ("+221771234567", True),
                                            ("Diop", False), ("Awa 77", False)])
def test_search_text_is_read_as_a_phone_when_mostly_digits(text, expected):
    assert looks_like_phone(text) is expected
